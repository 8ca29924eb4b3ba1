import { auditRowKey } from "../../src/core/auditEntry";
import { bootstrap, switchTarget, healthCheck, pause, resume } from "../../src/core/operations";
import { startSampleBackend } from "../../src/local/services/sampleBackend";
import { backendPair } from "../helpers/backends";
import { bootstrappedGroup } from "../helpers/env";

describe("transitions on Azurite: standby verification, audit history, groups", () => {
  const backends = backendPair();

  const setup = (settings: Record<string, string> = {}) =>
    bootstrappedGroup({ PRIMARY_ENDPOINT: backends.primary.url, SECONDARY_ENDPOINT: backends.secondary.url, FAILURE_THRESHOLD: "1", ...settings });

  test("both endpoints down: no switch, FAILOVER_BLOCKED recorded once in the audit history; force breaks glass", async () => {
    const { deps, clock, row } = await setup();
    backends.primary.behave({ kind: "status", status: 500 });
    backends.secondary.behave({ kind: "status", status: 502 });
    expect((await healthCheck(deps, "state", "cycle-1")).recommendation).toBe("failover");
    expect(await switchTarget(deps, "state", { expected_from: "primary", automatic: true, actor: "orchestrator", reason: "threshold" })).toMatchObject({
      changed: false,
      reason: "standby_unhealthy",
      active_target: "primary",
      last_status: "FAILOVER_BLOCKED",
    });
    clock.advance(30);
    await healthCheck(deps, "state", "cycle-2");
    await switchTarget(deps, "state", { expected_from: "primary", automatic: true, actor: "orchestrator", reason: "threshold" });
    expect(await row()).toMatchObject({ active_target: "primary", failover_count: 0, last_status: "FAILOVER_BLOCKED", secondary_healthy: false });

    const forced = await switchTarget(deps, "state", { force: true, expected_from: "primary", reason: "secondary is warming up", actor: "alice@example.com" });
    expect(forced).toMatchObject({ changed: true, forced: true, active_target: "secondary" });
    expect(await row()).toMatchObject({ last_failover_forced: true, failover_count: 1 });

    const page = await deps.audit.list("state", 10);
    // The check that found the primary down probed the standby too and reported it down first.
    expect(page.entries.map((e) => e.kind)).toEqual(["failover", "failover_blocked", "standby_down"]);
    expect(page.entries[0]).toMatchObject({ from: "primary", to: "secondary", forced: true, actor: "alice@example.com", reason: "forced: secondary is warming up" });
    expect(page.entries[1]).toMatchObject({ actor: "orchestrator", probe: { url: backends.secondary.url, healthy: false, status_code: 502, error_class: "http_status" } });
    const summary = JSON.parse(String((await row()).recent_transitions)) as Array<{ kind: string }>;
    expect(summary.map((t) => t.kind)).toEqual(["failover", "failover_blocked", "standby_down"]);
  });

  test("history row keys sort newest first, also within one millisecond", () => {
    const t = new Date("2026-01-01T00:00:00.000Z");
    const keys = [auditRowKey(t), auditRowKey(t), auditRowKey(new Date(t.getTime() + 1)), auditRowKey(new Date(t.getTime() + 1))];
    expect([...keys].sort()).toEqual([keys[3], keys[2], keys[1], keys[0]]);
  });

  test("the audit history pages newest first with a continuation token", async () => {
    const { deps, clock } = await setup({ COOLDOWN_SECONDS: "0" });
    for (let i = 0; i < 5; i++) {
      clock.advance(1);
      const current = (await deps.store.load("state")).state.active_target;
      await switchTarget(deps, "state", { expected_from: current, reason: `switch ${i}` });
    }
    const first = await deps.audit.list("state", 2);
    expect(first.entries.map((e) => e.reason)).toEqual(["switch 4", "switch 3"]);
    expect(first.continuation).toBeDefined();
    const second = await deps.audit.list("state", 2, first.continuation);
    expect(second.entries.map((e) => e.reason)).toEqual(["switch 2", "switch 1"]);
    const third = await deps.audit.list("state", 2, second.continuation);
    expect(third.entries.map((e) => e.reason)).toEqual(["switch 0"]);
    expect(third.continuation).toBeUndefined();
    await expect(deps.audit.list("state", 2, "garbage!")).rejects.toMatchObject({ code: "invalid_request" });
  });

  test("audit entries are read through a schema: a malformed one is shown as such, naming its field, and never fails the page (finding 13); a partition key with a quote is escaped", async () => {
    const { deps } = await setup();
    await deps.audit.table.createEntity({ partitionKey: "o'brien", rowKey: "0001", at: "2026-01-01T00:00:00.000Z", kind: "pause", from_target: "primary", to_target: "primary" });
    expect((await deps.audit.list("o'brien", 5)).entries).toEqual([
      expect.objectContaining({ id: "0001", kind: "pause", reason: "", forced: false, failover_count: 0, notification_status: "not_configured" }),
    ]);
    await deps.audit.table.createEntity({ partitionKey: "state", rowKey: "0002", at: "2026-01-01T00:00:00.000Z", kind: "teleport", from_target: "primary", to_target: "primary" });
    const page = await deps.audit.list("state", 5);
    expect(page.entries.find((e) => e.id === "0002")).toMatchObject({ malformed: true, kind: "teleport", problems: [{ path: "kind", message: expect.stringContaining('(got "teleport")') }] });
  });

  test("pause and resume are recorded with the caller; while paused nothing switches automatically", async () => {
    const { deps, row } = await setup();
    expect(await pause(deps, "state", { reason: "patching", actor: "dave" })).toMatchObject({ changed: true, paused: true });
    backends.primary.behave({ kind: "status", status: 500 });
    const check = await healthCheck(deps, "state", "cycle-3");
    expect(check).toMatchObject({ healthy: false, recommendation: "none", reason: "paused" });
    expect(await switchTarget(deps, "state", { expected_from: "primary", automatic: true })).toMatchObject({ changed: false, reason: "paused" });
    expect(await row()).toMatchObject({ active_target: "primary", paused: true, last_status: "UNHEALTHY" });
    expect(await resume(deps, "state", { actor: "dave" })).toMatchObject({ changed: true, paused: false });
    expect((await healthCheck(deps, "state", "cycle-4")).recommendation).toBe("failover");
    expect((await deps.audit.list("state", 5)).entries.map((e) => `${e.kind}:${e.actor}`)).toEqual(["resume:dave", "pause:dave"]);
  });

  test("an automatic failover's audit entry keeps when the streak of failed checks began (the detection time); a manual one has none", async () => {
    const { deps, clock } = await setup({ FAILURE_THRESHOLD: "2", COOLDOWN_SECONDS: "0" });
    backends.primary.behave({ kind: "status", status: 503 });
    const firstFailed = clock.now().toISOString();
    expect((await healthCheck(deps, "state", "cycle-a")).recommendation).toBe("none");
    clock.advance(30);
    expect((await healthCheck(deps, "state", "cycle-b")).recommendation).toBe("failover");
    clock.advance(1);
    expect((await switchTarget(deps, "state", { expected_from: "primary", automatic: true, actor: "orchestrator", reason: "threshold" })).changed).toBe(true);
    backends.primary.behave({ kind: "ok" });
    expect((await switchTarget(deps, "state", { kind: "failback", reason: "drill over", actor: "alice" })).changed).toBe(true);
    const [failback, failover] = (await deps.audit.list("state", 10)).entries;
    expect(failover).toMatchObject({ kind: "failover", actor: "orchestrator", unhealthy_since_utc: firstFailed });
    expect(Date.parse(failover.at) - Date.parse(failover.unhealthy_since_utc!)).toBe(31_000);
    expect(failback.kind).toBe("failback");
    expect(failback.unhealthy_since_utc).toBeUndefined();
  });

  test("several groups: each row has its own endpoints and policy; one group's bad row never touches another", async () => {
    const { deps, row } = await setup({ FAILURE_THRESHOLD: "3" });
    const other = await startSampleBackend("other-primary");
    try {
      other.behave({ kind: "status", status: 500 });
      const created = await bootstrap(deps, { group: "payments", primary_endpoint: other.url, secondary_endpoint: backends.secondary.url, overrides: { failure_threshold: 1, cooldown_seconds: 5 } });
      expect(created.created).toBe(true);
      expect(await deps.store.listGroups()).toEqual(expect.arrayContaining(["state", "payments"]));
      // payments fails over at its own threshold of 1; the default group keeps 3.
      expect((await healthCheck(deps, "payments", "cycle-5")).recommendation).toBe("failover");
      expect((await healthCheck(deps, "state", "cycle-6")).recommendation).toBe("none");
      const switched = await switchTarget(deps, "payments", { expected_from: "primary", automatic: true });
      expect(switched.changed).toBe(true);
      expect(Date.parse(switched.lock_until_utc!) - Date.parse((await row("payments")).last_failover_utc as string)).toBe(5000);
      // Break the default group's row: payments goes on.
      const stateRow = await row();
      const { etag, timestamp: _t, ...props } = stateRow;
      const table = deps.store.table;
      await table.updateEntity({ ...props, active_target: "tertiary" } as { partitionKey: string; rowKey: string }, "Replace", { etag });
      await expect(healthCheck(deps, "state", "cycle-7")).rejects.toMatchObject({ code: "malformed_state" });
      expect(await healthCheck(deps, "payments", "cycle-8")).toMatchObject({ healthy: true, active_target: "secondary" });
    } finally {
      await other.close();
    }
  });
});
