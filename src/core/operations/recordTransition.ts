import type { FailoverDeps } from "../deps";
import { redact } from "../redact";
import type { ProbeResult } from "../probe";
import type { FailoverState, TransitionSummary } from "../state";

/**
 * After a transition is written to the row: appends its audit entry. With a webhook
 * configured the entry is the notification's outbox (pending): the group's loop delivers it
 * (deliverNotifications.ts), so nothing here waits on a webhook. Never throws (the switch is
 * already written); a failure is logged.
 */
export async function recordTransition(
  deps: FailoverDeps,
  group: string,
  transition: TransitionSummary,
  state: FailoverState,
  { probe, forced = false, unhealthySince, ledger }: { probe?: ProbeResult; forced?: boolean; unhealthySince?: string; ledger?: string } = {},
): Promise<void> {
  try {
    await deps.audit.append(group, transition, {
      forced,
      failover_count: state.failover_count,
      ...(probe ? { probe: { ...probe, url: redact(probe.url) } } : {}),
      ...(unhealthySince ? { unhealthy_since_utc: unhealthySince } : {}),
      ...(ledger ? { writes_json: ledger } : {}),
      ...(state.lock_until_utc ? { lock_until_utc: state.lock_until_utc } : {}),
      notification_status: deps.config.notifyWebhookUrl ? "pending" : "not_configured",
    });
  } catch (err) {
    deps.log?.(`audit append failed for group "${group}": ${(err as Error).message}`);
  }
}
