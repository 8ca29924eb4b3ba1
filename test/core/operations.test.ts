import { manualCheck, switchTarget, healthCheck } from "../../src/core/operations";
import { PARTITION_KEY } from "../../src/core/state";
import { startSampleBackend } from "../../src/local/services/sampleBackend";
import { backendPair } from "../helpers/backends";
import { azuriteConnectionString } from "../../src/local/services/azurite";
import { startCountingProxy } from "../../src/local/services/countingProxy";
import { ManualClock, bootstrappedGroup, storageConnectionString, testDeps, testEnv } from "../helpers/env";
import { bootstrap } from "../../src/core/operations";
import { ATTR, METRICS } from "../../src/core/telemetry";
import { captureTelemetry, points } from "../helpers/telemetry";

describe("health_check and do_failover on Azurite", () => {
  const backends = backendPair();

  const setup = (settings: Record<string, string> = {}) =>
    bootstrappedGroup({ PRIMARY_ENDPOINT: backends.primary.url, SECONDARY_ENDPOINT: backends.secondary.url, COOLDOWN_SECONDS: "120", ...settings });

  test("the original end-to-end steps, at the module level", async () => {
    const { deps, clock, table, row } = await setup({ FAILURE_THRESHOLD: "1" });

    // 1. initial state
    expect(await row()).toMatchObject({ active_target: "primary", failover_count: 0, last_status: "OK" });

    // 2. a healthy check
    const healthy = await healthCheck(deps, "state", "cycle-1");
    expect(healthy).toMatchObject({ healthy: true, active_target: "primary", recommendation: "none" });
    expect((await row()).last_check_utc).toBe(clock.now().toISOString());

    // 3. the primary set to an invalid URL in the row -> unhealthy
    const current = await row();
    await table.updateEntity({ partitionKey: PARTITION_KEY, rowKey: "state", primary_endpoint: "https://127.0.0.1/health" }, "Merge", { etag: current.etag });
    clock.advance(10);
    const broken = await healthCheck(deps, "state", "cycle-2");
    expect(broken).toMatchObject({ healthy: false, active_target: "primary", recommendation: "failover" });
    expect(await row()).toMatchObject({ last_status: "UNHEALTHY", consecutive_failures: 1 });

    // 4. failover
    const switched = await switchTarget(deps, "state", { expected_from: "primary" });
    expect(switched).toMatchObject({ changed: true, active_target: "secondary", previous_target: "primary", failover_count: 1 });
    const afterSwitch = await row();
    expect(afterSwitch).toMatchObject({ active_target: "secondary", failover_count: 1, last_status: "FAILOVER_DONE" });
    expect(afterSwitch.lock_until_utc).toBe(new Date(clock.now().getTime() + 120_000).toISOString());

    // 5. an immediate second failover -> cooldown_active, row unchanged
    const again = await switchTarget(deps, "state");
    expect(again).toMatchObject({ changed: false, reason: "cooldown_active", active_target: "secondary" });
    expect((await row()).etag).toBe(afterSwitch.etag);

    // 6. after the cooldown, with the primary fixed: checks are healthy, nothing switches back (manual failback)
    const fixed = await row();
    await table.updateEntity({ partitionKey: PARTITION_KEY, rowKey: "state", primary_endpoint: backends.primary.url }, "Merge", { etag: fixed.etag });
    clock.advance(121);
    for (let i = 0; i < 4; i++) {
      clock.advance(10);
      expect(await healthCheck(deps, "state", `cycle-3-${i}`)).toMatchObject({ healthy: true, active_target: "secondary", primary_healthy: true, recommendation: "none" });
    }
    expect(await row()).toMatchObject({ active_target: "secondary", failover_count: 1, last_status: "OK", primary_healthy: true });
  });

  test("a check after this process's own write of the row makes one storage call, the conditional write; a row written meanwhile by someone else is read again and decided on", async () => {
    const proxy = await startCountingProxy(/TableEndpoint=([^;]+)/.exec(storageConnectionString())![1]);
    try {
      const clock = new ManualClock();
      const { deps } = testDeps(testEnv({ AzureWebJobsStorage: azuriteConnectionString(proxy.endpoint), PRIMARY_ENDPOINT: backends.primary.url, SECONDARY_ENDPOINT: backends.secondary.url }), clock);
      await bootstrap(deps, { group: "state" });
      await healthCheck(deps, "state", "cycle-1");
      const calls = () => proxy.requests.map((r) => `${r.method} ${r.status}`);
      const from = proxy.requests.length;
      clock.advance(30);
      expect(await healthCheck(deps, "state", "cycle-2")).toMatchObject({ healthy: true, consecutive_successes: 2 });
      expect(calls().slice(from)).toEqual(["PUT 204"]);

      // Another writer (the HTTP API in another process, a hand edit) breaks the primary.
      const other = testDeps(testEnv({ AzureWebJobsStorage: storageConnectionString(), FAILOVER_TABLE: deps.config.tableName })).deps;
      const loaded = await other.store.load("state");
      await other.store.replace(loaded, { ...loaded.state, primary_endpoint: "https://127.0.0.1/health" });
      const mark = proxy.requests.length;
      clock.advance(30);
      expect(await healthCheck(deps, "state", "cycle-3")).toMatchObject({ healthy: false, consecutive_failures: 1, endpoint: "https://127.0.0.1/health" });
      // The write on the ETag this process had was refused; the row read again; the write on its ETag.
      expect(calls().slice(mark)).toEqual(["PUT 412", "GET 200", "PUT 204"]);
    } finally {
      await proxy.close();
    }
  });

  test("the automatic switch right after the check that decided it writes the row on the check's ETag without reading it; a manual switch reads first", async () => {
    const proxy = await startCountingProxy(/TableEndpoint=([^;]+)/.exec(storageConnectionString())![1]);
    try {
      const clock = new ManualClock();
      const env = {
        AzureWebJobsStorage: azuriteConnectionString(proxy.endpoint),
        PRIMARY_ENDPOINT: backends.primary.url,
        SECONDARY_ENDPOINT: backends.secondary.url,
        FAILURE_THRESHOLD: "1",
        COOLDOWN_SECONDS: "0",
      };
      const { deps } = testDeps(testEnv(env), clock);
      await bootstrap(deps, { group: "state" });
      backends.primary.behave({ kind: "status", status: 503 });
      clock.advance(30);
      expect(await healthCheck(deps, "state", "cycle-1")).toMatchObject({ recommendation: "failover" });
      // Only the state row's requests: the audit entries go to the history table.
      const rowCalls = (from: number) =>
        proxy.requests
          .slice(from)
          .filter((r) => r.path.includes(`/${deps.config.tableName}(`))
          .map((r) => `${r.method} ${r.status}`);
      const mark = proxy.requests.length;
      expect(await switchTarget(deps, "state", { expected_from: "primary", automatic: true, reason: "3 failed checks" })).toMatchObject({ changed: true, active_target: "secondary" });
      expect(rowCalls(mark)).toEqual(["PUT 204"]);

      // A manual failback (an HTTP request, maybe in another process) reads the row first.
      backends.primary.behave({ kind: "status", status: 200 });
      const manual = proxy.requests.length;
      expect(await switchTarget(deps, "state", { kind: "failback", force: true })).toMatchObject({ changed: true, active_target: "primary" });
      expect(rowCalls(manual)).toEqual(["GET 200", "PUT 204"]);
    } finally {
      await proxy.close();
    }
  });

  test("the standby is probed by every check: a dead standby is reported down once at the threshold, with its audit entry (the notification's outbox), and recovered once", async () => {
    const { deps, clock, row } = await setup({ FAILURE_THRESHOLD: "2", NOTIFY_WEBHOOK_URL: "https://hooks.example.com/failover" });
    const telemetry = captureTelemetry();
    const standbyDown = async () => points((await telemetry.collect()).get(METRICS.standbyDown), { [ATTR.group]: "state" }).map((p) => p.value);
    const secondaryHits = () => backends.secondary.requests;
    const before = secondaryHits();
    const checks = [];
    backends.secondary.behave({ kind: "status", status: 503 });
    for (let i = 1; i <= 3; i++) {
      clock.advance(30);
      checks.push(await healthCheck(deps, "state", clock.now().toISOString()));
    }
    expect(secondaryHits() - before).toBe(3);
    expect(await standbyDown()).toEqual([1]);
    expect(checks.map((c) => [c.healthy, c.standby_healthy, c.standby_consecutive_failures])).toEqual([
      [true, false, 1],
      [true, false, 2],
      [true, false, 3],
    ]);
    expect(await row()).toMatchObject({ active_target: "primary", last_status: "OK", secondary_healthy: false, standby_consecutive_failures: 3, standby_checked_utc: clock.now().toISOString() });
    backends.secondary.behave({ kind: "ok" });
    clock.advance(30);
    expect(await healthCheck(deps, "state", clock.now().toISOString())).toMatchObject({ standby_healthy: true, standby_consecutive_failures: 0 });
    expect(await standbyDown()).toEqual([0]);
    await telemetry.stop();
    const entries = (await deps.audit.list("state", 10)).entries;
    expect(entries.map((e) => e.kind)).toEqual(["standby_recovered", "standby_down"]);
    expect(entries[1]).toMatchObject({ from: "primary", to: "primary", actor: "system", notification_status: "pending" });
    expect(entries[1].reason).toContain("failed 2 consecutive checks (http_status");
  });

  test("STANDBY_CHECK_EVERY=3 probes the standby every third interval; 0 never, outside a switch", async () => {
    for (const [every, expected] of [
      ["3", 2],
      ["0", 0],
    ] as const) {
      const { deps, clock } = await setup({ STANDBY_CHECK_EVERY: every });
      const before = backends.secondary.requests;
      for (let i = 0; i < 6; i++) {
        clock.advance(30);
        await healthCheck(deps, "state", clock.now().toISOString());
      }
      expect([every, backends.secondary.requests - before]).toEqual([every, expected]);
    }
  });

  test("manual checks (GET /api/health_check) never write the row and never trip the threshold; concurrent ones share one probe", async () => {
    const { deps, row } = await setup({ FAILURE_THRESHOLD: "1" });
    const before = await row();
    // A primary that answers within the probe timeout of 1 s, but not before every caller has read the row.
    backends.primary.behave({ kind: "hang" });
    const requestsBefore = backends.primary.requests;
    const checks = await Promise.all(Array.from({ length: 50 }, () => manualCheck(deps, "state")));
    for (const check of checks) expect(check).toMatchObject({ healthy: false, error_class: "timeout", recommendation: "none", consecutive_failures: 0 });
    expect(backends.primary.requests - requestsBefore).toBe(1);
    backends.primary.behave({ kind: "status", status: 500 });
    for (let i = 0; i < 5; i++) await manualCheck(deps, "state");
    const after = await row();
    expect(after.etag).toBe(before.etag);
    expect(after).toMatchObject({ last_status: "OK", consecutive_failures: 0 });
    expect(await healthCheck(deps, "state", "cycle-1")).toMatchObject({ recommendation: "failover", consecutive_failures: 1 });
  });

  test("20 concurrent do_failover calls from the same state: exactly one change", async () => {
    const { deps, row } = await setup();
    const results = await Promise.all(Array.from({ length: 20 }, () => switchTarget(deps, "state")));
    const changed = results.filter((r) => r.changed);
    expect(changed).toHaveLength(1);
    for (const r of results.filter((x) => !x.changed)) {
      expect(["already_failed_over", "cooldown_active"]).toContain(r.reason);
      expect(r.active_target).toBe("secondary");
    }
    expect(await row()).toMatchObject({ active_target: "secondary", failover_count: 1 });
  });

  test("a repeated call with the same expected source does not toggle back, even after the cooldown", async () => {
    const { deps, clock, row } = await setup({ COOLDOWN_SECONDS: "0" });
    expect((await switchTarget(deps, "state", { expected_from: "primary" })).changed).toBe(true);
    clock.advance(5);
    const repeat = await switchTarget(deps, "state", { expected_from: "primary" });
    expect(repeat).toMatchObject({ changed: false, reason: "already_failed_over", active_target: "secondary" });
    expect(await row()).toMatchObject({ active_target: "secondary", failover_count: 1 });
  });

  test("the core refuses a forced switch that does not name expected_from, and a failback away from the primary", async () => {
    const { deps, row } = await setup();
    const before = await row();
    await expect(switchTarget(deps, "state", { force: true, reason: "retried?" })).rejects.toMatchObject({
      code: "invalid_request",
      message: expect.stringMatching(/^expected_from: is required with force: true/),
    });
    await expect(switchTarget(deps, "state", { kind: "failback", expected_from: "primary", force: true })).rejects.toMatchObject({
      code: "invalid_request",
      message: expect.stringMatching(/^expected_from: a failback moves away from the secondary/),
    });
    expect((await row()).etag).toBe(before.etag);
  });

  test("the cooldown ends at lock_until_utc", async () => {
    const { deps, clock } = await setup();
    await switchTarget(deps, "state");
    clock.advance(119);
    expect(await switchTarget(deps, "state")).toMatchObject({ changed: false, reason: "cooldown_active" });
    clock.advance(1);
    expect(await switchTarget(deps, "state")).toMatchObject({ changed: true, active_target: "primary", failover_count: 2 });
  });

  test("a standby probe is not trusted when the standby's URL was edited while it ran", async () => {
    const { deps, table, row } = await setup();
    const replacement = await startSampleBackend("replacement");
    try {
      backends.secondary.behave({ kind: "hang" });
      const switching = switchTarget(deps, "state", { reason: "drill" }); // probes the hanging secondary
      await new Promise((resolve) => setTimeout(resolve, 100));
      const current = await row();
      await table.updateEntity({ partitionKey: PARTITION_KEY, rowKey: "state", secondary_endpoint: replacement.url }, "Merge", { etag: current.etag });
      // The timed-out probe of the old URL must not block the switch: the new URL is probed and is healthy.
      expect(await switching).toMatchObject({ changed: true, active_target: "secondary" });
      expect(replacement.requests).toBe(1);
    } finally {
      await replacement.close();
    }
  });

  test("a stale probe is not recorded over a row that switched meanwhile", async () => {
    const { deps, row } = await setup();
    backends.primary.behave({ kind: "hang" });
    const slowCheck = healthCheck(deps, "state", "cycle-4"); // probes the primary, which hangs up to the probe timeout
    await new Promise((resolve) => setTimeout(resolve, 100));
    await switchTarget(deps, "state", { force: true, expected_from: "primary", reason: "operator" });
    backends.primary.behave({ kind: "ok" });
    const result = await slowCheck;
    // The check ran again against the new active target instead of counting a failure on it.
    expect(result).toMatchObject({ active_target: "secondary", healthy: true });
    expect(await row()).toMatchObject({ active_target: "secondary", consecutive_failures: 0 });
  });
});
