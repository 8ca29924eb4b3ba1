import { TableClient, type TransactionAction } from "@azure/data-tables";
import { auditRowKey } from "../../src/core/auditEntry";
import { PRUNE_MAX_CHANGES, pruneAudit } from "../../src/core/operations";
import type { TransitionSummary } from "../../src/core/state";
import { ManualClock, storageConnectionString, testDeps, testEnv } from "../helpers/env";

const DAY = 86_400;

/** Audit retention by age and by count, as the watchdog runs it, on Azurite. */
describe("audit retention", () => {
  const setup = async (settings: Record<string, string> = {}) => {
    const clock = new ManualClock(new Date("2026-06-01T00:00:00.000Z"));
    const { deps, config } = testDeps(testEnv({ AUDIT_MAX_ENTRIES: "100", AUDIT_RETENTION_DAYS: "90", NOTIFY_EXPIRY_SECONDS: "3600", ...settings }), clock);
    await deps.audit.ensureTable();
    const table = TableClient.fromConnectionString(storageConnectionString(), config.auditTableName, { allowInsecureConnection: true });
    const entry = (at: Date, reason: string): TransitionSummary => ({ at: at.toISOString(), kind: "pause", from: "primary", to: "primary", reason, actor: "t" });
    /** `count` entries `ageSeconds` old and older (one second apart), written in batches. */
    const write = async (group: string, count: number, ageSeconds: number, status: "pending" | "delivered" | "not_configured", label: string) => {
      const rows = Array.from({ length: count }, (_, i) => {
        const at = new Date(clock.now().getTime() - (ageSeconds + i) * 1000);
        const t = entry(at, `${label}${i}`);
        return {
          partitionKey: group,
          rowKey: auditRowKey(at),
          at: t.at,
          kind: t.kind,
          from_target: t.from,
          to_target: t.to,
          reason: t.reason,
          actor: t.actor,
          notification_status: status,
          notification_attempts: 0,
        };
      });
      for (let i = 0; i < rows.length; i += 100) await table.submitTransaction(rows.slice(i, i + 100).map((r) => ["create", r] as TransactionAction));
    };
    const reasons = async (group: string) => {
      const out: string[] = [];
      for await (const e of table.listEntities<{ reason: string; notification_status: string }>({ queryOptions: { filter: `PartitionKey eq '${group}'` } }))
        out.push(`${e.reason}:${e.notification_status}`);
      return out;
    };
    return { deps, clock, write, reasons };
  };

  test("by count: the newest AUDIT_MAX_ENTRIES stay; older ones go, except those whose notification is still pending", async () => {
    const { deps, write, reasons } = await setup();
    await write("g", 100, 60, "delivered", "new");
    await write("g", 3, 1000, "pending", "waiting");
    await write("g", 20, 2000, "delivered", "old");
    await write("other", 5, 60, "delivered", "x");
    expect(await pruneAudit(deps, "g")).toMatchObject({ group: "g", scanned: 123, deleted: 20, expired: 0, capped: false });
    const left = await reasons("g");
    expect(left).toHaveLength(103);
    expect(left.filter((r) => r.startsWith("old"))).toEqual([]);
    expect(left.filter((r) => r.startsWith("waiting"))).toEqual(["waiting0:pending", "waiting1:pending", "waiting2:pending"]);
    expect(await reasons("other")).toHaveLength(5); // another group's history is not touched
    expect(await pruneAudit(deps, "g")).toMatchObject({ deleted: 0, expired: 0 });
  });

  test("by age: entries past AUDIT_RETENTION_DAYS go, pending ones too; a pending one past NOTIFY_EXPIRY_SECONDS is recorded as expired", async () => {
    const { deps, write, reasons } = await setup();
    await write("g", 5, 60, "pending", "fresh");
    await write("g", 4, 2 * 3600, "pending", "stale");
    await write("g", 6, 89 * DAY, "delivered", "kept");
    await write("g", 7, 91 * DAY, "delivered", "aged");
    await write("g", 2, 95 * DAY, "pending", "forgotten");
    expect(await pruneAudit(deps, "g")).toMatchObject({ scanned: 24, deleted: 9, expired: 4 });
    const left = await reasons("g");
    expect(left.filter((r) => r.startsWith("aged") || r.startsWith("forgotten"))).toEqual([]);
    expect(left.filter((r) => r.startsWith("fresh")).every((r) => r.endsWith(":pending"))).toBe(true);
    expect(left.filter((r) => r.startsWith("stale"))).toEqual(["stale0:expired", "stale1:expired", "stale2:expired", "stale3:expired"]);
    expect(left.filter((r) => r.startsWith("kept"))).toHaveLength(6);
    const stale = (await deps.audit.list("g", 20)).entries.find((e) => e.reason === "stale0");
    expect(stale).toMatchObject({ notification_status: "expired", notification_error: "not delivered within NOTIFY_EXPIRY_SECONDS (3600 s)" });
  });

  test(`bounded work: at most ${PRUNE_MAX_CHANGES} changes per run; the next run goes on`, async () => {
    const { deps, write, reasons } = await setup();
    await write("g", 10, 60, "delivered", "new");
    await write("g", PRUNE_MAX_CHANGES + 50, 100 * DAY, "delivered", "aged");
    expect(await pruneAudit(deps, "g")).toMatchObject({ deleted: PRUNE_MAX_CHANGES, capped: true });
    expect(await pruneAudit(deps, "g")).toMatchObject({ deleted: 50, capped: false });
    expect(await reasons("g")).toHaveLength(10);
  });

  test("a group with no history, or no table yet: nothing to do, no error", async () => {
    const clock = new ManualClock();
    const { deps } = testDeps(testEnv(), clock);
    expect(await pruneAudit(deps, "g")).toMatchObject({ scanned: 0, deleted: 0, expired: 0 });
  });
});
