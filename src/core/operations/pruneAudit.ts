import { auditEntryTime } from "../auditEntry";
import type { FailoverDeps } from "../deps";

/** Most entries one watchdog run deletes or expires per group; the next run goes on from there. */
export const PRUNE_MAX_CHANGES = 1000;
/** Entries read per storage request while pruning. */
const PAGE_SIZE = 1000;

export interface PruneReport {
  readonly group: string;
  readonly scanned: number;
  readonly deleted: number;
  readonly expired: number;
  /** The run stopped at PRUNE_MAX_CHANGES; the next run continues. */
  readonly capped: boolean;
}

/**
 * Audit retention for one group, run by the watchdog: deletes entries older than
 * AUDIT_RETENTION_DAYS and, beyond the newest AUDIT_MAX_ENTRIES, the older ones, except those
 * whose notification is still pending (they go once past retention). A pending notification
 * older than NOTIFY_EXPIRY_SECONDS that the loop did not reach (it was stopped) is recorded as
 * expired. Bounded work: at most PRUNE_MAX_CHANGES deletions and expiries per run.
 */
export async function pruneAudit(deps: FailoverDeps, group: string): Promise<PruneReport> {
  const now = deps.clock.now().getTime();
  const { auditRetentionDays, auditMaxEntries, notifyExpirySeconds } = deps.config.limits;
  const retentionCutoff = now - auditRetentionDays * 86_400_000;
  const expiryCutoff = now - notifyExpirySeconds * 1000;
  const toDelete: string[] = [];
  const toExpire: Array<{ id: string; etag: string }> = [];
  let scanned = 0;
  const full = () => toDelete.length + toExpire.length >= PRUNE_MAX_CHANGES;
  await deps.audit.scan(group, PAGE_SIZE, (rows) => {
    for (const row of rows) {
      if (full()) return false;
      scanned++;
      const time = auditEntryTime(row.id, row.at);
      const pending = row.notification_status === "pending";
      if (time < retentionCutoff || (scanned > auditMaxEntries && !pending)) toDelete.push(row.id);
      else if (pending && time <= expiryCutoff) toExpire.push(row);
    }
    return !full();
  });
  let expired = 0;
  for (const row of toExpire) {
    const done = await deps.audit.expireNotification(group, row.id, row.etag, notifyExpirySeconds);
    if (done !== undefined) expired++;
  }
  await deps.audit.deleteEntries(group, toDelete);
  return { group, scanned, deleted: toDelete.length, expired, capped: full() };
}
