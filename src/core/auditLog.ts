import type { TableClient } from "@azure/data-tables";
import { randomBytes } from "node:crypto";
import { invalidRequest } from "./errors";
import type { ProbeResult } from "./probe";
import type { TransitionSummary } from "./state";
import { storageError } from "./storage";

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

export type NotificationStatus = "not_configured" | "pending" | "delivered" | "failed";

export interface AuditEntry extends TransitionSummary {
  readonly id: string;
  readonly forced: boolean;
  readonly failover_count: number;
  readonly probe?: ProbeResult;
  readonly notification_status: NotificationStatus;
  readonly notification_attempts: number;
  readonly notification_error?: string;
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

function fromEntity(entity: Record<string, unknown>): AuditEntry {
  const probeJson = typeof entity.probe_json === "string" && entity.probe_json !== "" ? entity.probe_json : undefined;
  return {
    id: String(entity.rowKey),
    at: String(entity.at),
    kind: entity.kind as AuditEntry["kind"],
    from: entity.from_target as AuditEntry["from"],
    to: entity.to_target as AuditEntry["to"],
    reason: String(entity.reason ?? ""),
    actor: String(entity.actor ?? ""),
    forced: entity.forced === true,
    failover_count: Number(entity.failover_count ?? 0),
    ...(probeJson ? { probe: JSON.parse(probeJson) as ProbeResult } : {}),
    notification_status: (entity.notification_status as NotificationStatus) ?? "not_configured",
    notification_attempts: Number(entity.notification_attempts ?? 0),
    ...(typeof entity.notification_error === "string" && entity.notification_error !== "" ? { notification_error: entity.notification_error } : {}),
  };
}

export class AuditLog {
  constructor(readonly table: TableClient) {}

  async ensureTable(): Promise<void> {
    try {
      await this.table.createTable();
    } catch (err) {
      throw storageError("creating the audit table", this.table, err);
    }
  }

  async append(
    group: string,
    transition: TransitionSummary,
    details: { forced: boolean; failover_count: number; probe?: ProbeResult; notification_status: NotificationStatus },
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
    let token: unknown;
    if (continuation !== undefined) {
      try {
        token = JSON.parse(Buffer.from(continuation, "base64url").toString("utf8"));
      } catch {
        throw invalidRequest({ path: "continuation", message: "not a token returned by a previous page" });
      }
    }
    try {
      const pages = this.table
        .listEntities<Record<string, unknown>>({ queryOptions: { filter: `PartitionKey eq '${group}'` } })
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
