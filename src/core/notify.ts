import { exponentialBackoffMs } from "./clock";
import { fetchFailure, type EgressFetch } from "./egress";
import type { AuditEntry } from "./auditEntry";
import { redact } from "./redact";
import { TEXT_LIMITS, capText, escapeChatText } from "./text";
import type { TransitionSummary } from "./state";
import { signWebhook } from "./webhookSignature";

/**
 * Webhook notifications. The message has a `text` that Teams and Slack incoming webhooks
 * render as is, plus the structured fields for anything else that reads JSON. A message is
 * built from its audit entry (the outbox) and sent by the loop, never inside an HTTP request:
 * one POST per attempt, with a short timeout, under the egress policy.
 */

export interface NotifyOptions {
  /** Timeout of one delivery attempt. */
  readonly timeoutMs: number;
  /** Most entries one cycle delivers; the rest wait for the next cycle. */
  readonly batch: number;
}

export const DEFAULT_NOTIFY_OPTIONS: NotifyOptions = { timeoutMs: 3000, batch: 10 };

/** How long to wait after failed attempt number `attempts` (1, 2, ...): 5 s doubling to 5 min. */
export function notifyBackoffMs(attempts: number): number {
  return exponentialBackoffMs(attempts, 5_000, 300_000);
}

const HEADLINES: Record<TransitionSummary["kind"], string> = {
  failover: "Failover",
  failback: "Failback",
  failover_blocked: "Failover blocked",
  pause: "Automatic failover paused",
  resume: "Automatic failover resumed",
  hold: "Failback held",
  hold_released: "Failback hold released",
  approval_requested: "Switch proposed: approval needed",
  switch_recommended: "Switch recommended (notify only)",
  approval_granted: "Switch approved",
  approval_rejected: "Switch rejected",
  approval_expired: "Switch proposal expired unanswered",
  proposal_stale: "Switch proposal withdrawn: the condition cleared",
  drill: "Drill report",
  switch_applied: "Traffic switch applied",
  switch_failed: "Traffic switch failed",
  switch_verified: "Traffic switch verified",
  switch_drift: "Traffic drift",
  switch_held: "Traffic switch needs an operator",
  switch_compensated: "Traffic switch undone",
  switch_superseded: "Traffic switch superseded",
  switch_retried: "Traffic switch retried",
  loop_resumed: "Monitoring loop resumed",
  loop_restarted: "Monitoring loop restarted",
  plan_changed: "Switch plan changed",
  standby_down: "Standby down: nowhere to switch to",
  standby_recovered: "Standby healthy again",
  checks_inconclusive: "Checks inconclusive: too few vantages answer",
};

/** The message id: stable across re-deliveries of one entry, so a receiver can drop repeats. */
export function notificationId(group: string, entryId: string): string {
  return `${group}:${entryId}`;
}

export function notificationMessage(group: string, entry: AuditEntry): Record<string, unknown> {
  const move = entry.from === entry.to ? `${entry.to} stays active` : `${entry.from} -> ${entry.to}`;
  const text =
    `**${HEADLINES[entry.kind]}** in failover group \`${group}\`: ${move}.\n\n` +
    `Reason: ${escapeChatText(entry.reason)}\n\n` +
    `By: ${escapeChatText(entry.actor)} at ${entry.at}; switches so far: ${entry.failover_count}` +
    (entry.lock_until_utc ? `; cooldown until ${entry.lock_until_utc}` : "");
  return {
    id: notificationId(group, entry.id),
    text,
    group,
    kind: entry.kind,
    from: entry.from,
    to: entry.to,
    reason: entry.reason,
    actor: entry.actor,
    at: entry.at,
    active_target: entry.to,
    failover_count: entry.failover_count,
  };
}

export interface DeliveryTarget {
  readonly url: string;
  /** Standard Webhooks secret; without it only the webhook-id header is sent. */
  readonly secret?: string;
}

/** One attempt: POSTs the message through the egress-checked fetch; never throws. The error is redacted and capped. */
export async function postNotification(
  fetch: EgressFetch,
  target: DeliveryTarget,
  id: string,
  message: Record<string, unknown>,
  timeoutMs: number,
  nowMs: number,
): Promise<{ ok: boolean; error?: string }> {
  const body = JSON.stringify(message);
  const headers: Record<string, string> = { "content-type": "application/json", ...(target.secret ? signWebhook(target.secret, id, body, nowMs) : { "webhook-id": id }) };
  try {
    const response = await fetch(target.url, { method: "POST", headers, body, signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel().catch(() => undefined);
    return response.ok ? { ok: true } : { ok: false, error: `HTTP ${response.status}` };
  } catch (err) {
    return { ok: false, error: capText(redact(fetchFailure(err, timeoutMs).message), TEXT_LIMITS.error) };
  }
}
