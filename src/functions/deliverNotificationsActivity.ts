import * as df from "durable-functions";
import { deliverNotifications } from "../core/operations";
import { DELIVER_NOTIFICATIONS_ACTIVITY, deliverNotificationsInputSchema } from "../core/orchestrationContract";
import { runtimeDeps } from "./shared/runtimeDeps";

/** Activity "deliver_notifications": sends the group's pending notifications from the audit outbox. */
df.app.activity("deliver_notifications" satisfies typeof DELIVER_NOTIFICATIONS_ACTIVITY, {
  handler: (input: unknown) => deliverNotifications(runtimeDeps(), deliverNotificationsInputSchema.parse(input).group),
});
