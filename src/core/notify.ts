import { fetch, type Dispatcher } from "undici";
import { escapeChatText } from "./text";
import type { TransitionSummary } from "./state";
import type { FailoverState } from "./state";

/**
 * Webhook notifications. The message has a `text` that Teams and Slack incoming webhooks
 * render as is, plus the structured fields for anything else that reads JSON.
 */

export interface NotificationResult {
  readonly delivered: boolean;
  readonly attempts: number;
  readonly error?: string;
}

export interface NotifyOptions {
  readonly attempts: number;
  readonly firstDelayMs: number;
  readonly timeoutMs: number;
}

export const DEFAULT_NOTIFY_OPTIONS: NotifyOptions = { attempts: 4, firstDelayMs: 250, timeoutMs: 3000 };

const HEADLINES: Record<TransitionSummary["kind"], string> = {
  failover: "Failover",
  failback: "Failback",
  failover_blocked: "Failover blocked",
  pause: "Automatic failover paused",
  resume: "Automatic failover resumed",
  switch_applied: "Traffic switch applied",
  switch_failed: "Traffic switch failed",
  switch_verified: "Traffic switch verified",
  switch_drift: "Traffic drift",
};

export function notificationMessage(group: string, transition: TransitionSummary, state: FailoverState): Record<string, unknown> {
  const move = transition.from === transition.to ? `${transition.to} stays active` : `${transition.from} -> ${transition.to}`;
  const text =
    `**${HEADLINES[transition.kind]}** in failover group \`${group}\`: ${move}.\n\n` +
    `Reason: ${escapeChatText(transition.reason)}\n\n` +
    `By: ${escapeChatText(transition.actor)} at ${transition.at}; switches so far: ${state.failover_count}` +
    (state.lock_until_utc ? `; cooldown until ${state.lock_until_utc}` : "");
  return {
    text,
    group,
    kind: transition.kind,
    from: transition.from,
    to: transition.to,
    reason: transition.reason,
    actor: transition.actor,
    at: transition.at,
    active_target: state.active_target,
    failover_count: state.failover_count,
  };
}

/** POSTs the message, retrying with exponential backoff; never throws. */
export async function sendNotification(
  url: string,
  message: Record<string, unknown>,
  options: NotifyOptions = DEFAULT_NOTIFY_OPTIONS,
  dispatcher?: Dispatcher,
): Promise<NotificationResult> {
  let error = "";
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(message),
        signal: AbortSignal.timeout(options.timeoutMs),
        ...(dispatcher ? { dispatcher } : {}),
      });
      await response.body?.cancel().catch(() => undefined);
      if (response.ok) return { delivered: true, attempts: attempt };
      error = `HTTP ${response.status}`;
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      error = cause?.code === "EGRESS_REFUSED" ? `refused by the egress policy: ${cause.message}` : (cause?.code ?? (err instanceof Error ? err.message : String(err)));
    }
    if (attempt < options.attempts) await new Promise((resolve) => setTimeout(resolve, options.firstDelayMs * 2 ** (attempt - 1)));
  }
  return { delivered: false, attempts: options.attempts, error: `after ${options.attempts} attempts: ${error}` };
}
