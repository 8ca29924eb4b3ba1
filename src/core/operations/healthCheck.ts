import { z } from "zod";
import { redact } from "../redact";
import { judgeOnce, type FailoverDeps } from "../deps";
import { isFailoverError } from "../errors";
import { RECOMMENDATIONS, evaluateCheck, nextCountedCheck, standbyCheckDue, type CheckOutcome, type Recommendation } from "../policy";
import type { Policy } from "../knobs";
import { PROBE_ERROR_CLASSES, type ProbeResult } from "../probe";
import { voteSchema, type Judgement } from "../vantage";
import { effectivePolicy, endpointOf, healthField, otherTarget, targetSchema, type FailoverState, type Target } from "../state";
import { planText } from "../switch/saga";
import { recordGroupState, recordProbe, recordStandby, recordVote } from "../telemetry";
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
  votes: z.array(voteSchema).optional().describe("Each vantage's vote about the active endpoint, when more than one judges the group (VANTAGES, QUORUM)."),
  standby_votes: z.array(voteSchema).optional().describe("Each vantage's vote about the standby, when this check probed it and more than one vantage judges."),
  inconclusive_checks: z.number().int().optional().describe("Counted checks in a row whose votes could not reach the quorum (absent when 0)."),
  recommendation: z.enum(RECOMMENDATIONS),
  reason: z.string(),
  check_interval_seconds: z.number().int(),
  next_counted_check_utc: z.string().optional().describe("One interval after the last counted check: the orchestration's next check is due then."),
  approval_due_utc: z.string().optional().describe("With a proposal waiting for approval: when approval_timeout_action applies (the orchestration's timer is due then at the latest)."),
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
    ...(s.last_votes ? { votes: s.last_votes } : {}),
    ...(s.inconclusive_checks > 0 ? { inconclusive_checks: s.inconclusive_checks } : {}),
    recommendation: verdict.recommendation,
    reason: verdict.reason,
    check_interval_seconds: policy.check_interval_seconds,
    ...(next ? { next_counted_check_utc: next } : {}),
    ...(s.proposal_state === "pending" && s.proposal_expires_utc ? { approval_due_utc: s.proposal_expires_utc } : {}),
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
  const judgeUrl = judgeOnce(deps);
  const { outcome, response, probed } = await readDecideWrite(
    deps.store,
    group,
    async (loaded) => {
      const policy = effectivePolicy(deps.config.policy, loaded.overrides);
      const judge = (url: string) => judgeUrl(url, policy);
      const active = loaded.state.active_target;
      const now = deps.clock.now();
      const [activeJudged, standbyJudged] = await Promise.all([
        judge(endpointOf(loaded.state, active)),
        standbyCheckDue(loaded.state, policy, now) ? judge(endpointOf(loaded.state, otherTarget(active))) : Promise.resolve(undefined),
      ]);
      const probes = { active: activeJudged.probe, ...(standbyJudged ? { standby: standbyJudged.probe } : {}), activeVotes: activeJudged.votes };
      const decided: CheckOutcome = evaluateCheck(loaded.state, probes, policy, now, cycle);
      // The votes are kept only when more than one vantage judges: a group judged by the controller alone writes what it always wrote.
      const s: FailoverState = { ...decided.next, last_votes: votesKept(activeJudged), ...(standbyJudged ? { standby_votes: votesKept(standbyJudged) } : {}) };
      const response: HealthCheckResponse = {
        ...checkResponse(group, activeJudged.probe, s, policy, decided),
        ...(standbyJudged && votesKept(standbyJudged) ? { standby_votes: standbyJudged.votes } : {}),
        ...(planText(loaded.raw, group, deps.config) ? { has_switch_plan: true } : {}),
        ...(deps.config.notifyWebhookUrl ? { has_webhook: true } : {}),
      };
      return {
        next: s,
        result: {
          outcome: { ...decided, next: s },
          response,
          probed: { target: active, active: activeJudged, standby: standbyJudged, standbyDown: s.standby_consecutive_failures >= policy.failure_threshold },
        },
      };
    },
    recentlyWritten(deps, group),
  );
  recordJudgement(group, probed.target, probed.active);
  if (probed.standby) {
    recordJudgement(group, otherTarget(probed.target), probed.standby);
    recordStandby(group, probed.standbyDown);
  }
  recordGroupState(group, outcome.next);
  for (const transition of outcome.transitions) await recordTransition(deps, group, transition, outcome.next);
  return response;
}

/** The votes the row keeps: all of them when more than one vantage judged, none otherwise. */
function votesKept(judged: Judgement): Judgement["votes"] | undefined {
  return judged.votes.length > 1 ? judged.votes : undefined;
}

/** The verdict's probe metrics, and each vantage's when more than one judged. */
function recordJudgement(group: string, target: Target, judged: Judgement): void {
  recordProbe(group, target, judged.probe);
  if (judged.votes.length > 1) for (const vote of judged.votes) recordVote(group, target, vote);
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
