import { app } from "@azure/functions";
import * as df from "durable-functions";
import { groupNameSchema } from "../core/config";
import { describeError } from "../core/errors";
import { bootstrap, pruneAudit, recordLoopRestarted, recordLoopResumed } from "../core/operations";
import { WAKE_EVENT, stuckLoopAction } from "../core/orchestrationContract";
import { recordLoopWatch } from "../core/telemetry";
import { ensureOrchestration, restartLoop, resumeIfSuspended } from "./shared/orchestrationClient";
import { runtimeDeps } from "./shared/runtimeDeps";

/**
 * Every 5 minutes: make sure the default group's row exists (when its endpoints are configured)
 * and that every group's singleton orchestration is alive and running: a Suspended one is
 * resumed, with an audit entry and an error-level log line naming the group; one stuck in
 * Running or Pending (its next check more than 3 intervals late) is woken, and still stuck at
 * the next run is terminated and started again, with an audit entry and an error-level log
 * line. It reports each group's loop (failover.loop.overdue), which the "loop stopped" and
 * "watchdog silent" alerts read. Then the group's audit retention (bounded work per run). A fresh
 * deployment needs no manual start, and one group's failure never stops the others.
 */
app.timer("watchdog", {
  // 5 minutes bounds how long a group's loop can stay dead; each run costs storage requests
  // (its own reads plus the Durable status queries), so not every minute.
  schedule: "0 */5 * * * *",
  extraInputs: [df.input.durableClient()],
  handler: async (_timer, context) => {
    const deps = runtimeDeps();
    try {
      if (deps.config.primaryEndpoint && deps.config.secondaryEndpoint) await bootstrap(deps, { group: deps.config.defaultGroup });
      else await deps.store.ensureTable();
    } catch (err) {
      // A malformed default row must not keep the other groups' orchestrations from being ensured.
      context.error(`watchdog could not ensure the default group "${deps.config.defaultGroup}": ${describeError(err)}`);
    }
    const client = df.getClient(context);
    for (const group of await deps.store.listGroups()) {
      if (!groupNameSchema.safeParse(group).success) {
        context.error(`watchdog skips RowKey "${group}": not a valid group name (1-63 letters, digits, '-' or '_')`);
        continue;
      }
      try {
        const { started, instance } = await ensureOrchestration(client, group, deps.config.policy.check_interval_seconds);
        if (started) context.log(`watchdog started ${instance.instance_id} (was ${instance.runtime_status ?? "missing"})`);
        if (await resumeIfSuspended(client, instance, "resumed by the watchdog: a Suspended loop checks nothing")) {
          const since = instance.last_updated_time ? `suspended since ${instance.last_updated_time}` : "suspended";
          context.error(`watchdog found the loop of group "${group}" (${instance.instance_id}) Suspended, so no checks ran; it resumed it (${since})`);
          await recordLoopResumed(deps, group, since);
        }
        const stuck = stuckLoopAction(instance, deps.config.policy.check_interval_seconds, deps.clock.now());
        recordLoopWatch(group, stuck.overdueSeconds, stuck.intervalSeconds);
        const late = `its next check is ${stuck.overdueSeconds} s late, more than 3 intervals of ${stuck.intervalSeconds} s`;
        if (stuck.action === "wake") {
          context.warn(`watchdog found the loop of group "${group}" (${instance.instance_id}) ${instance.runtime_status} but not cycling (${late}); it sent a wake event`);
          await client.raiseEvent(instance.instance_id, WAKE_EVENT, { reason: "watchdog: loop overdue" });
        } else if (stuck.action === "restart") {
          const restarted = await restartLoop(client, group, deps.config.policy.check_interval_seconds, "terminated by the watchdog: stuck, not cycling");
          context.error(
            `watchdog found the loop of group "${group}" (${instance.instance_id}) still not cycling after a wake (${late}); it terminated it and ${restarted ? "started it again" : "will start it at its next run"}`,
          );
          await recordLoopRestarted(deps, group, late);
        }
      } catch (err) {
        context.error(`watchdog could not ensure the orchestration of group "${group}": ${describeError(err)}`);
      }
      try {
        const pruned = await pruneAudit(deps, group);
        if (pruned.deleted > 0 || pruned.expired > 0) {
          context.log(`watchdog audit retention of group "${group}": ${pruned.deleted} deleted, ${pruned.expired} notifications expired${pruned.capped ? " (capped; the next run goes on)" : ""}`);
        }
      } catch (err) {
        context.error(`watchdog could not apply audit retention to group "${group}": ${describeError(err)}`);
      }
    }
  },
});
