import { execFile, execFileSync, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { call, eventually } from "../../src/local/tools/client";
import { AGENT_KEY_HEADER } from "../../src/core/vantage";
import { backendPair } from "../helpers/backends";
import { storageConnectionString, testEnv } from "../helpers/env";

const ROOT = join(__dirname, "..", "..");
const KEY = "local-agent-key-0123456789";

/**
 * Vantage agents as real processes (the agent Function on a local host each, as each is its
 * own Function app in Azure), judging with the controller's loop on the local host.
 */
describe("vantage agents in processes of their own, with the orchestration on the local host", () => {
  const backends = backendPair();
  let build: string;
  const agents: ChildProcessWithoutNullStreams[] = [];
  let host: LocalHost | undefined;

  beforeAll(() => {
    // Compiled inside the project so the entry point finds node_modules, as dist/ does.
    build = mkdtempSync(join(ROOT, ".test-build-"));
    execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.json"), "--outDir", build, "--sourceMap", "false"], { stdio: "pipe" });
  }, 120_000);
  afterEach(async () => {
    await host?.stop();
    host = undefined;
    for (const child of agents.splice(0)) {
      child.kill("SIGCONT");
      child.kill("SIGTERM");
    }
  });
  afterAll(() => rmSync(build, { recursive: true, force: true }));

  /** Starts `node agent.js` and waits for the line that says where it answers. */
  async function startAgent(name: string, table: string, args: string[] = []): Promise<{ child: ChildProcessWithoutNullStreams; url: string }> {
    const child = spawn(process.execPath, [join(build, "local", "tools", "agent.js"), "--name", name, "--region", name, "--key", KEY, "--state-storage", storageConnectionString(), ...args], {
      env: { PATH: process.env.PATH ?? "", FAILOVER_TABLE: table },
    });
    agents.push(child);
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const line = await eventually(`agent ${name} to start`, async () => output.split("\n").find((l) => l.startsWith("{")), 20_000);
    return { child, url: (JSON.parse(line) as { url: string }).url };
  }

  test("a partitioned vantage causes no failover; two of three seeing the primary down do, while the third hangs; an agent refuses an unregistered URL and an unauthenticated caller", async () => {
    const env = testEnv({ PRIMARY_ENDPOINT: backends.primary.url, SECONDARY_ENDPOINT: backends.secondary.url, CHECK_INTERVAL_SECONDS: "1", FAILURE_THRESHOLD: "2", PROBE_TIMEOUT_MS: "500" });
    const west = await startAgent("westeurope", env.FAILOVER_TABLE, ["--partition", new URL(backends.primary.url).host]);
    const east = await startAgent("eastus", env.FAILOVER_TABLE);
    host = await startLocalHost({
      env: {
        ...env,
        VANTAGE_AGENT_KEY: KEY,
        VANTAGE_AGENTS: JSON.stringify([
          { name: "westeurope", url: west.url, region: "westeurope" },
          { name: "eastus", url: east.url, region: "eastus" },
        ]),
      },
      timers: false,
    });
    const api = (method: string, path: string, body?: unknown) => call(host!.url, method, path, body);
    await api("POST", "/api/init");
    await api("POST", "/api/start");

    // The west vantage cannot reach the primary: its vote says so, and it is outvoted.
    const seen = await eventually("three checks outvoting the partitioned vantage", async () => {
      const state = (await api("GET", "/api/status")).body?.state;
      return state?.consecutive_successes >= 3 ? state : undefined;
    });
    expect(seen).toMatchObject({ active_target: "primary", failover_count: 0, consecutive_failures: 0, last_status: "OK" });
    expect(seen.last_votes.map((v: { vantage: string; healthy?: boolean; error_class?: string }) => [v.vantage, v.healthy, v.error_class])).toEqual([
      ["controller", true, undefined],
      ["westeurope", false, "network"],
      ["eastus", true, undefined],
    ]);
    const groups = (await api("GET", "/api/groups")).body.groups;
    expect(groups[0].endpoints.find((e: { active: boolean }) => e.active).votes).toHaveLength(3);

    // The east agent hangs (its process stopped: it accepts the connection, never answers) and the primary breaks.
    east.child.kill("SIGSTOP");
    backends.primary.behave({ kind: "status", status: 503 });
    const failover = await eventually(
      "the failover",
      async () => {
        const entries = (await api("GET", "/api/history")).body?.entries as { kind: string; reason: string }[] | undefined;
        return entries?.find((e) => e.kind === "failover");
      },
      30_000,
    );
    expect(failover.reason).toContain("votes: controller down (http_status), westeurope down (network), eastus no vote (agent_timeout)");
    const status = (await api("GET", "/api/status")).body.state;
    expect(status).toMatchObject({ active_target: "secondary", failover_count: 1 });
    // The hung agent cost each check one deadline (the probe timeout plus the margin), and the loop went on.
    const hung = status.last_votes.find((v: { vantage: string }) => v.vantage === "eastus");
    expect(hung).toMatchObject({ error_class: "agent_timeout", error: "no answer within 3500 ms" });
    expect((await api("GET", "/api/health_check")).status).toBe(200);
    east.child.kill("SIGCONT");

    // The agents serve the controller, for the controller's endpoints only.
    const ask = async (headers: Record<string, string>, url: string) => {
      const res = await fetch(west.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify({ url, timeout_ms: 500, expected_status: "200-299", max_body_bytes: 1024, follow_redirects: false }),
      });
      return { status: res.status, body: (await res.json()) as { error?: string; message?: string; healthy?: boolean } };
    };
    expect(await ask({ [AGENT_KEY_HEADER]: KEY }, backends.secondary.url)).toMatchObject({ status: 200, body: { healthy: true } });
    const unregistered = await ask({ [AGENT_KEY_HEADER]: KEY }, "http://127.0.0.1:9/anything");
    expect(unregistered.status).toBe(403);
    expect(unregistered.body.message).toMatch(/not an endpoint of any of the controller.s groups/);
    const anonymous = await ask({}, backends.secondary.url);
    expect(anonymous.status).toBe(403);
    expect(anonymous.body.message).toMatch(/x-vantage-key/);
  }, 120_000);

  test("npm run demo:vantages: a partitioned vantage outvoted, then region-a lost and traffic moved by a quorum of two, each step a PASS line", async () => {
    const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = execFile(process.execPath, [join(build, "local", "tools", "demoVantages.js")], { env: { PATH: process.env.PATH ?? "" }, timeout: 90_000 }, (_err, out) =>
        resolve({ code: child.exitCode, stdout: out }),
      );
    });
    expect(stdout).toMatch(/PASS 1 topology: ready/);
    expect(stdout).toMatch(/PASS 2 partitioned vantage outvoted: no failover after \d+ checks; votes: controller up, region-a up, region-b down \(network\)/);
    expect(stdout).toMatch(/PASS 4 failover by a quorum of two.*votes: controller down \(refused\), region-a no vote \(agent_unreachable\), region-b down \(network\)/);
    expect(stdout).toMatch(/DONE every step passed/);
    expect(code).toBe(0);
  }, 120_000);
});
