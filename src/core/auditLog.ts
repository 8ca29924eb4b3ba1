import { odata, type TableClient, type TransactionAction } from "@azure/data-tables";
import { auditRowKey, fromEntity, rowKeyBound, type AuditEntry, type NotificationFields, type NotificationStatus, type RetentionRow } from "./auditEntry";
import { invalidRequest } from "./errors";
import type { ProbeResult } from "./probe";
import type { TransitionSummary } from "./state";
import { ensureTable, statusCodeOf, storageError } from "./storage";

/**
 * The audit log (table failoverhistory; not the Durable replay history): one entity per
 * transition, PartitionKey = group, RowKey ordered newest first: inverted milliseconds, then
 * an inverted per-process sequence (two entries of one millisecond from this process keep
 * their order), then a random suffix (entries from two processes never collide).
 * Entries are created with createEntity, never a state write. An entry is also the outbox of its
 * notification: `notification_status` pending until the loop delivers it (notify.ts,
 * operations/deliverNotifications.ts), each attempt a conditional Merge of the notification
 * fields only. The watchdog deletes entries past retention (operations/pruneAudit.ts).
 */

export interface AuditPage {
  readonly entries: AuditEntry[];
  readonly continuation?: string;
}

/**
 * The storage continuation token inside a token this API handed out, checked before storage
 * sees it: a made-up token is a 400 naming the parameter, never a storage error.
 */
function continuationToken(continuation: string): string {
  const refused = invalidRequest({ path: "continuation", message: "not a token returned by a previous page" });
  if (continuation.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(continuation)) throw refused;
  try {
    const token = JSON.parse(Buffer.from(continuation, "base64url").toString("utf8")) as unknown;
    if (typeof token !== "string" || !/^[A-Za-z0-9+/=_-]{1,1024}$/.test(token)) throw refused;
    const inner = JSON.parse(Buffer.from(token, "base64").toString("utf8")) as Record<string, unknown>;
    const text = (v: unknown) => typeof v === "string" && v.length > 0 && v.length <= 512;
    const keys = Object.keys(inner);
    if (!text(inner.nextPartitionKey) || (inner.nextRowKey !== undefined && !text(inner.nextRowKey)) || keys.some((k) => k !== "nextPartitionKey" && k !== "nextRowKey")) throw refused;
    return token;
  } catch {
    throw refused;
  }
}

export class AuditLog {
  constructor(readonly table: TableClient) {}

  ensureTable(): Promise<void> {
    return ensureTable(this.table);
  }

  async append(
    group: string,
    transition: TransitionSummary,
    details: { forced: boolean; failover_count: number; probe?: ProbeResult; unhealthy_since_utc?: string; notification_status: NotificationStatus; lock_until_utc?: string; writes_json?: string },
  ): Promise<{ id: string; etag: string }> {
    const rowKey = auditRowKey(new Date(transition.at));
    try {
      const response = await this.table.createEntity({
        partitionKey: group,
        rowKey,
        at: transition.at,
        kind: transition.kind,
        from_target: transition.from,
        to_target: transition.to,
        reason: transition.reason,
        actor: transition.actor,
        forced: details.forced,
        failover_count: details.failover_count,
        probe_json: details.probe ? JSON.stringify(details.probe) : "",
        ...(details.unhealthy_since_utc ? { unhealthy_since_utc: details.unhealthy_since_utc } : {}),
        ...(details.writes_json ? { writes_json: details.writes_json } : {}),
        lock_until_utc: details.lock_until_utc ?? "",
        notification_status: details.notification_status,
        notification_attempts: 0,
        // Due at once: the loop's next cycle delivers it.
        ...(details.notification_status === "pending" ? { notification_next_utc: transition.at } : {}),
      });
      return { id: rowKey, etag: response.etag ?? "" };
    } catch (err) {
      throw storageError(`appending an audit entry for group "${group}"`, this.table, err);
    }
  }

  /**
   * The group's pending notifications of entries at or after `since`, oldest first, at most
   * `limit` (one query page, bounded by the RowKey range and the status filter).
   */
  async pendingNotifications(group: string, since: Date, limit: number): Promise<Array<{ entry: AuditEntry; etag: string }>> {
    try {
      const pages = this.table
        .listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${group} and RowKey lt ${rowKeyBound(since)} and notification_status eq ${"pending"}` } })
        .byPage({ maxPageSize: limit });
      const first = await pages.next();
      if (first.done || !first.value) return [];
      return first.value
        .map((e) => ({ entry: fromEntity(e), etag: String(e.etag ?? "") }))
        .filter((p) => !p.entry.malformed)
        .reverse();
    } catch (err) {
      if (statusCodeOf(err) === 404) return []; // no table yet: nothing was ever recorded
      throw storageError(`reading the pending notifications of group "${group}"`, this.table, err);
    }
  }

  /**
   * Merges notification fields into one entry, conditional on its ETag. Returns the new ETag,
   * or undefined when the entry changed meanwhile (another attempt claimed it) or is gone.
   */
  async updateNotification(group: string, id: string, etag: string, fields: NotificationFields): Promise<string | undefined> {
    try {
      const response = await this.table.updateEntity({ partitionKey: group, rowKey: id, ...fields }, "Merge", { etag });
      return response.etag ?? "";
    } catch (err) {
      const status = statusCodeOf(err);
      if (status === 412 || status === 404) return undefined;
      throw storageError(`recording a notification for group "${group}"`, this.table, err);
    }
  }

  /** Records that an entry's notification was not delivered within NOTIFY_EXPIRY_SECONDS, after `previousError` if any (same answers as updateNotification). */
  expireNotification(group: string, id: string, etag: string, expirySeconds: number, previousError?: string): Promise<string | undefined> {
    return this.updateNotification(group, id, etag, {
      notification_status: "expired",
      notification_next_utc: "",
      notification_error: `${previousError ? `${previousError}; ` : ""}not delivered within NOTIFY_EXPIRY_SECONDS (${expirySeconds} s)`.slice(-1000),
    });
  }

  /**
   * The group's entries newest first, as little of each as retention needs, `pageSize` per
   * request; stops when `visit` returns false.
   */
  async scan(group: string, pageSize: number, visit: (rows: ReadonlyArray<RetentionRow>) => boolean | Promise<boolean>): Promise<void> {
    try {
      const pages = this.table
        .listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${group}`, select: ["RowKey", "at", "notification_status"] } })
        .byPage({ maxPageSize: pageSize });
      for await (const page of pages) {
        const rows = page.map((e) => ({
          id: String(e.rowKey),
          etag: String(e.etag ?? ""),
          at: typeof e.at === "string" ? e.at : "",
          notification_status: typeof e.notification_status === "string" ? e.notification_status : "",
        }));
        if (!(await visit(rows))) return;
      }
    } catch (err) {
      if (statusCodeOf(err) === 404) return;
      throw storageError(`reading the audit log of group "${group}" for retention`, this.table, err);
    }
  }

  /** Deletes entries of one group in transactions of at most 100 (Table storage's batch limit). */
  async deleteEntries(group: string, ids: readonly string[]): Promise<void> {
    try {
      for (let i = 0; i < ids.length; i += 100) {
        await this.table.submitTransaction(ids.slice(i, i + 100).map((id) => ["delete", { partitionKey: group, rowKey: id }] as TransactionAction));
      }
    } catch (err) {
      throw storageError(`deleting old audit entries of group "${group}"`, this.table, err);
    }
  }

  /** Newest first, `limit` per page; `continuation` is the opaque token of the previous page. */
  async list(group: string, limit: number, continuation?: string): Promise<AuditPage> {
    const token = continuation === undefined ? undefined : continuationToken(continuation);
    try {
      const pages = this.table
        .listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${group}` } })
        .byPage({ maxPageSize: limit, ...(token !== undefined ? { continuationToken: token } : {}) });
      const first = await pages.next();
      if (first.done || !first.value) return { entries: [] };
      const page = first.value;
      const next = page.continuationToken;
      return {
        entries: page.map((e) => fromEntity(e)),
        ...(next ? { continuation: Buffer.from(JSON.stringify(next), "utf8").toString("base64url") } : {}),
      };
    } catch (err) {
      throw storageError(`reading the audit log of group "${group}"`, this.table, err);
    }
  }
}
