import { z } from "zod";
import { redact } from "../redact";
import type { FailoverDeps } from "../deps";
import { isFailoverError } from "../errors";
import { RECOMMENDATIONS, evaluateCheck, nextCountedCheck, standbyCheckDue, type CheckOutcome, type Recommendation } from "../policy";
import type { Policy } from "../knobs";
import { PROBE_ERROR_CLASSES, probeOncePerUrl, probeOptions, type ProbeResult } from "../probe";
import { effectivePolicy, endpointOf, healthField, otherTarget, targetSchema, type FailoverState } from "../state";
import { planText } from "../switch/saga";
import { recordGroupState, recordProbe, recordStandby } from "../telemetry";
import { readDecideWrite, recentlyWritten } from "./readDecideWrite";
import { recordTransition } from "./recordTransition";

/** A check's answer: the probe of the active endpoint and the row's view after it. */
export const healthCheckResponseSchema = z.object({
  group: z.string(),
  healthy: z.boolean(),
  active_target: targetSchema,
  endpoint: z.string(),
  status_code: z.number().int().optional(),
  latency_ms: z.number(),
  error_class: z.enum(PROBE_ERROR_CLASSES).optional(),
  error: z.string().optional(),
  last_status: z.string(),
  consecutive_failures: z.number().int(),
  consecutive_successes: z.number().int(),
  failover_count: z.number().int(),
  lock_until_utc: z.string().optional(),
  paused: z.boolean(),
  primary_healthy: z.boolean().optional(),
  standby_healthy: z.boolean().optional().describe("The standby's health at its last probe (absent: not probed yet)."),
  standby_consecutive_failures: z.number().int().describe("The standby's streak of counted unhealthy checks."),
  standby_checked_utc: z.string().optional().describe("When a check last probed the standby (every STANDBY_CHECK_EVERY intervals; every cycle while the secondary is active)."),
  recommendation: z.enum(RECOMMENDATIONS),
  reason: z.string(),
  check_interval_seconds: z.number().int(),
  next_counted_check_utc: z.string().optional().describe("One interval after the last counted check: the orchestration's next check is due then."),
  has_switch_plan: z.boolean().optional().describe("The group has a switch plan: the orchestration then runs the switch cycle after the check."),
  has_webhook: z.boolean().optional().describe("A notification webhook is configured: the orchestration then delivers the group's outbox after the check."),
});
export type HealthCheckResponse = Readonly<z.infer<typeof healthCheckResponseSchema>>;

/** The standby's health as the row records it. */
function standbyView(s: FailoverState): { standby_healthy?: boolean; standby_consecutive_failures: number; standby_checked_utc?: string } {
  const healthy = s[healthField(otherTarget(s.active_target))];
  return {
    ...(healthy !== undefined ? { standby_healthy: healthy } : {}),
    standby_consecutive_failures: s.standby_consecutive_failures,
    ...(s.standby_checked_utc ? { standby_checked_utc: s.standby_checked_utc } : {}),
  };
}

/** The answer of a check: the probe of the active endpoint and the row's view after it. */
export function checkResponse(group: string, probe: ProbeResult, s: FailoverState, policy: Policy, verdict: { readonly recommendation: Recommendation; readonly reason: string }): HealthCheckResponse {
  const next = nextCountedCheck(s, policy.check_interval_seconds);
  return {
    group,
    healthy: probe.healthy,
    active_target: s.active_target,
    endpoint: redact(probe.url),
    ...(probe.status_code !== undefined ? { status_code: probe.status_code } : {}),
    latency_ms: probe.latency_ms,
    ...(probe.error_class ? { error_class: probe.error_class, error: probe.error } : {}),
    last_status: s.last_status,
    consecutive_failures: s.consecutive_failures,
    consecutive_successes: s.consecutive_successes,
    failover_count: s.failover_count,
    ...(s.lock_until_utc ? { lock_until_utc: s.lock_until_utc } : {}),
    paused: s.paused,
    ...(s.primary_healthy !== undefined ? { primary_healthy: s.primary_healthy } : {}),
    ...standbyView(s),
    recommendation: verdict.recommendation,
    reason: verdict.reason,
    check_interval_seconds: policy.check_interval_seconds,
    ...(next ? { next_counted_check_utc: next } : {}),
  };
}

/**
 * The orchestration's check: probes the active endpoint and, when due, the standby (every
 * cycle while the secondary is active; see standbyCheckDue), at once, and records both in one
 * row write. `cycle` names the orchestration cycle asking (see evaluateCheck).
 * Manual checks do not come here: they read and never write (manualCheck.ts). When the row
 * switches or its endpoint is edited while the probe runs, the write fails on the ETag and the
 * new active endpoint is probed.
 */
export async function healthCheck(deps: FailoverDeps, group: string, cycle: string): Promise<HealthCheckResponse> {
  const probe = probeOncePerUrl(deps.probe);
  const { outcome, response, probed } = await readDecideWrite(
    deps.store,
    group,
    async (loaded) => {
      const policy = effectivePolicy(deps.config.policy, loaded.overrides);
      const options = probeOptions(policy);
      const active = loaded.state.active_target;
      const now = deps.clock.now();
      const [activeProbe, standbyProbe] = await Promise.all([
        probe(endpointOf(loaded.state, active), options),
        standbyCheckDue(loaded.state, policy, now) ? probe(endpointOf(loaded.state, otherTarget(active)), options) : Promise.resolve(undefined),
      ]);
      const probes = { active: activeProbe, ...(standbyProbe ? { standby: standbyProbe } : {}) };
      const decided: CheckOutcome = evaluateCheck(loaded.state, probes, policy, now, cycle);
      const s = decided.next;
      const response: HealthCheckResponse = {
        ...checkResponse(group, activeProbe, s, policy, decided),
        ...(planText(loaded.raw, group, deps.config) ? { has_switch_plan: true } : {}),
        ...(deps.config.notifyWebhookUrl ? { has_webhook: true } : {}),
      };
      return {
        next: s,
        result: { outcome: decided, response, probed: { target: active, active: activeProbe, standby: standbyProbe, standbyDown: s.standby_consecutive_failures >= policy.failure_threshold } },
      };
    },
    recentlyWritten(deps, group),
  );
  recordProbe(group, probed.target, probed.active);
  if (probed.standby) {
    recordProbe(group, otherTarget(probed.target), probed.standby);
    recordStandby(group, probed.standbyDown);
  }
  recordGroupState(group, outcome.next);
  for (const transition of outcome.transitions) await recordTransition(deps, group, transition, outcome.next);
  return response;
}

/** What the orchestration's check returns when the group's row is gone: the loop then ends. */
export interface GroupRemoved {
  readonly group: string;
  readonly removed: true;
}

/** The orchestration's check: like healthCheck, but a deleted group ends the loop instead of failing every cycle. */
export async function cycleCheck(deps: FailoverDeps, group: string, cycle: string): Promise<HealthCheckResponse | GroupRemoved> {
  try {
    return await healthCheck(deps, group, cycle);
  } catch (err) {
    if (isFailoverError(err, "state_not_found")) return { group, removed: true };
    throw err;
  }
}
