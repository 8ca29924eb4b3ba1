import { TableClient } from "@azure/data-tables";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PARTITION_KEY } from "../../src/core/state";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { startSampleBackend, type SampleBackend } from "../../src/local/services/sampleBackend";
import { storageConnectionString, testEnv } from "../helpers/env";
import { call, eventually } from "../../src/local/tools/client";

describe("the app on the local host (real HTTP, real durable client, Azurite)", () => {
  let primary: SampleBackend;
  let secondary: SampleBackend;
  let host: LocalHost;
  let table: TableClient;
  let messages: string[];

  beforeEach(async () => {
    primary = await startSampleBackend("primary");
    secondary = await startSampleBackend("secondary");
    messages = [];
    const env = testEnv({ PRIMARY_ENDPOINT: primary.url, SECONDARY_ENDPOINT: secondary.url, CHECK_INTERVAL_SECONDS: "1", FAILURE_THRESHOLD: "2", COOLDOWN_SECONDS: "600" });
    table = TableClient.fromConnectionString(storageConnectionString(), env.FAILOVER_TABLE, { allowInsecureConnection: true });
    host = await startLocalHost({ env, timers: false, log: (m) => messages.push(m) });
  });
  afterEach(async () => {
    await host.stop();
    await primary.close();
    await secondary.close();
  });

  const api = (method: string, path: string, body?: unknown) => call(host.url, method, path, body);

  test("init is idempotent; start is idempotent and answers with the app's own status route, never a Durable system key (finding 3)", async () => {
    expect((await api("POST", "/api/init")).status).toBe(201);
    const again = await api("POST", "/api/init");
    expect(again).toMatchObject({ status: 200, body: { created: false, group: "state" } });

    const response = await fetch(`${host.url}/api/start`, { method: "POST" });
    const text = await response.text();
    expect(response.status).toBe(202);
    // Nothing of the Durable extension's HTTP API (and so no system key) is handed out.
    expect(text).not.toMatch(/runtime\/webhooks|code=|terminatePostUri|purgeHistoryDeleteUri|sendEventPostUri|suspendPostUri/);
    const started = JSON.parse(text);
    expect(started).toMatchObject({ id: "failover-state", group: "state", started: true, statusQueryGetUri: `${host.url}/api/status?group=state` });
    expect(response.headers.get("location")).toBe(`${host.url}/api/status?group=state`);

    await eventually("a second cycle", async () => ((host.taskHub.stats("failover-state")?.executions ?? 0) >= 2 ? true : undefined));
    const second = await api("POST", "/api/start");
    expect(second).toMatchObject({ status: 202, body: { started: false, runtime_status: "Running" } });
    const status = await call(second.body.statusQueryGetUri, "GET", "");
    expect(status.body.orchestration.runtime_status).toBe("Running");
    expect(host.taskHub.stats("failover-state")).toMatchObject({ starts: 1, executions: expect.any(Number) });
    expect(host.taskHub.stats("failover-state")!.executions).toBeGreaterThanOrEqual(2);
    // Loop liveness instead: the last cycle and the next check, from the custom status.
    const live = status.body.orchestration;
    expect(Date.parse(live.next_check_utc)).toBeGreaterThan(Date.parse(live.last_cycle_utc));
    expect(live.created_time).toBeUndefined();
  });

  test("start and the watchdog racing for a missing instance: every answer a success, exactly one instance started", async () => {
    await api("POST", "/api/init");
    const answers = await Promise.all([
      ...Array.from({ length: 6 }, () => api("POST", "/api/start")),
      host.runTimer("watchdog").then(() => ({ status: 202 })),
      host.runTimer("watchdog").then(() => ({ status: 202 })),
    ]);
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(202));
    expect(host.taskHub.stats("failover-state")).toMatchObject({ starts: 1 });
    expect(messages.filter((m) => /watchdog could not|failed/.test(m))).toEqual([]);
  });

  test("the durable HTTP API refuses to start a running instance, as the extension does (500)", async () => {
    await api("POST", "/api/init");
    await api("POST", "/api/start");
    const again = await call(host.url, "POST", "/runtime/webhooks/durabletask/orchestrators/failover_orchestrator/failover-state", { group: "state", interval_seconds: 1 });
    expect(again.status).toBe(500);
    expect(JSON.stringify(again.body)).toContain("An Orchestration instance with the status Running already exists.");
    expect(host.taskHub.stats("failover-state")).toMatchObject({ starts: 1 });
  });

  test("the status endpoint combines the row and the orchestration; the loop keeps one execution's history bounded", async () => {
    await api("POST", "/api/init");
    await api("POST", "/api/start");
    // The first episode of each execution (after continueAsNew) has no custom status yet: wait for a read that has one.
    const status = await eventually("three cycles", async () => {
      const s = await api("GET", "/api/status");
      return s.body?.state?.consecutive_successes >= 3 && s.body?.orchestration?.custom_status ? s : undefined;
    });
    expect(status.body).toMatchObject({
      group: "state",
      state: { active_target: "primary", last_status: "OK", failover_count: 0 },
      orchestration: { instance_id: "failover-state", runtime_status: "Running", custom_status: { healthy: true, active_target: "primary" } },
    });
    const stats = host.taskHub.stats("failover-state")!;
    expect(stats.executions).toBeGreaterThanOrEqual(3);
    // continueAsNew every cycle: the longest history of any execution is one cycle's worth of events.
    expect(stats.longestHistory).toBeLessThanOrEqual(16);
  });

  test("automatic failover after the threshold; an immediate do_failover is refused with cooldown_active", async () => {
    await api("POST", "/api/init");
    await api("POST", "/api/start");
    primary.behave({ kind: "status", status: 503 });
    const switched = await eventually("the failover", async () => {
      const s = await api("GET", "/api/status");
      return s.body?.state?.active_target === "secondary" ? s : undefined;
    });
    expect(switched.body.state).toMatchObject({ failover_count: 1, last_status: "FAILOVER_DONE" });
    expect(switched.body.state.lock_until_utc).toBeDefined();

    const refused = await api("POST", "/api/do_failover");
    expect(refused).toMatchObject({ status: 200, body: { changed: false, reason: "cooldown_active", active_target: "secondary" } });

    const history = await api("GET", "/api/history?limit=5");
    expect(history.body.entries[0]).toMatchObject({ kind: "failover", from: "primary", to: "secondary", actor: "orchestrator", notification_status: "not_configured" });
  });

  test("a control action wakes the orchestration at once instead of at the next timer", async () => {
    await host.stop();
    host = await startLocalHost({ env: testEnv({ PRIMARY_ENDPOINT: primary.url, SECONDARY_ENDPOINT: secondary.url, CHECK_INTERVAL_SECONDS: "3600" }), timers: false });
    await api("POST", "/api/init");
    await api("POST", "/api/start");
    const first = await eventually("the first cycle", async () => {
      const state = (await api("GET", "/api/status")).body?.state;
      return state?.consecutive_successes === 1 ? state : undefined;
    });
    const paused = await api("POST", "/api/pause", { reason: "maintenance window" });
    expect(paused).toMatchObject({ status: 200, body: { changed: true, paused: true } });
    // The hour-long timer was cancelled by the wake event: a second check runs within seconds.
    // It is recorded, but not counted: counted checks stay one interval apart.
    const woken = await eventually(
      "a woken check",
      async () => {
        const state = (await api("GET", "/api/status")).body?.state;
        return state?.last_check_utc !== first.last_check_utc ? state : undefined;
      },
      5000,
    );
    expect(woken.consecutive_successes).toBe(1);
  });

  test("the watchdog creates the row and starts a missing or terminated orchestration, and leaves a running one alone", async () => {
    await host.runTimer("watchdog");
    await eventually("the watchdog's start", async () => (host.taskHub.status("failover-state")?.runtimeStatus === "Running" ? true : undefined));
    await host.runTimer("watchdog");
    expect(host.taskHub.stats("failover-state")).toMatchObject({ starts: 1 });

    host.taskHub.terminate("failover-state", "operator error");
    expect(host.taskHub.status("failover-state")!.runtimeStatus).toBe("Terminated");
    await host.runTimer("watchdog");
    expect(host.taskHub.status("failover-state")!.runtimeStatus).not.toBe("Terminated");
    expect(host.taskHub.stats("failover-state")).toMatchObject({ starts: 2 });
  });

  test("a malformed default row does not stop the watchdog from starting the other groups", async () => {
    await api("POST", "/api/init");
    await api("POST", "/api/init", { group: "other", primary_endpoint: primary.url, secondary_endpoint: secondary.url, failure_threshold: "2", probe_expected_status: "200-299, 301" });
    const row = await table.getEntity(PARTITION_KEY, "state");
    await table.updateEntity({ partitionKey: PARTITION_KEY, rowKey: "state", active_target: "tertiary" }, "Merge", { etag: row.etag });
    await host.runTimer("watchdog");
    await eventually("the other group's orchestration", async () => (host.taskHub.status("failover-other")?.runtimeStatus === "Running" ? true : undefined));
    expect(messages.join("\n")).toMatch(/watchdog could not ensure the default group "state": Malformed state row/);
    // Overrides given to init are stored as the row stores them: parsed, not as sent.
    const other = await table.getEntity<Record<string, unknown>>(PARTITION_KEY, "other");
    expect(other).toMatchObject({ failure_threshold: 2, probe_expected_status: "200-299,301" });
  });

  test("a malformed row: the loop records CHECK_ERROR and keeps running", async () => {
    await api("POST", "/api/init");
    const row = await table.getEntity(PARTITION_KEY, "state");
    await table.updateEntity({ partitionKey: PARTITION_KEY, rowKey: "state", failover_count: "abc" }, "Merge", { etag: row.etag });
    await api("POST", "/api/start");
    const after = await eventually("the recorded error", async () => {
      const r = await table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state");
      return r.last_status === "CHECK_ERROR" ? r : undefined;
    });
    expect(after.last_error).toMatch(/failover_count: must be an integer \(got "abc"\)/);
    expect(after.failover_count).toBe("abc"); // nothing rewritten over the bad value
    await eventually("another cycle", async () => ((host.taskHub.stats("failover-state")?.executions ?? 0) >= 3 ? true : undefined));
    expect(host.taskHub.status("failover-state")!.runtimeStatus).toBe("Running");
    const status = await api("GET", "/api/status");
    expect(status).toMatchObject({ status: 500, body: { error: "malformed_state", message: expect.stringContaining("failover_count") } });
  });

  test.each([
    ["POST", "/api/do_failover", "{not json", 400, /body: not valid JSON/],
    ["POST", "/api/do_failover", { force: "yes" }, 400, /force: must be true or false/],
    ["POST", "/api/do_failover", { expected_from: "tertiary" }, 400, /expected_from: must be primary or secondary/],
    ["POST", "/api/do_failover", { surprise: 1 }, 400, /surprise: unknown field/],
    ["POST", "/api/do_failover", { force: true }, 400, /expected_from: is required with force: true/],
    ["GET", "/api/health_check?group=bad/group", undefined, 400, /group: must be 1-63 letters/],
    ["GET", "/api/health_check?group=nosuch", undefined, 404, /No state row for group "nosuch"/],
    ["POST", "/api/pause", { until: "next tuesday" }, 400, /until: must be an ISO 8601 time/],
    ["POST", "/api/pause", { until: "2001-01-01T00:00:00Z" }, 400, /until: .* is not in the future/],
    ["POST", "/api/init", { group: "g2", primary_endpoint: "ftp://x" }, 400, /primary_endpoint: must be an absolute http/],
    ["POST", "/api/init", { group: "g2", primary_endpoint: "https://a.test/h" }, 400, /give both or neither/],
    ["POST", "/api/init", { group: "g2", failure_threshold: 99 }, 400, /failure_threshold: must be at most 10/],
    ["GET", "/api/history?limit=0", undefined, 400, /limit: must be an integer from 1 to 100/],
    ["GET", "/api/do_failover", undefined, 405, /does not accept GET/],
  ])("%s %s with %j -> %i naming the problem", async (method, path, body, status, message) => {
    await api("POST", "/api/init");
    const response = await api(method, path, body);
    expect(response.status).toBe(status);
    expect(response.body.message).toMatch(message);
  });

  test("409 conflict: a row that keeps changing under every write attempt is left alone after 5 attempts", async () => {
    await api("POST", "/api/init");
    // A standby whose every probe edits the row (a new secondary URL), so each conditional write loses its race.
    let probes = 0;
    const standby = createServer((_req, res) => {
      probes++;
      table.updateEntity({ partitionKey: PARTITION_KEY, rowKey: "state", secondary_endpoint: `${standbyUrl}?n=${probes}` }, "Merge").then(
        () => res.writeHead(200).end("ok"),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve) => standby.listen(0, "127.0.0.1", resolve));
    const standbyUrl = `http://127.0.0.1:${(standby.address() as AddressInfo).port}/health`;
    try {
      const row = await table.getEntity(PARTITION_KEY, "state");
      await table.updateEntity({ partitionKey: PARTITION_KEY, rowKey: "state", secondary_endpoint: standbyUrl }, "Merge", { etag: row.etag });
      const response = await api("POST", "/api/do_failover", { expected_from: "primary", reason: "drill" });
      expect(response).toMatchObject({ status: 409, body: { error: "conflict", message: expect.stringMatching(/group "state" changed under 5 write attempts in a row; nothing was written/i) } });
      expect(probes).toBe(5);
      expect(await table.getEntity(PARTITION_KEY, "state")).toMatchObject({ active_target: "primary", failover_count: 0, secondary_endpoint: `${standbyUrl}?n=5` });
    } finally {
      standby.closeAllConnections();
      await new Promise((resolve) => standby.close(resolve));
    }
  });

  test("validation errors come as data too: issues [{ path, message }], and the message is their `path: message` list", async () => {
    await api("POST", "/api/init");
    const response = await api("POST", "/api/init", { group: "g3", failure_threshold: 0, probe_expected_status: "2xx", surprise: true });
    expect(response.status).toBe(400);
    // The knobs are parsed with the rest of the body: one answer names every problem.
    expect(response.body.error).toBe("invalid_request");
    expect(response.body.issues.map((i: { path: string }) => i.path)).toEqual(["failure_threshold", "probe_expected_status", "surprise"]);
    expect(response.body.issues[2]).toEqual({ path: "surprise", message: "unknown field" });
    const bad = await api("POST", "/api/init", { group: "g3", failure_threshold: 0, probe_expected_status: "2xx" });
    expect(bad.body.issues.map((i: { path: string }) => i.path)).toEqual(["failure_threshold", "probe_expected_status"]);
    expect(bad.body.message).toBe(bad.body.issues.map((i: { path: string; message: string }) => `${i.path}: ${i.message}`).join("; "));
    expect((await api("GET", "/api/health_check?group=bad/group")).body.issues).toEqual([{ path: "group", message: expect.stringMatching(/^must be 1-63 letters.*\(got "bad\/group"\)$/) }]);
  });
});
