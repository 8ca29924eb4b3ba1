import type { NotificationStatus } from "../auditLog";
import type { FailoverDeps } from "../deps";
import { DEFAULT_NOTIFY_OPTIONS, notificationMessage, sendNotification } from "../notify";
import type { ProbeResult } from "../probe";
import type { FailoverState, TransitionSummary } from "../state";

/**
 * After a transition is written to the row: appends its audit entry and sends the webhook.
 * Never throws (the switch is already written); failures are logged.
 */
export async function recordTransition(
  deps: FailoverDeps,
  group: string,
  transition: TransitionSummary,
  state: FailoverState,
  { probe, forced = false, unhealthySince }: { probe?: ProbeResult; forced?: boolean; unhealthySince?: string } = {},
): Promise<void> {
  const url = deps.config.notifyWebhookUrl;
  let entry: { id: string; etag: string } | undefined;
  try {
    const status: NotificationStatus = url ? "pending" : "not_configured";
    entry = await deps.audit.append(group, transition, { forced, failover_count: state.failover_count, ...(probe ? { probe } : {}), ...(unhealthySince ? { unhealthy_since_utc: unhealthySince } : {}), notification_status: status });
  } catch (err) {
    deps.log?.(`audit append failed for group "${group}": ${(err as Error).message}`);
  }
  if (!url) return;
  const result = await sendNotification(url, notificationMessage(group, transition, state), { ...DEFAULT_NOTIFY_OPTIONS, ...deps.notify }, deps.webhookDispatcher);
  if (!result.delivered) deps.log?.(`notification for group "${group}" not delivered: ${result.error}`);
  if (!entry) return;
  try {
    await deps.audit.recordNotification(group, entry, {
      status: result.delivered ? "delivered" : "failed",
      attempts: result.attempts,
      ...(result.error ? { error: result.error } : {}),
    });
  } catch (err) {
    deps.log?.(`recording the notification result failed for group "${group}": ${(err as Error).message}`);
  }
}
