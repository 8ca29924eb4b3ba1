import * as df from "durable-functions";
import type { OrchestrationContext, OrchestrationHandler } from "durable-functions";
import { describeError } from "../core/errors";
import type { GroupRemoved, HealthCheckResponse, SwitchCycleResponse, SwitchTargetResponse } from "../core/operations";
import {
  DELIVER_NOTIFICATIONS_ACTIVITY,
  DO_FAILOVER_ACTIVITY,
  HEALTH_CHECK_ACTIVITY,
  ORCHESTRATOR_NAME,
  RECORD_ERROR_ACTIVITY,
  SWITCH_CYCLE_ACTIVITY,
  WAKE_EVENT,
  cycleStatus,
  nextCheckDue,
  nextCycle,
  orchestratorInputSchema,
  type FailoverActivityInput,
} from "../core/orchestrationContract";
import { recordCycle } from "../core/telemetry";

/**
 * The eternal loop of one failover group, one cycle per execution:
 * check -> switch if the policy says so -> deliver pending notifications -> wait for the timer or a wake event -> continueAsNew.
 * Deterministic: time only from currentUtcDateTime, every I/O in an activity.
 */
export const failoverOrchestrator: OrchestrationHandler = function* (context: OrchestrationContext) {
  const input = orchestratorInputSchema.parse(context.df.getInput());
  const { group } = input;
  // The cycle's start (the first episode's time): it names the cycle and anchors the next one,
  // so a slow check does not stretch the period.
  const cycleStart = context.df.currentUtcDateTime;
  let check: HealthCheckResponse | undefined;
  let switched: SwitchTargetResponse | undefined;
  let error: string | undefined;
  let switchProgress: SwitchCycleResponse | undefined;
  try {
    const result = (yield context.df.callActivity(HEALTH_CHECK_ACTIVITY, { group, cycle: cycleStart.toISOString() })) as (HealthCheckResponse & { traceparent?: string }) | GroupRemoved;
    if ("removed" in result) return `group "${group}" has no state row any more; the orchestration ends`;
    check = result;
    if (check.recommendation !== "none") {
      const request: FailoverActivityInput = {
        group,
        kind: check.recommendation,
        expected_from: check.active_target,
        automatic: true,
        reason: check.reason,
        actor: "orchestrator",
        ...(result.traceparent ? { traceparent: result.traceparent } : {}),
      };
      switched = (yield context.df.callActivity(DO_FAILOVER_ACTIVITY, request)) as SwitchTargetResponse;
    }
    // With a switch plan: move the traffic the row says (a switch just made, a pending or failed one,
    // verification), look for drift every Nth cycle and check readiness now and then.
    if (check.has_switch_plan)
      switchProgress = (yield context.df.callActivity(SWITCH_CYCLE_ACTIVITY, {
        group,
        cycle: input.cycle ?? 0,
        ...(result.traceparent ? { traceparent: result.traceparent } : {}),
      })) as SwitchCycleResponse;
  } catch (err) {
    // One bad check never ends the loop: record it on the row and carry on.
    error = describeError(err).split("\n")[0];
    try {
      yield context.df.callActivity(RECORD_ERROR_ACTIVITY, { group, error });
    } catch {
      // Storage itself is failing; the next cycle tries again.
    }
  }
  // The outbox: notifications of this cycle's transitions (and of control actions) leave here,
  // after the check and the switch, so a dead webhook never delays either.
  if (check?.has_webhook) {
    try {
      yield context.df.callActivity(DELIVER_NOTIFICATIONS_ACTIVITY, { group });
    } catch {
      // Storage failing: the entries stay pending and the next cycle tries again.
    }
  }
  const intervalSeconds = check?.check_interval_seconds ?? input.interval_seconds;
  const nextCheck = nextCheckDue(check, switchProgress, cycleStart, intervalSeconds, context.df.currentUtcDateTime);
  context.df.setCustomStatus(cycleStatus(group, context.df.currentUtcDateTime, nextCheck, check, switched, error, switchProgress));
  // The loop's heartbeat, counted once: replays of this episode skip it.
  if (!context.df.isReplaying) recordCycle(group, error ? "error" : "ok", intervalSeconds);

  const timer = context.df.createTimer(nextCheck);
  const wake = context.df.waitForExternalEvent(WAKE_EVENT);
  const winner = yield context.df.Task.any([timer, wake]);
  if (winner !== timer) timer.cancel();

  context.df.continueAsNew({ group, interval_seconds: intervalSeconds, cycle: nextCycle(input.cycle) });
};

df.app.orchestration("failover_orchestrator" satisfies typeof ORCHESTRATOR_NAME, failoverOrchestrator);
