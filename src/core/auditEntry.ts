import { randomBytes } from "node:crypto";
import { z } from "zod";
import { boolean } from "./knobs";
import { probeResultSchema } from "./probe";
import { ledgerEntrySchema, parseLedger } from "./switch/session";
import { count, optionalText, transitionSummarySchema } from "./state";
import { validationIssueSchema, zodIssues, type ValidationIssue } from "./validation";

/**
 * One audit entry and its row in table failoverhistory: the entry's shape, its RowKey (newest
 * first, see auditLog.ts) and how a stored entity is read back (a malformed one is shown as
 * such, never an error). The AuditLog class (auditLog.ts) writes, reads and deletes them.
 */

const MAX_TIME = 9_999_999_999_999;
const MAX_SEQUENCE = 999_999;
let sequence = 0;

/** "failed" is only on entries written before notifications went through the outbox. */
export const NOTIFICATION_STATUSES = ["not_configured", "pending", "delivered", "expired", "failed"] as const;
export type NotificationStatus = (typeof NOTIFICATION_STATUSES)[number];

/** One audit entry as history shows it and the outbox delivers it. */
export const auditEntrySchema = transitionSummarySchema.extend({
  id: z.string(),
  forced: z.boolean(),
  failover_count: z.number().int(),
  probe: probeResultSchema.optional(),
  unhealthy_since_utc: z.string().optional().describe("An automatic failover: when the first failed check of the streak that reached the threshold ran (the row's unhealthy_since_utc)."),
  notification_status: z.enum(NOTIFICATION_STATUSES),
  notification_attempts: z.number().int(),
  notification_error: z.string().optional(),
  notified_utc: z.string().optional().describe("When the notification was delivered (the receiver answered 2xx)."),
  notification_next_utc: z.string().optional().describe("While pending: the next delivery attempt is not before this."),
  lock_until_utc: z.string().optional().describe("The cooldown end at the transition (for the notification's text)."),
  writes: z.array(ledgerEntrySchema).optional().describe("A switch's entry: every write its intent made to the world so far (the ledger), oldest first."),
  writes_omitted: z.number().int().optional().describe("How many older writes the ledger left out."),
});

/** An entry someone edited into an unreadable shape: shown as such (its fields as stored), it never fails the page. */
export const malformedAuditEntrySchema = z.object({
  id: z.string(),
  malformed: z.literal(true),
  problems: z.array(validationIssueSchema),
  at: z.string(),
  kind: z.string(),
  from: z.string(),
  to: z.string(),
  reason: z.string(),
  actor: z.string(),
  forced: z.boolean(),
  failover_count: z.number().int(),
  notification_status: z.literal("not_configured"),
  notification_attempts: z.literal(0),
});

/** An entry; one read back malformed carries `malformed` and `problems` (see fromEntity). */
export type AuditEntry = Readonly<z.infer<typeof auditEntrySchema> & { malformed?: true; problems?: readonly ValidationIssue[] }>;

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
  z.object(probeResultSchema.shape, { error: "must be the JSON of a probe result" }).optional(),
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
    writes_json: optionalText,
  })
  .transform((e): AuditEntry => ({
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
    ...ledgerFields(e.writes_json),
  }));

function ledgerFields(text: string | undefined): Pick<AuditEntry, "writes" | "writes_omitted"> {
  const ledger = parseLedger(text);
  return { ...(ledger.writes.length > 0 ? { writes: [...ledger.writes] } : {}), ...(ledger.omitted > 0 ? { writes_omitted: ledger.omitted } : {}) };
}

export function fromEntity(entity: Record<string, unknown>): AuditEntry {
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
