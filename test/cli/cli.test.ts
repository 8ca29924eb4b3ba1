import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { historyTable } from "../../src/cli/format";
import { runCli, type CliIo } from "../../src/cli/main";
import { freePort } from "../../src/local/services/azurite";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { eventually } from "../../src/local/tools/client";
import { backendPair } from "../helpers/backends";
import { testEnv } from "../helpers/env";

/** The CLI, run in-process against the app on the local host: every command, its exit code, text and --json. */

describe("failover CLI against the local host", () => {
  const backends = backendPair();
  let host: LocalHost;
  beforeAll(async () => {
    host = await startLocalHost({
      env: testEnv({ PRIMARY_ENDPOINT: backends.primary.url, SECONDARY_ENDPOINT: backends.secondary.url, CHECK_INTERVAL_SECONDS: "1", COOLDOWN_SECONDS: "600" }),
      timers: false,
    });
  });
  afterAll(() => host.stop());

  async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, { out: (s) => out.push(s), err: (s) => err.push(s), env: { FAILOVER_URL: host.url }, sleep: () => new Promise((r) => setTimeout(r, 50)) });
    return { code, out: out.join("\n"), err: err.join("\n") };
  }

  test("init creates groups (then leaves them untouched), start runs their loops, status shows them as a table and as JSON", async () => {
    expect(await cli("init")).toMatchObject({ code: 0, out: "state: created; active target primary" });
    const payments = await cli("init", "-g", "payments", "--primary", backends.primary.url, "--secondary", backends.secondary.url, "--set", "failure_threshold=2");
    expect(payments).toMatchObject({ code: 0, out: "payments: created; active target primary" });
    expect(await cli("init", "-g", "payments", "--primary", backends.secondary.url, "--secondary", backends.primary.url)).toMatchObject({
      code: 0,
      out: "payments: already exists, left untouched; active target primary",
    });
    expect((await cli("start")).out).toMatch(/^orchestration failover-state: status at http:\/\/127\.0\.0\.1:\d+\/api\/status\?group=state$/);
    expect((await cli("start", "--group", "payments")).code).toBe(0);
    await eventually("both loops checked", async () => {
      const s = JSON.parse((await cli("status", "--json")).out);
      return s.groups.every((g: { loop: { last_cycle_utc?: string } }) => g.loop.last_cycle_utc) ? true : undefined;
    });
    const table = await cli("status");
    expect(table.code).toBe(0);
    const lines = table.out.split("\n");
    expect(lines[0]).toMatch(/^GROUP\s+ACTIVE\s+STATUS\s+PRIMARY\s+SECONDARY\s+COOLDOWN\s+LOOP\s+PAUSE\/HOLD\s+TRAFFIC$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 4).join(" "))).toEqual(["payments PRIMARY OK up", "state PRIMARY OK up"]);
    // The traffic column is the overview's summary, the same line the console shows.
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/).at(-1))).toEqual(["no switch plan: row only", "no switch plan: row only"]);
    const json = JSON.parse((await cli("--json", "status", "-g", "payments")).out);
    expect(json.groups).toHaveLength(1);
    expect(json.groups[0]).toMatchObject({ group: "payments", active_target: "primary", policy: { failure_threshold: 2 }, loop: { runtime_status: "Running", stale: false } });
    expect(await cli("status", "-g", "nosuch")).toMatchObject({ code: 1, err: expect.stringContaining('no group named "nosuch" (groups: payments, state)') });
  });

  test("failover sends the active target as expected_from; a second one is refused by the cooldown with exit 2; failback too; history lists them", async () => {
    const done = await cli("failover", "--reason", "drill");
    expect(done).toMatchObject({ code: 0, out: "failover from primary: done; active target secondary" });
    const refused = await cli("--json", "failover", "--reason", "again");
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.out)).toMatchObject({ changed: false, reason: "cooldown_active", active_target: "secondary" });
    expect(await cli("failback", "--reason", "drill over")).toMatchObject({ code: 2, out: "failback: not done (cooldown_active)" });
    // An explicit --from that no longer holds changes nothing and is not a refusal.
    expect(await cli("failover", "--from", "primary", "--reason", "late retry")).toMatchObject({ code: 0, out: "failover from primary: not done (already_failed_over)" });
    expect(await cli("failback", "--force", "--reason", "break-glass drill")).toMatchObject({ code: 0, out: "failback: done; active target primary (forced, break-glass)" });
    const history = await cli("history", "--limit", "5");
    expect(history.code).toBe(0);
    expect(
      history.out
        .split("\n")
        .slice(1)
        .map((l) =>
          l
            .split(/\s{2,}/)
            .slice(1, 4)
            .join(" | "),
        ),
    ).toEqual(["failback (BREAK-GLASS) | secondary->primary | function key", "failover | primary->secondary | function key"]);
    const json = JSON.parse((await cli("history", "--json", "--limit", "1")).out);
    expect(json.entries).toHaveLength(1);
    expect(json.entries[0]).toMatchObject({ kind: "failback", forced: true, reason: "forced: break-glass drill" });
  });

  test("pause with --for and a reason, shown by status; resume; a pause in the past is a request error (exit 1)", async () => {
    const paused = await cli("pause", "-g", "payments", "--for", "30m", "--reason", "db upgrade");
    expect(paused.code).toBe(0);
    expect(paused.out).toMatch(/^pause: done; active target primary; paused until \d{4}-\d\d-\d\dT/);
    expect((await cli("status", "-g", "payments")).out.split("\n")[1]).toMatch(/paused by function key until \S+: db upgrade {2}no switch plan: row only$/);
    expect(await cli("resume", "-g", "payments", "--reason", "done")).toMatchObject({ code: 0, out: "resume: done; active target primary" });
    expect(await cli("resume", "-g", "payments", "--reason", "again")).toMatchObject({ code: 0, out: "resume: not done (nothing to change)" });
    const past = await cli("pause", "-g", "payments", "--until", "2020-01-01T00:00:00Z", "--reason", "x");
    expect(past).toMatchObject({ code: 1, err: expect.stringContaining("HTTP 400 invalid_request: until: 2020-01-01T00:00:00.000Z is not in the future") });
  });

  test("hold with --for and a reason, shown by status with its owner; release; a hold with no end or over 72h is refused", async () => {
    const held = await cli("hold", "-g", "payments", "--for", "8h", "--reason", "replica resync");
    expect(held.code).toBe(0);
    expect(held.out).toMatch(/^hold: done; active target primary; failback held by function key until \d{4}-\d\d-\d\dT\S+$/);
    expect((await cli("status", "-g", "payments")).out.split("\n")[1]).toMatch(/failback held by function key until \S+: replica resync {2}no switch plan: row only$/);
    expect(await cli("release", "-g", "payments", "--reason", "resynced")).toMatchObject({ code: 0, out: "release: done; active target primary; no failback hold" });
    expect(await cli("release", "-g", "payments", "--reason", "again")).toMatchObject({ code: 0, out: "release: not done (nothing to change)" });
    expect(await cli("hold", "-g", "payments", "--reason", "forever")).toMatchObject({ code: 1, err: expect.stringContaining("hold: give --until or --for: a hold always ends by itself") });
    expect(await cli("hold", "-g", "payments", "--for", "73h", "--reason", "long")).toMatchObject({ code: 1, err: expect.stringContaining("more than 72 hours away") });
  });

  test("watch refreshes --count times, as text or one JSON line per refresh", async () => {
    const text = await cli("watch", "--count", "2", "--interval", "1", "-g", "state");
    expect(text.code).toBe(0);
    expect(text.out.match(/^GROUP\s+ACTIVE/gm)).toHaveLength(2);
    const json = await cli("--json", "watch", "--count", "3", "--interval", "1");
    expect(json.out.split("\n").map((l) => JSON.parse(l).groups.length)).toEqual([2, 2, 2]);
  });

  test("approve reads the group's proposal and approves it; the loop fails over; no proposal, or another one, is an error", async () => {
    expect(await cli("reject", "-g", "payments", "--reason", "x")).toMatchObject({ code: 1, err: expect.stringContaining('reject: group "payments" has no switch proposal') });
    await cli(
      "init",
      "-g",
      "gated",
      "--primary",
      "http://127.0.0.1:9/dead",
      "--secondary",
      backends.secondary.url,
      "--set",
      "decision_mode=approval",
      "--set",
      "failure_threshold=1",
      "--set",
      "cooldown_seconds=0",
    );
    await cli("start", "-g", "gated");
    await eventually("the proposal", async () => (JSON.parse((await cli("--json", "status", "-g", "gated")).out).groups[0].proposal ? true : undefined), 15_000);
    expect(await cli("approve", "-g", "gated", "--proposal", "failover-0", "--reason", "x")).toMatchObject({
      code: 1,
      err: expect.stringContaining('HTTP 409 conflict: Group "gated": proposal failover-0 is not the group\'s proposal'),
    });
    const approved = await cli("approve", "-g", "gated", "--reason", "checked the database");
    expect(approved).toMatchObject({ code: 0, out: expect.stringMatching(/^approve: done; failover primary -> secondary proposed at \S+ \(failover-\w+\) is approved: the loop makes it now$/) });
    await eventually("the approved failover", async () => (JSON.parse((await cli("--json", "status", "-g", "gated")).out).groups[0].active_target === "secondary" ? true : undefined), 15_000);
  });

  test("errors exit 1 with a message: usage, a bad URL, an unreachable app, an unknown group", async () => {
    expect(await cli("pause", "-g", "state")).toMatchObject({ code: 1, err: expect.stringContaining("required option '--reason <text>' not specified") });
    expect(await cli("frobnicate")).toMatchObject({ code: 1, err: expect.stringContaining("unknown command 'frobnicate'") });
    expect(await cli("failover", "--from", "tertiary", "--reason", "x")).toMatchObject({ code: 1, err: expect.stringContaining("Allowed choices are primary, secondary") });
    expect(await cli("--url", "ftp://example", "status")).toMatchObject({ code: 1, err: 'failover: --url: must be http or https (got "ftp://example")' });
    const closed = await freePort();
    expect(await cli("--url", `http://127.0.0.1:${closed}`, "--timeout", "2", "status")).toMatchObject({
      code: 1,
      err: `failover: GET http://127.0.0.1:${closed}/api/groups: nothing listens there (connection refused): is the app running at http://127.0.0.1:${closed}/api? (--url or FAILOVER_URL)`,
    });
    expect(await cli("--url", "http://127.0.0.1:1", "status")).toMatchObject({
      code: 1,
      err: expect.stringContaining('port 1 is one that fetch never connects to (a "bad port"): use the app\'s port, such as 7071 (--url)'),
    });
    expect(await cli("failback", "-g", "nosuch", "--reason", "x")).toMatchObject({ code: 1, err: expect.stringContaining("HTTP 404 state_not_found") });
    expect(await cli("history", "-g", "bad group!")).toMatchObject({ code: 1, err: expect.stringContaining("HTTP 400 invalid_request: group:") });
    expect((await cli("--help")).code).toBe(0);
  });

  test("with --json a failure is a JSON object on stdout too (the error code, the message, the HTTP status), with a non-zero exit", async () => {
    const parse = (r: { code: number; out: string }) => ({ code: r.code, json: JSON.parse(r.out) as Record<string, unknown> });
    expect(parse(await cli("--json", "failback", "-g", "nosuch", "--reason", "x"))).toEqual({
      code: 1,
      json: { error: "state_not_found", status: 404, message: expect.stringContaining("HTTP 404 state_not_found") },
    });
    const closed = await freePort();
    expect(parse(await cli("--json", "--url", `http://127.0.0.1:${closed}`, "status"))).toEqual({ code: 1, json: { error: "unreachable", message: expect.stringContaining("connection refused") } });
    expect(parse(await cli("--json", "failover", "--from", "tertiary", "--reason", "x"))).toEqual({
      code: 1,
      json: { error: "usage", message: expect.stringContaining("Allowed choices are primary, secondary") },
    });
    expect(parse(await cli("--json", "--url", "ftp://example", "status"))).toEqual({ code: 1, json: { error: "cli_error", message: '--url: must be http or https (got "ftp://example")' } });
  });
});

test('"Operate it" (docs/operate.md) shows every CLI command', async () => {
  const out: string[] = [];
  expect(await runCli(["--help"], { out: (s) => out.push(s), err: () => undefined, env: {} })).toBe(0);
  const commands = [...out.join("\n").matchAll(/^ {2}([\w-]+) \[options\]/gm)].map((m) => m[1]);
  expect(commands).toEqual(["status", "watch", "history", "init", "start", "pause", "resume", "hold", "release", "approve", "reject", "failover", "failback", "retry-switch", "drill"]);
  const doc = readFileSync(join(__dirname, "..", "..", "docs", "operate.md"), "utf8");
  const section = doc.slice(0, doc.indexOf("## Running locally"));
  for (const command of commands) expect([command, section.includes(`failover ${command}`)]).toEqual([command, true]);
});

/** A stand-in for the app's HTTP front that answers GET /api/groups with no groups when `allow` lets the request in, else 401 with the headers it names. */
function stubApp(allow: (req: IncomingMessage) => { status: 200 } | { status: 401; headers?: Record<string, string> }): { base: () => string; seen: IncomingMessage["headers"][] } {
  let server: Server;
  const seen: IncomingMessage["headers"][] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ ...req.headers, url: req.url, method: req.method });
      const answer = allow(req);
      if (answer.status === 401) return void res.writeHead(401, answer.headers ?? {}).end();
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ now: "2026-01-01T00:00:00Z", groups: [] }));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { base: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

function capturedIo(): { out: string[]; err: string[]; io: (env: Record<string, string>) => CliIo } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: (env) => ({ out: (s) => out.push(s), err: (s) => err.push(s), env }) };
}

describe("failover CLI: key and URL", () => {
  // As the Functions host does with per-function keys: this key reads, and may not act.
  const app = stubApp((req) => (req.headers["x-functions-key"] === "k3y" && req.method === "GET" ? { status: 200 } : { status: 401 }));

  test("the key from FAILOVER_KEY (or --key) goes in x-functions-key; a base URL ending in /api/ is accepted; 401 says to check the key, and on an action that the key may only read", async () => {
    const base = app.base();
    const { out, err, io } = capturedIo();
    expect(await runCli(["status"], io({ FAILOVER_URL: `${base}/api/`, FAILOVER_KEY: "k3y" }))).toBe(0);
    expect(out.pop()).toMatch(/^no groups/);
    expect(await runCli(["--url", base, "--key", "wrong", "status"], io({}))).toBe(1);
    expect(err.pop()).toContain("HTTP 401 (is the function key right? --key or FAILOVER_KEY)");
    expect(await runCli(["--url", base, "--key", "k3y", "pause", "--reason", "drill"], io({}))).toBe(1);
    expect(err.pop()).toContain("HTTP 401 (this key may only read, or it is wrong: control routes need a key of their functions; --key or FAILOVER_KEY)");
    expect(app.seen.map((h) => ({ url: h.url, key: h["x-functions-key"] }))).toEqual([
      { url: "/api/groups", key: "k3y" },
      { url: "/api/groups", key: "wrong" },
      { url: "/api/pause", key: "k3y" },
    ]);
  });
});

describe("failover CLI: Entra ID bearer token", () => {
  // As App Service Authentication does in front of the app: no valid token, 401 with a Bearer challenge; then the function key.
  const app = stubApp((req) =>
    req.headers.authorization !== "Bearer eyJ0eXAi.eyJhdWQi.c2ln"
      ? { status: 401, headers: { "www-authenticate": 'Bearer realm="app.example"' } }
      : req.headers["x-functions-key"] === "k3y"
        ? { status: 200 }
        : { status: 401 },
  );

  test("the token from FAILOVER_TOKEN (or --token) goes in Authorization as a bearer token; a refusal says which of token and key to check, and never prints them", async () => {
    const base = app.base();
    const { out, err, io } = capturedIo();
    expect(await runCli(["status"], io({ FAILOVER_URL: base, FAILOVER_KEY: "k3y", FAILOVER_TOKEN: "eyJ0eXAi.eyJhdWQi.c2ln" }))).toBe(0);
    expect(out.pop()).toMatch(/^no groups/);
    expect(await runCli(["--url", base, "--key", "k3y", "status"], io({}))).toBe(1);
    expect(err.pop()).toContain("HTTP 401 (the app has Entra ID on and wants a bearer token: --token or FAILOVER_TOKEN)");
    expect(await runCli(["--url", base, "--key", "k3y", "--token", "eyJ0eXAi.expired.c2ln", "status"], io({}))).toBe(1);
    expect(err.at(-1)).toContain("refused this one: expired, or for another audience?");
    expect(await runCli(["--url", base, "--key", "wr0ng", "--token", "eyJ0eXAi.eyJhdWQi.c2ln", "status"], io({}))).toBe(1);
    expect(err.at(-1)).toContain("HTTP 401 (is the function key right? --key or FAILOVER_KEY)");
    // A token that would break the header is refused before any request.
    const requests = app.seen.length;
    expect(await runCli(["--url", base, "--token", "abc\r\nx-evil: 1", "status"], io({}))).toBe(1);
    expect(err.pop()).toContain("--token: not a bearer token");
    expect(app.seen.length).toBe(requests);
    expect(app.seen.slice(0, 4).map((h) => h.authorization)).toEqual(["Bearer eyJ0eXAi.eyJhdWQi.c2ln", undefined, "Bearer eyJ0eXAi.expired.c2ln", "Bearer eyJ0eXAi.eyJhdWQi.c2ln"]);
    for (const line of [...out, ...err]) expect(line).not.toMatch(/eyJ0eXAi|k3y|wr0ng/);
  });

  test("--help says where the key and token came from, never what they are", async () => {
    const out: string[] = [];
    await runCli(["--help"], { out: (s) => out.push(s), err: (s) => out.push(s), env: { FAILOVER_KEY: "k3y-secret", FAILOVER_TOKEN: "eyJ0eXAi.secret" } });
    const help = out.join("\n");
    expect(help).toContain("from FAILOVER_KEY");
    expect(help).toContain("from FAILOVER_TOKEN");
    expect(help).not.toMatch(/k3y-secret|eyJ0eXAi/);
  });
});

test("history shows when a notification was delivered, on entries that record it", () => {
  const entry = { at: "2026-01-01T12:00:00.000Z", kind: "failover", from: "primary", to: "secondary", reason: "3 failed checks", actor: "orchestrator", forced: false };
  expect(
    historyTable([
      { ...entry, notification_status: "delivered", notified_utc: "2026-01-01T12:00:01.500Z" },
      { ...entry, notification_status: "pending" },
    ])
      .split("\n")
      .map((l) => l.split(/\s{2,}/)[4]),
  ).toEqual(["NOTIFIED", "delivered 2026-01-01T12:00:01.500Z", "pending"]);
});
