import { odata, type TableClient } from "@azure/data-tables";
import { z } from "zod";
import { randomBytes } from "node:crypto";
import { invalidRequest } from "./errors";
import { boolean } from "./knobs";
import { PROBE_ERROR_CLASSES, type ProbeResult } from "./probe";
import { count, optionalText, transitionSummarySchema, type TransitionSummary } from "./state";
import { zodIssues, type ValidationIssue } from "./validation";
import { ensureTable, storageError } from "./storage";

/**
 * The audit log (table failoverhistory; not the Durable replay history): one entity per
 * transition, PartitionKey = group, RowKey ordered newest first: inverted milliseconds, then
 * an inverted per-process sequence (two entries of one millisecond from this process keep
 * their order), then a random suffix (entries from two processes never collide).
 * Append-only: createEntity, never a state write.
 */

const MAX_TIME = 9_999_999_999_999;
const MAX_SEQUENCE = 999_999;
let sequence = 0;

export const NOTIFICATION_STATUSES = ["not_configured", "pending", "delivered", "failed"] as const;
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
  /** Set on an entry someone edited into an unreadable shape: shown as such (its fields as stored), it never fails the page. */
  readonly malformed?: true;
  readonly problems?: readonly ValidationIssue[];
}

export interface AuditPage {
  readonly entries: AuditEntry[];
  readonly continuation?: string;
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
    details: { forced: boolean; failover_count: number; probe?: ProbeResult; unhealthy_since_utc?: string; notification_status: NotificationStatus },
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
        notification_status: details.notification_status,
        notification_attempts: 0,
      });
      return { id: rowKey, etag: response.etag ?? "" };
    } catch (err) {
      throw storageError(`appending an audit entry for group "${group}"`, this.table, err);
    }
  }

  async recordNotification(group: string, entry: { id: string; etag: string }, result: { status: NotificationStatus; attempts: number; error?: string }): Promise<void> {
    try {
      await this.table.updateEntity(
        { partitionKey: group, rowKey: entry.id, notification_status: result.status, notification_attempts: result.attempts, notification_error: result.error ?? "" },
        "Merge",
        { etag: entry.etag },
      );
    } catch (err) {
      throw storageError(`recording a notification for group "${group}"`, this.table, err);
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
