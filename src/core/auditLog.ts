import { odata, type TableClient, type TransactionAction } from "@azure/data-tables";
import { z } from "zod";
import { randomBytes } from "node:crypto";
import { invalidRequest } from "./errors";
import { boolean } from "./knobs";
import { PROBE_ERROR_CLASSES, type ProbeResult } from "./probe";
import { count, optionalText, transitionSummarySchema, type TransitionSummary } from "./state";
import { zodIssues, type ValidationIssue } from "./validation";
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

const MAX_TIME = 9_999_999_999_999;
const MAX_SEQUENCE = 999_999;
let sequence = 0;

/** "failed" is only on entries written before notifications went through the outbox. */
export const NOTIFICATION_STATUSES = ["not_configured", "pending", "delivered", "expired", "failed"] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

export interface AuditEntry extends TransitionSummary {
  readonly id: string;
  readonly forced: boolean;
  readonly failover_count: number;
  readonly probe?: ProbeResult;
  /** An automatic failover: when the first failed check of the streak that reached the threshold ran (the row's unhealthy_since_utc). */
  readonly unhealthy_since_utc?: string;
  readonly notification_status: NotificationStatus;
  readonly notification_attempts: number;
  readonly notification_error?: string;
  /** When the notification was delivered (the receiver answered 2xx). */
  readonly notified_utc?: string;
  /** While pending: the next delivery attempt is not before this. */
  readonly notification_next_utc?: string;
  /** The cooldown end at the transition (for the notification's text). */
  readonly lock_until_utc?: string;
  /** Set on an entry someone edited into an unreadable shape: shown as such (its fields as stored), it never fails the page. */
  readonly malformed?: true;
  readonly problems?: readonly ValidationIssue[];
}

/** The notification fields of an entry, as `updateNotification` merges them. */
export interface NotificationFields {
  readonly notification_status?: NotificationStatus;
  readonly notification_attempts?: number;
  readonly notification_error?: string;
  readonly notification_next_utc?: string;
  readonly notified_utc?: string;
}

/** What retention reads of an entry. */
export interface RetentionRow {
  readonly id: string;
  readonly etag: string;
  readonly at: string;
  readonly notification_status: string;
}

export interface AuditPage {
  readonly entries: AuditEntry[];
  readonly continuation?: string;
}

/** The time part of a row key: every entry at or after `at` has a smaller RowKey than this bound. */
export function rowKeyBound(at: Date): string {
  return String(MAX_TIME - at.getTime() + 1).padStart(13, "0");
}

/** The time of an entry in ms: from its RowKey (inverted milliseconds), else its `at`; NaN when neither reads. */
export function auditEntryTime(id: string, at: string): number {
  const match = /^(\d{13})-/.exec(id);
  return match ? MAX_TIME - Number(match[1]) : Date.parse(at);
}

export function auditRowKey(at: Date): string {
  sequence = (sequence + 1) % MAX_SEQUENCE;
  const time = String(MAX_TIME - at.getTime()).padStart(13, "0");
  return `${time}-${String(MAX_SEQUENCE - sequence).padStart(6, "0")}-${randomBytes(4).toString("hex")}`;
}

const probeJson = z.preprocess(
  (v) => {
    if (v === undefined || v === null || v === "") return undefined;
    try {
      return typeof v === "string" ? JSON.parse(v) : v;
    } catch {
      return v;
    }
  },
  z
    .object(
      {
        url: z.string(),
        healthy: z.boolean(),
        status_code: z.number().optional(),
        latency_ms: z.number(),
        error_class: z.enum(PROBE_ERROR_CLASSES).optional(),
        error: z.string().optional(),
        body_bytes_read: z.number(),
      },
      { error: "must be the JSON of a probe result" },
    )
    .optional(),
);

/** An audit entity as stored by `append` (and updated by `recordNotification`). */
const auditRowSchema = z
  .object({
    rowKey: z.string(),
    at: z.string({ error: "is missing or not a string" }),
    kind: transitionSummarySchema.shape.kind,
    from_target: transitionSummarySchema.shape.from,
    to_target: transitionSummarySchema.shape.to,
    reason: z.string().default(""),
    actor: z.string().default(""),
    forced: boolean.default(false),
    failover_count: count.default(0),
    probe_json: probeJson,
    unhealthy_since_utc: optionalText,
    notification_status: z.enum(NOTIFICATION_STATUSES).default("not_configured"),
    notification_attempts: count.default(0),
    notification_error: optionalText,
    notified_utc: optionalText,
    notification_next_utc: optionalText,
    lock_until_utc: optionalText,
  })
  .transform(
    (e): AuditEntry => ({
      id: e.rowKey,
      at: e.at,
      kind: e.kind,
      from: e.from_target,
      to: e.to_target,
      reason: e.reason,
      actor: e.actor,
      forced: e.forced,
      failover_count: e.failover_count,
      ...(e.probe_json ? { probe: e.probe_json } : {}),
      ...(e.unhealthy_since_utc ? { unhealthy_since_utc: e.unhealthy_since_utc } : {}),
      notification_status: e.notification_status,
      notification_attempts: e.notification_attempts,
      ...(e.notification_error ? { notification_error: e.notification_error } : {}),
      ...(e.notified_utc ? { notified_utc: e.notified_utc } : {}),
      ...(e.notification_status === "pending" && e.notification_next_utc ? { notification_next_utc: e.notification_next_utc } : {}),
      ...(e.lock_until_utc ? { lock_until_utc: e.lock_until_utc } : {}),
    }),
  );

function fromEntity(entity: Record<string, unknown>): AuditEntry {
  const parsed = auditRowSchema.safeParse(entity);
  if (parsed.success) return parsed.data;
  const text = (v: unknown) => (typeof v === "string" ? v : "");
  return {
    id: String(entity.rowKey),
    malformed: true,
    problems: zodIssues(parsed.error, { root: "entry", input: entity }),
    at: text(entity.at),
    kind: text(entity.kind) as AuditEntry["kind"],
    from: text(entity.from_target) as AuditEntry["from"],
    to: text(entity.to_target) as AuditEntry["to"],
    reason: text(entity.reason),
    actor: text(entity.actor),
    forced: entity.forced === true,
    failover_count: 0,
    notification_status: "not_configured",
    notification_attempts: 0,
  };
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
    details: { forced: boolean; failover_count: number; probe?: ProbeResult; unhealthy_since_utc?: string; notification_status: NotificationStatus; lock_until_utc?: string },
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
        const rows = page.map((e) => ({ id: String(e.rowKey), etag: String(e.etag ?? ""), at: typeof e.at === "string" ? e.at : "", notification_status: typeof e.notification_status === "string" ? e.notification_status : "" }));
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
        .byPage({ maxPageSize: limit, ...(token !== undefined ? { continuationToken: token as string } : {}) });
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
