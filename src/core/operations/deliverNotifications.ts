import { addSeconds } from "../clock";
import type { FailoverDeps } from "../deps";
import { DEFAULT_NOTIFY_OPTIONS, notificationId, notificationMessage, notifyBackoffMs, postNotification } from "../notify";

export interface DeliveryReport {
  readonly group: string;
  readonly delivered: number;
  readonly failed: number;
  readonly expired: number;
}

/**
 * The outbox, once per cycle of the group's loop: delivers the group's pending notifications,
 * oldest first, at most `batch` of them, each attempt with a short timeout. An attempt is
 * claimed first with a conditional write that counts it and sets the next attempt (backoff
 * 5 s doubling to 5 min), so a repeated activity never sends one attempt twice and a crash
 * mid-send is retried after the backoff. The first failure ends the cycle's batch (the
 * receiver is likely down; the others wait). An entry not delivered NOTIFY_EXPIRY_SECONDS after
 * its transition is recorded as expired. Every message keeps its id across attempts.
 */
export async function deliverNotifications(deps: FailoverDeps, group: string): Promise<DeliveryReport> {
  const report = { group, delivered: 0, failed: 0, expired: 0 };
  const url = deps.config.notifyWebhookUrl;
  if (!url) return report;
  const options = { ...DEFAULT_NOTIFY_OPTIONS, ...deps.notify };
  const expirySeconds = deps.config.limits.notifyExpirySeconds;
  const now = deps.clock.now();
  // Twice the expiry: an entry the loop could not reach in time (it was down) is still seen, and expired.
  const pending = await deps.audit.pendingNotifications(group, addSeconds(now, -2 * expirySeconds), options.batch * 5);
  const target = { url, ...(deps.config.notifyWebhookSecret ? { secret: deps.config.notifyWebhookSecret } : {}) };
  let attempted = 0;
  for (const { entry, etag } of pending) {
    if (attempted >= options.batch) break;
    if (now.getTime() - Date.parse(entry.at) >= expirySeconds * 1000) {
      const expired = await deps.audit.expireNotification(group, entry.id, etag, expirySeconds, entry.notification_error);
      if (expired !== undefined) report.expired++;
      continue;
    }
    if (entry.notification_next_utc && Date.parse(entry.notification_next_utc) > now.getTime()) continue;
    const attempts = entry.notification_attempts + 1;
    const claimed = await deps.audit.updateNotification(group, entry.id, etag, {
      notification_attempts: attempts,
      notification_next_utc: new Date(now.getTime() + notifyBackoffMs(attempts)).toISOString(),
    });
    if (claimed === undefined) continue; // another run of this activity has it
    attempted++;
    const id = notificationId(group, entry.id);
    const result = await postNotification(deps.fetch, target, id, notificationMessage(group, entry), options.timeoutMs, deps.clock.now().getTime());
    if (result.ok) {
      await deps.audit.updateNotification(group, entry.id, claimed, {
        notification_status: "delivered",
        notified_utc: deps.clock.now().toISOString(),
        notification_next_utc: "",
        notification_error: "",
      });
      report.delivered++;
      continue;
    }
    await deps.audit.updateNotification(group, entry.id, claimed, { notification_error: `attempt ${attempts}: ${result.error}` });
    deps.log?.(`notification ${id} not delivered (attempt ${attempts}): ${result.error}`);
    report.failed++;
    break;
  }
  return report;
}
