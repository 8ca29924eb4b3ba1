import { TableClient } from "@azure/data-tables";
import { PARTITION_KEY } from "../../src/core/state";
import { STORAGE_CALL_TIMEOUT_MS } from "../../src/core/storageTimeout";
import { call, eventually } from "../../src/local/tools/client";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import type { ExecutionRecord } from "../../src/local/host/instances";
import { EventType } from "../../src/local/host/replayHistory";
import { backendPair } from "../helpers/backends";
import { storageConnectionString, testEnv } from "../helpers/env";
import { startFreezableProxy, throughProxy, type FreezableProxy } from "../helpers/freezableProxy";

/**
 * Storage frozen (connections accepted, nothing answered) for 20 s while the loop runs and
 * callers keep asking (issue 9): every request answers within the storage deadline plus a
 * generous margin for a shared machine, the loop goes on afterwards, and the failover the
 * freeze delayed happens exactly once. The deadline is wall-clock, so this takes ~20 s.
 */
describe("storage frozen for 20 s mid-loop, on the local host", () => {
  const backends = backendPair();
  let proxy: FreezableProxy;
  let host: LocalHost | undefined;
  afterEach(async () => {
    proxy.thaw();
    await host?.stop();
    host = undefined;
    await proxy.close();
  });

  test("every request answers within the deadline, the loop resumes, nothing is lost, one switch", async () => {
    const port = Number(/TableEndpoint=http:\/\/127\.0\.0\.1:(\d+)/.exec(storageConnectionString())![1]);
    proxy = await startFreezableProxy(port);
    const env = testEnv({
      AzureWebJobsStorage: throughProxy(storageConnectionString(), proxy.port),
      PRIMARY_ENDPOINT: backends.primary.url,
      SECONDARY_ENDPOINT: backends.secondary.url,
      CHECK_INTERVAL_SECONDS: "1",
      FAILURE_THRESHOLD: "2",
      COOLDOWN_SECONDS: "600",
    });
    // The test reads the row directly from Azurite, not through the frozen proxy.
    const table = TableClient.fromConnectionString(storageConnectionString(), env.FAILOVER_TABLE, { allowInsecureConnection: true });
    const row = () => table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state");
    const records: ExecutionRecord[] = [];
    const logs: string[] = [];
    host = await startLocalHost({ env, timers: false, onExecution: (r) => records.push(r), log: (m) => logs.push(m) });
    const url = host.url;
    expect((await call(url, "POST", "/api/init")).status).toBe(201);
    expect((await call(url, "POST", "/api/start")).status).toBeLessThan(300);
    await eventually("two counted checks", async () => (Number((await row()).consecutive_successes) >= 2 ? true : undefined));
    const before = await row();

    // The primary breaks as storage freezes: the loop cannot record a failure until it thaws.
    proxy.freeze();
    backends.primary.behave({ kind: "status", status: 503 });
    const frozenAt = Date.now();
    const executionsAtFreeze = records.length;
    const answers: Array<{ route: string; status: number; ms: number; body: string }> = [];
    const routes: Array<[string, string]> = [
      ["GET", "/api/status"],
      ["GET", "/api/health_check"],
      ["GET", "/api/history"],
      ["POST", "/api/pause"],
    ];
    await Promise.all(
      routes.map(async ([method, path]) => {
        while (Date.now() - frozenAt < 20_000) {
          const started = Date.now();
          const response = await fetch(`${url}${path}`, {
            method,
            signal: AbortSignal.timeout(60_000),
            ...(method === "POST" ? { body: JSON.stringify({ reason: "frozen" }), headers: { "content-type": "application/json" } } : {}),
          });
          answers.push({ route: `${method} ${path}`, status: response.status, ms: Date.now() - started, body: await response.text() });
        }
      }),
    );
    const executionsDuringFreeze = records.length - executionsAtFreeze;
    proxy.thaw();

    // Every request answered in bounded time, as a JSON error naming storage, never a hang.
    const margin = 7_000;
    expect(answers.length).toBeGreaterThanOrEqual(routes.length * 2);
    for (const a of answers) {
      expect([a.route, a.ms <= STORAGE_CALL_TIMEOUT_MS + margin]).toEqual([a.route, true]);
      if (a.status !== 200) expect([a.route, a.status, JSON.parse(a.body).error]).toEqual([a.route, 503, "storage_unavailable"]);
    }
    expect(answers.filter((a) => a.status === 503).length).toBeGreaterThan(0);

    // The loop resumes: the failover the freeze held back happens, once.
    const switched = await eventually(
      "the failover after the thaw",
      async () => {
        const r = await row();
        return r.active_target === "secondary" ? r : undefined;
      },
      30_000,
    );
    await eventually("two more cycles", async () => (records.length >= executionsAtFreeze + executionsDuringFreeze + 2 ? true : undefined), 30_000);
    const after = await row();
    expect(after).toMatchObject({ active_target: "secondary", failover_count: 1, last_status: expect.stringMatching(/FAILOVER_DONE|OK|UNHEALTHY/), paused: false });
    expect(Date.parse(String(after.last_check_utc))).toBeGreaterThan(frozenAt + 20_000);
    // Nothing lost: the row kept its endpoints and history of counts.
    expect(after).toMatchObject({ primary_endpoint: before.primary_endpoint, secondary_endpoint: before.secondary_endpoint });
    expect(switched.failover_count).toBe(1);
    const switches = records.flatMap((r) => r.history.filter((e) => e.EventType === EventType.TaskScheduled && e.Name === "do_failover"));
    expect(switches.length).toBeGreaterThanOrEqual(1);
    const audit = TableClient.fromConnectionString(storageConnectionString(), env.FAILOVER_HISTORY_TABLE, { allowInsecureConnection: true });
    const entries: Array<Record<string, unknown>> = [];
    for await (const e of audit.listEntities<Record<string, unknown>>()) entries.push(e);
    expect(entries.filter((e) => e.kind === "failover")).toHaveLength(1);
    // The pauses asked for during the freeze were refused, so none happened later either.
    expect(entries.filter((e) => e.kind === "pause")).toHaveLength(0);
    // The loop is still running.
    expect(host.taskHub.status("failover-state")?.runtimeStatus).toBe("Running");
  }, 120_000);
});
