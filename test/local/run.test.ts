import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/local/services/azurite";
import { call, eventually } from "../../src/local/tools/client";
import { backendPair } from "../helpers/backends";

/**
 * npm run local as a user runs it: the compiled entry point in its own process, Azurite
 * persisted in a folder, stopped with Ctrl-C (SIGINT) or SIGTERM, started again on the same folder.
 */

const ROOT = join(__dirname, "..", "..");

describe("npm run local", () => {
  const backends = backendPair();
  let build: string;
  let work: string;
  beforeAll(() => {
    // Compiled inside the project so the entry point finds node_modules, as dist/ does.
    build = mkdtempSync(join(ROOT, ".test-build-"));
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.json"), "--outDir", build, "--sourceMap", "false"], { stdio: "pipe" });
    work = mkdtempSync(join(tmpdir(), "local-run-"));
  }, 120_000);
  afterAll(() => {
    rmSync(build, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  interface Running {
    readonly child: ChildProcessWithoutNullStreams;
    readonly url: string;
    output(): string;
  }

  async function start(args: string[]): Promise<Running> {
    const child = spawn(process.execPath, [join(build, "local", "tools", "run.js"), "--data", join(work, "data"), ...args], {
      cwd: work,
      env: { PATH: process.env.PATH ?? "", CHECK_INTERVAL_SECONDS: "1", PROBE_TIMEOUT_MS: "1000" },
    });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString()));
    child.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const url = await eventually(
      "the console URL",
      async () => {
        if (child.exitCode !== null) throw new Error(`exited ${child.exitCode}:\n${output}`);
        return /console: (http:\/\/127\.0\.0\.1:\d+)\/api\/console/.exec(output)?.[1];
      },
      30_000,
    );
    return { child, url, output: () => output };
  }

  function childrenOf(pid: number): number[] {
    const out = execFileSync("ps", ["-o", "pid=", "--ppid", String(pid)], { encoding: "utf8" }).trim();
    return out === "" ? [] : out.split(/\s+/).map(Number);
  }

  function alive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  async function stop(run: Running, signal: NodeJS.Signals): Promise<void> {
    const children = childrenOf(run.child.pid!);
    expect(children.length).toBeGreaterThan(0); // Azurite
    const exited = new Promise<number | null>((resolve) => run.child.once("exit", (code) => resolve(code)));
    run.child.kill(signal);
    expect(await exited).toBe(0);
    expect(run.output()).toContain(`${signal}: stopping the app and Azurite`);
    expect(children.filter(alive)).toEqual([]);
  }

  test("starts from local.settings.json, checks the group, keeps the row across a restart, and stops without orphans", async () => {
    const port = await freePort();
    writeFileSync(
      join(work, "local.settings.json"),
      JSON.stringify({
        IsEncrypted: false,
        Values: { AzureWebJobsStorage: "UseDevelopmentStorage=true", PRIMARY_ENDPOINT: backends.primary.url, SECONDARY_ENDPOINT: backends.secondary.url, COOLDOWN_SECONDS: "600" },
      }),
    );
    const first = await start(["--port", String(port)]);
    expect(first.url).toBe(`http://127.0.0.1:${port}`);
    expect(first.output()).toMatch(/loops: failover-state Running/);
    const checked = await eventually("a check of the default group", async () => {
      const s = await call(first.url, "GET", "/api/status");
      return s.body?.state?.last_check_utc ? s.body : undefined;
    });
    expect(checked.state).toMatchObject({ active_target: "primary", primary_endpoint: backends.primary.url });
    expect((await call(first.url, "POST", "/api/do_failover", { reason: "before restart" })).body).toMatchObject({ changed: true, active_target: "secondary" });
    // The same metrics as in Azure, scraped where it says.
    expect(first.output()).toContain(`metrics: ${first.url}/metrics (OpenTelemetry, Prometheus format)`);
    const scraped = await (await fetch(`${first.url}/metrics`)).text();
    expect(scraped).toMatch(/^failover_switches_total\{[^}]*failover_switch_trigger="manual"[^}]*\} 1\b/m);
    await stop(first, "SIGINT");

    // Flags name other endpoints, but the row exists: it is kept as it was, and its loop runs again.
    const second = await start(["--port", String(port), "--primary", backends.secondary.url, "--secondary", backends.primary.url]);
    const again = await eventually("the loop running again", async () => {
      const s = await call(second.url, "GET", "/api/groups");
      return s.body?.groups?.[0]?.loop?.runtime_status === "Running" ? s.body.groups[0] : undefined;
    });
    expect(again).toMatchObject({ group: "state", active_target: "secondary", failover_count: 1, cooldown: { remaining_seconds: expect.any(Number) } });
    expect(again.endpoints.map((e: { url: string }) => e.url)).toEqual([backends.primary.url, backends.secondary.url]);
    const history = await call(second.url, "GET", "/api/history");
    expect(history.body.entries.map((e: { kind: string; reason: string }) => `${e.kind}: ${e.reason}`)).toEqual(["failover: before restart"]);
    await stop(second, "SIGTERM");
  }, 120_000);

  test("a bad flag or a port in use is a clear error (exit 1), and nothing is left running", async () => {
    const bad = spawn(process.execPath, [join(build, "local", "tools", "run.js"), "--primary", "not-a-url", "--secondary", backends.secondary.url], { cwd: work });
    let err = "";
    bad.stderr.on("data", (c: Buffer) => (err += c.toString()));
    expect(await new Promise((resolve) => bad.once("exit", resolve))).toBe(1);
    expect(err).toContain(`option '--primary <url>' argument 'not-a-url' is invalid. not an http(s) URL: "not-a-url"`);

    const first = await start(["--port", "0"]);
    const taken = Number(new URL(first.url).port);
    const clash = spawn(process.execPath, [join(build, "local", "tools", "run.js"), "--port", String(taken), "--data", join(work, "data2")], { cwd: work });
    let clashOut = "";
    clash.stderr.on("data", (c: Buffer) => (clashOut += c.toString()));
    clash.stdout.on("data", (c: Buffer) => (clashOut += c.toString()));
    const pids: number[] = [];
    const poll = setInterval(() => {
      try {
        pids.push(...childrenOf(clash.pid!));
      } catch {
        /* the process has exited */
      }
    }, 100);
    const code = await new Promise((resolve) => clash.once("exit", resolve));
    clearInterval(poll);
    expect(code).toBe(1);
    expect(clashOut).toContain(`the local host cannot listen on 127.0.0.1:${taken}: listen EADDRINUSE`);
    expect([...new Set(pids)].filter(alive)).toEqual([]);
    await stop(first, "SIGINT");
  }, 60_000);

  /** Waits until none of the pids is alive; answers the ones still alive after `ms`. */
  async function gone(pids: number[], ms = 20_000): Promise<number[]> {
    const until = Date.now() + ms;
    while (Date.now() < until && pids.some(alive)) await new Promise((r) => setTimeout(r, 100));
    return pids.filter(alive);
  }

  test("one run per data folder: a second start on it says which run holds it, in one line, and leaves nothing running", async () => {
    const data = join(work, "locked");
    const first = await start(["--port", "0", "--data", data]);
    const second = spawn(process.execPath, [join(build, "local", "tools", "run.js"), "--port", "0", "--data", data], { cwd: work });
    let err = "";
    second.stderr.on("data", (c: Buffer) => (err += c.toString()));
    expect(await new Promise((resolve) => second.once("exit", resolve))).toBe(1);
    const lines = err.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      `npm run local: the data folder ${data} is in use by another run (pid ${first.child.pid}, app at ${first.url}): stop it (kill ${first.child.pid}) or pass --data <another folder>`,
    );
    await stop(first, "SIGINT");
  }, 60_000);

  test("killed with SIGKILL, the run leaves no Azurite behind, and the next start takes its folder over with the rows kept", async () => {
    const data = join(work, "killed");
    const first = await start(["--port", "0", "--data", data, "--primary", backends.primary.url, "--secondary", backends.secondary.url]);
    expect((await call(first.url, "POST", "/api/do_failover", { reason: "before the kill" })).body).toMatchObject({ changed: true });
    const azurite = childrenOf(first.child.pid!);
    expect(azurite.length).toBeGreaterThan(0);
    first.child.kill("SIGKILL");
    expect(await gone(azurite)).toEqual([]);
    const second = await start(["--port", "0", "--data", data]);
    const row = await eventually("the row", async () => (await call(second.url, "GET", "/api/status")).body?.state);
    expect(row).toMatchObject({ active_target: "secondary", failover_count: 1 });
    await stop(second, "SIGTERM");
  }, 90_000);

  test("when the process that started it is killed (npm, here a node parent), the run stops itself and its Azurite", async () => {
    const data = join(work, "orphaned");
    const script = `const c = require("node:child_process").spawn(process.execPath, ${JSON.stringify([join(build, "local", "tools", "run.js"), "--port", "0", "--data", data])}, { stdio: "inherit" }); console.log("child " + c.pid);`;
    const parent = spawn(process.execPath, ["-e", script], { cwd: work, env: { PATH: process.env.PATH ?? "", CHECK_INTERVAL_SECONDS: "1" } });
    let output = "";
    parent.stdout.on("data", (c: Buffer) => (output += c.toString()));
    const runPid = await eventually("the run's pid", async () => Number(/child (\d+)/.exec(output)?.[1]) || undefined);
    await eventually("the run serving", async () => (/Ctrl-C stops everything/.test(output) ? true : undefined), 30_000);
    const azurite = childrenOf(runPid);
    expect(azurite.length).toBeGreaterThan(0);
    parent.kill("SIGKILL");
    expect(await gone([runPid, ...azurite])).toEqual([]);
    expect(output).toContain("the process that started this run is gone: stopping the app and Azurite");
  }, 60_000);
});
