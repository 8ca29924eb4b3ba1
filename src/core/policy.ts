import { addSeconds } from "./clock";
import { TEXT_LIMITS, cleanText } from "./text";
import type { Policy } from "./knobs";
import type { ProbeResult } from "./probe";
import { votesText, type Vote } from "./vantage";
import { decideProposal, proposalAllows, withdrawProposal } from "./decisionModes";
import { healthField, otherTarget, transitionSummary, withTransition, withoutProposal, type FailoverState, type Target, type TransitionSummary } from "./state";

/**
 * Pure decisions: (state, probe results, policy, now) -> next state and what to do.
 * No I/O, no clock, no randomness: the orchestrator, the HTTP API and the tests call these.
 */

export const RECOMMENDATIONS = ["none", "failover", "failback"] as const;
export type Recommendation = (typeof RECOMMENDATIONS)[number];

export interface CheckProbes {
  /** Probe of the active endpoint. */
  readonly active: ProbeResult;
  /** Probe of the standby (the other endpoint), when the check probed it: always while the secondary is active (failback counting), every `standby_check_every` intervals otherwise. */
  readonly standby?: ProbeResult;
  /** Each vantage's vote about the active endpoint, when more than one judged it: a failover's reason names them. */
  readonly activeVotes?: readonly Vote[];
}

/** A verdict of votes too few to reach the quorum (see vantage.ts): it counts neither way. */
export function isInconclusive(probe: ProbeResult | undefined): boolean {
  return probe?.error_class === "inconclusive";
}

export interface CheckOutcome {
  readonly next: FailoverState;
  readonly recommendation: Recommendation;
  /** Why the recommendation is what it is, e.g. "threshold_reached" or "cooldown_active". */
  readonly reason: string;
  /** Transitions this check itself caused (a pause that expired). */
  readonly transitions: readonly TransitionSummary[];
}

export function isCoolingDown(state: FailoverState, now: Date): boolean {
  return state.lock_until_utc !== undefined && Date.parse(state.lock_until_utc) > now.getTime();
}

/** Ends a pause whose paused_until_utc has passed. */
export function expirePause(state: FailoverState, now: Date): { state: FailoverState; transition?: TransitionSummary } {
  if (!state.paused || state.paused_until_utc === undefined || Date.parse(state.paused_until_utc) > now.getTime()) return { state };
  const transition = transitionSummary("resume", state.active_target, state.active_target, `pause expired at ${state.paused_until_utc}`, "system", now);
  const resumed = { ...state, paused: false, paused_until_utc: undefined, pause_reason: undefined };
  return { state: withTransition(resumed, transition), transition };
}

/** The longest failback hold: 72 hours, as a zonal shift's. A hold always ends by itself. */
export const MAX_HOLD_SECONDS = 72 * 3600;

/** True while a failback hold stands: no automatic failback until hold_until_utc. */
export function isHeld(state: FailoverState, now: Date): boolean {
  return state.hold_until_utc !== undefined && Date.parse(state.hold_until_utc) > now.getTime();
}

function releasedHold(state: FailoverState): FailoverState {
  return { ...state, hold_until_utc: undefined, hold_owner: undefined, hold_reason: undefined };
}

/** Ends a failback hold whose hold_until_utc has passed, with an audit entry. */
export function expireHold(state: FailoverState, now: Date): { state: FailoverState; transition?: TransitionSummary } {
  if (state.hold_until_utc === undefined || isHeld(state, now)) return { state };
  const transition = transitionSummary("hold_released", state.active_target, state.active_target, `hold by ${state.hold_owner ?? "unknown"} expired at ${state.hold_until_utc}`, "system", now);
  return { state: withTransition(releasedHold(state), transition), transition };
}

/** A caller's clock may run ahead of this one: a hold end at most this much past 72 hours is cut to 72 hours, not refused. */
export const HOLD_CLOCK_GRACE_SECONDS = 60;

/** The end of a requested hold: in the future, at most MAX_HOLD_SECONDS away (within the grace, cut to it); or the problem. */
export function holdEnd(until: Date, now: Date): { until: Date } | { problem: string } {
  const longest = now.getTime() + MAX_HOLD_SECONDS * 1000;
  if (until.getTime() <= now.getTime()) return { problem: `${until.toISOString()} is not in the future` };
  if (until.getTime() > longest + HOLD_CLOCK_GRACE_SECONDS * 1000) return { problem: `${until.toISOString()} is more than 72 hours away (a hold must expire within ${MAX_HOLD_SECONDS} s)` };
  return { until: new Date(Math.min(until.getTime(), longest)) };
}

export interface HoldRequest {
  readonly until: Date;
  readonly reason: string;
  /** Who holds it: the caller. */
  readonly owner: string;
}

/** Sets or replaces the failback hold; the caller checked the time limits (holdUntilProblem). No transition when nothing changes. */
export function decideHold(state: FailoverState, request: HoldRequest, now: Date): { next: FailoverState; transition?: TransitionSummary } {
  const until = request.until.toISOString();
  const reason = cleanText(request.reason, TEXT_LIMITS.reason);
  const owner = cleanText(request.owner, TEXT_LIMITS.actor);
  if (state.hold_until_utc === until && state.hold_reason === reason && state.hold_owner === owner) return { next: state };
  const transition = transitionSummary("hold", state.active_target, state.active_target, `${reason} (until ${until})`, owner, now);
  return { next: withTransition({ ...state, hold_until_utc: until, hold_owner: owner, hold_reason: reason }, transition), transition };
}

/** Ends the failback hold before its time; nothing when there is none. */
export function decideRelease(state: FailoverState, request: { reason: string; actor: string }, now: Date): { next: FailoverState; transition?: TransitionSummary } {
  if (state.hold_until_utc === undefined) return { next: state };
  const transition = transitionSummary("hold_released", state.active_target, state.active_target, request.reason, request.actor, now);
  return { next: withTransition(releasedHold(state), transition), transition };
}

function recordProbe(state: FailoverState, probe: ProbeResult): FailoverState {
  return {
    ...state,
    last_latency_ms: probe.latency_ms,
    last_status_code: probe.status_code,
    last_error: probe.healthy ? undefined : probe.error,
    last_error_class: probe.healthy ? undefined : probe.error_class,
  };
}

/**
 * How early a cycle may start and still be the counted one: a durable timer that fires a few
 * milliseconds before its due time (the extension's and the local host's alike) must not turn
 * the check into an uncounted one followed at once by another. A tenth of the interval, at
 * most 100 ms: a cycle a wake event started early stays uncounted.
 */
export function countTolerance(intervalSeconds: number): number {
  return Math.min(100, intervalSeconds * 100);
}

/**
 * True when `cycle` starts at least one interval (less the tolerance) after the last counted
 * cycle. Cycles are named by their start time (ISO); a name that is not a time (tests) always counts.
 */
export function intervalElapsed(lastCounted: string | undefined, cycle: string, intervalSeconds: number): boolean {
  const last = Date.parse(lastCounted ?? "");
  const current = Date.parse(cycle);
  return Number.isNaN(last) || Number.isNaN(current) || current - last >= intervalSeconds * 1000 - countTolerance(intervalSeconds);
}

/**
 * Whether a check at `now` probes the standby too: always while the secondary is active (its
 * health counts toward failback); otherwise every `standby_check_every` intervals (less the
 * count tolerance) since the standby was last probed by a check, never when it is 0.
 */
export function standbyCheckDue(state: FailoverState, policy: Policy, now: Date): boolean {
  if (state.active_target === "secondary") return true;
  const every = policy.standby_check_every;
  if (every === 0) return false;
  const last = Date.parse(state.standby_checked_utc ?? "");
  return Number.isNaN(last) || now.getTime() - last >= every * policy.check_interval_seconds * 1000 - countTolerance(policy.check_interval_seconds);
}

/**
 * The standby's side of a check: its streak of counted unhealthy probes, and a `standby_down`
 * transition when the streak reaches `failure_threshold` (the group has nowhere to go), a
 * `standby_recovered` one when a counted healthy probe ends such a streak. Neither moves
 * traffic: from and to are the active side, the reason names the standby.
 */
function foldStandby(base: FailoverState, standby: ProbeResult | undefined, counted: boolean, policy: Policy, now: Date): { fields: Partial<FailoverState>; transition?: TransitionSummary } {
  if (!standby) return { fields: {} };
  const active = base.active_target;
  const target = otherTarget(active);
  if (isInconclusive(standby)) return { fields: { standby_checked_utc: now.toISOString() } };
  const health = { [healthField(target)]: standby.healthy, standby_checked_utc: now.toISOString() };
  if (!counted) return { fields: health };
  const before = base.standby_consecutive_failures;
  const failures = standby.healthy ? 0 : before + 1;
  const fields = {
    ...health,
    standby_consecutive_failures: failures,
    standby_unhealthy_since_utc: failures === 0 ? undefined : failures === 1 ? now.toISOString() : (base.standby_unhealthy_since_utc ?? now.toISOString()),
  };
  const threshold = policy.failure_threshold;
  if (failures === threshold) {
    const why = `${standby.error_class ?? "unhealthy"}${standby.error ? `: ${standby.error}` : ""}`;
    return {
      fields,
      transition: transitionSummary(
        "standby_down",
        active,
        active,
        `the standby (${target}) failed ${failures} consecutive check${failures === 1 ? "" : "s"} (${why}); a switch would have nowhere to go`,
        "system",
        now,
      ),
    };
  }
  if (failures === 0 && before >= threshold) {
    return { fields, transition: transitionSummary("standby_recovered", active, active, `the standby (${target}) answered healthy after ${before} failed checks`, "system", now) };
  }
  return { fields };
}

/** When the next check that counts is due: one interval after the last counted cycle. */
export function nextCountedCheck(state: FailoverState, intervalSeconds: number): string | undefined {
  const last = Date.parse(state.last_cycle_id ?? "");
  return Number.isNaN(last) ? undefined : addSeconds(new Date(last), intervalSeconds).toISOString();
}

/**
 * Folds one health check into the row and says whether the policy now wants a switch.
 *
 * Only the orchestration's scheduled checks count toward the thresholds, once per cycle and
 * never two less than one interval apart: `cycle` identifies the orchestration cycle (its
 * start time). A check whose cycle is already recorded (the activity ran again: activities
 * run at least once) leaves the counters as they are, and so does a cycle that a wake event
 * started early: the control action takes effect at once, the hysteresis keeps its pace.
 * A manual check (`cycle` undefined) is never counted.
 */
export function evaluateCheck(current: FailoverState, probes: CheckProbes, policy: Policy, now: Date, cycle?: string): CheckOutcome {
  const unpaused = expirePause(current, now);
  const { state: base, transition: holdEnded } = expireHold(unpaused.state, now);
  const transitions = [unpaused.transition, holdEnded].filter((t): t is TransitionSummary => t !== undefined);
  const healthy = probes.active.healthy;
  // Too few votes: the streaks stay as they are (neither a failure nor a success is counted).
  const inconclusive = isInconclusive(probes.active);
  const active = base.active_target;
  const counted = cycle !== undefined && cycle !== base.last_cycle_id && intervalElapsed(base.last_cycle_id, cycle, policy.check_interval_seconds);
  const judged = counted && !inconclusive;
  const primaryHealthy = active === "primary" ? (inconclusive ? base.primary_healthy : healthy) : isInconclusive(probes.standby) ? base.primary_healthy : probes.standby?.healthy;
  const standby = foldStandby(base, probes.standby, counted, policy, now);
  const failures = judged ? (healthy ? 0 : base.consecutive_failures + 1) : base.consecutive_failures;
  const failbackSuccesses =
    !counted || (active === "secondary" && isInconclusive(probes.standby)) ? base.failback_successes : active === "secondary" && primaryHealthy === true ? base.failback_successes + 1 : 0;
  const inconclusiveChecks = counted ? (inconclusive ? base.inconclusive_checks + 1 : 0) : base.inconclusive_checks;
  let next: FailoverState = {
    ...recordProbe(base, probes.active),
    last_check_utc: now.toISOString(),
    last_status: inconclusive ? "INCONCLUSIVE" : healthy ? "OK" : "UNHEALTHY",
    consecutive_failures: failures,
    unhealthy_since_utc: failures === 0 ? undefined : judged && failures === 1 ? now.toISOString() : (base.unhealthy_since_utc ?? now.toISOString()),
    consecutive_successes: judged ? (healthy ? base.consecutive_successes + 1 : 0) : base.consecutive_successes,
    failback_successes: failbackSuccesses,
    inconclusive_checks: inconclusiveChecks,
    primary_healthy: primaryHealthy,
    secondary_healthy: active === "secondary" && !inconclusive ? healthy : base.secondary_healthy,
    ...standby.fields,
    last_cycle_id: counted ? cycle : base.last_cycle_id,
  };
  if (standby.transition) {
    next = withTransition(next, standby.transition);
    transitions.push(standby.transition);
  }
  if (counted && inconclusive && inconclusiveChecks === policy.failure_threshold) {
    const reported = transitionSummary(
      "checks_inconclusive",
      active,
      active,
      `${inconclusiveChecks} consecutive checks of the ${active} were inconclusive (${probes.active.error ?? "too few votes"})`,
      "system",
      now,
    );
    next = withTransition(next, reported);
    transitions.push(reported);
  }
  // A blocked failover stays visible as such while the active endpoint is still down.
  if (!healthy && !inconclusive && base.last_status === "FAILOVER_BLOCKED") next = { ...next, last_status: "FAILOVER_BLOCKED" };

  if (cycle === undefined) return { next, recommendation: "none", reason: "manual_check (not counted toward thresholds)", transitions };
  if (inconclusive) return { next, recommendation: "none", reason: `inconclusive (${inconclusiveChecks} in a row): too few vantages voted to reach the quorum`, transitions };
  const wants: Recommendation =
    failures >= policy.failure_threshold ? "failover" : active === "secondary" && policy.failback_mode === "automatic" && failbackSuccesses >= policy.recovery_threshold ? "failback" : "none";
  if (wants === "none") {
    const reason = failures === 0 ? "healthy" : `below_threshold (${failures}/${policy.failure_threshold})`;
    return withdrawProposal({ next, recommendation: "none", reason, transitions }, now);
  }
  if (next.paused) return { next, recommendation: "none", reason: "paused", transitions };
  // A cycle a wake event started early is not counted: its streaks are the last counted check's.
  // Its own probe must still agree, or the switch waits for the next counted check.
  // (A repeat of the counted check itself, an activity run again, keeps its answer.)
  const early = !counted && cycle !== base.last_cycle_id;
  const confirmed = wants === "failover" ? !healthy : probes.standby?.healthy === true;
  if (early && !confirmed) return { next, recommendation: "none", reason: `the latest probe does not confirm the ${wants}: waiting for the next counted check`, transitions };
  if (wants === "failback" && isHeld(next, now)) return { next, recommendation: "none", reason: `held (by ${next.hold_owner ?? "unknown"} until ${next.hold_until_utc})`, transitions };
  if (isCoolingDown(next, now)) return { next, recommendation: "none", reason: "cooldown_active", transitions };
  const votes = probes.activeVotes && probes.activeVotes.length > 1 ? `; votes: ${votesText(probes.activeVotes)}` : "";
  const reason =
    wants === "failover"
      ? `${failures} consecutive failed checks of the ${active} (threshold ${policy.failure_threshold})${votes}`
      : `${failbackSuccesses} consecutive healthy checks of the primary (recovery threshold ${policy.recovery_threshold})`;
  return decideProposal({ next, recommendation: wants, reason, transitions }, wants, policy, now);
}

export interface SwitchRequest {
  readonly kind: "failover" | "failback";
  /** The target the caller expects to move away from; a repeat that finds it moved changes nothing. */
  readonly expected_from: Target;
  /** Break-glass: skips the cooldown and the standby verification. Recorded as forced. */
  readonly force: boolean;
  /** True when the orchestrator asks: refused while the group is paused. */
  readonly automatic: boolean;
  readonly reason: string;
  readonly actor: string;
  /** A drill's leg: over (refused while paused, held or cooling down, like any planned switch) or back (its own over leg's cooldown does not stop it). */
  readonly drill?: "over" | "back";
}

export const REFUSAL_REASONS = ["already_failed_over", "already_on_primary", "cooldown_active", "paused", "held", "standby_unhealthy", "not_approved"] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export type SwitchOutcome =
  | { readonly changed: true; readonly next: FailoverState; readonly from: Target; readonly to: Target; readonly transition: TransitionSummary }
  | { readonly changed: false; readonly reason: RefusalReason; readonly next?: FailoverState; readonly transition?: TransitionSummary };

/**
 * Decides a switch away from `request.expected_from`. `standby` is the probe of the target it
 * would switch to (absent when forced: a forced switch does not verify the standby).
 */
export function decideSwitch(state: FailoverState, request: SwitchRequest, standby: ProbeResult | undefined, policy: Policy, now: Date): SwitchOutcome {
  const from = state.active_target;
  const to = otherTarget(from);
  if (from !== request.expected_from) {
    return { changed: false, reason: request.kind === "failback" ? "already_on_primary" : "already_failed_over" };
  }
  // An expired pause is cleared (and audited) by the next check; until then nothing switches by itself.
  if (request.automatic && state.paused) return { changed: false, reason: "paused" };
  // A failback hold keeps the group where it is; it never keeps traffic on a side that failed (an automatic failover is not a failback).
  if (request.automatic && request.kind === "failback" && isHeld(state, now)) return { changed: false, reason: "held" };
  // Outside decision_mode automatic the loop switches only what the row says was approved (or
  // unanswered with proceed): a reject written after the check that proposed it still counts.
  if (request.automatic && policy.decision_mode !== "automatic" && !proposalAllows(state, request, policy, now)) return { changed: false, reason: "not_approved" };
  // A drill moves only where the operator's own controls allow a planned switch, both ways.
  if (request.drill && state.paused) return { changed: false, reason: "paused" };
  if (request.drill && isHeld(state, now)) return { changed: false, reason: "held" };
  if (!request.force && request.drill !== "back" && isCoolingDown(state, now)) return { changed: false, reason: "cooldown_active" };
  if (!request.force && !standby?.healthy) {
    const detail = standby ? `${standby.error_class}: ${standby.error}` : "not probed";
    const reason = `the ${to} endpoint is unhealthy (${detail}); not switching to it`;
    const alreadyBlocked = state.last_status === "FAILOVER_BLOCKED";
    const transition = alreadyBlocked ? undefined : transitionSummary("failover_blocked", from, to, reason, request.actor, now);
    const blocked: FailoverState = {
      ...state,
      last_status: "FAILOVER_BLOCKED",
      last_error: reason,
      last_error_class: standby?.error_class,
      // Too few votes say nothing about the standby's health.
      ...(isInconclusive(standby) ? {} : { [healthField(to)]: false }),
    };
    return { changed: false, reason: "standby_unhealthy", next: transition ? withTransition(blocked, transition) : blocked, ...(transition ? { transition } : {}) };
  }
  const reason = request.force ? `forced: ${request.reason}` : request.reason;
  const transition = transitionSummary(request.kind, from, to, reason, request.actor, now);
  const next: FailoverState = {
    ...withoutProposal(state),
    active_target: to,
    failover_count: state.failover_count + 1,
    last_status: request.kind === "failback" ? "FAILBACK_DONE" : "FAILOVER_DONE",
    lock_until_utc: addSeconds(now, policy.cooldown_seconds).toISOString(),
    last_failover_utc: now.toISOString(),
    last_failover_forced: request.force,
    last_error: undefined,
    last_error_class: undefined,
    consecutive_failures: 0,
    unhealthy_since_utc: undefined,
    consecutive_successes: 0,
    failback_successes: 0,
    // The old active side is the standby now and keeps its streak of failed checks: a failover
    // away from a dead side is not reported again as standby_down; its recovery is reported.
    standby_consecutive_failures: state.consecutive_failures,
    standby_unhealthy_since_utc: state.unhealthy_since_utc,
    ...(standby ? { [healthField(to)]: standby.healthy } : {}),
  };
  return { changed: true, next: withTransition(next, transition), from, to, transition };
}

export { decideApproval, type ApprovalRequest } from "./decisionModes";

export interface PauseRequest {
  readonly until?: Date;
  readonly reason: string;
  readonly actor: string;
}

/** Pause or resume automatic switching; returns no transition when nothing changes. */
export function decidePause(state: FailoverState, request: PauseRequest, now: Date): { next: FailoverState; transition?: TransitionSummary } {
  const until = request.until?.toISOString();
  const reason = cleanText(request.reason, TEXT_LIMITS.reason);
  if (state.paused && state.paused_until_utc === until && state.pause_reason === reason) return { next: state };
  const note = until ? `${reason} (until ${until})` : reason;
  const transition = transitionSummary("pause", state.active_target, state.active_target, note, request.actor, now);
  const next = { ...state, paused: true, paused_until_utc: until, pause_reason: reason };
  return { next: withTransition(next, transition), transition };
}

export function decideResume(state: FailoverState, request: { reason: string; actor: string }, now: Date): { next: FailoverState; transition?: TransitionSummary } {
  if (!state.paused) return { next: state };
  const transition = transitionSummary("resume", state.active_target, state.active_target, request.reason, request.actor, now);
  const next = { ...state, paused: false, paused_until_utc: undefined, pause_reason: undefined };
  return { next: withTransition(next, transition), transition };
}
