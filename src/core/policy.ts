import { addSeconds } from "./clock";
import { TEXT_LIMITS, cleanText } from "./text";
import type { Policy } from "./knobs";
import type { ProbeResult } from "./probe";
import { votesText, type Vote } from "./vantage";
import { healthField, otherTarget, withTransition, withoutProposal, type FailoverState, type Target, type TransitionKind, type TransitionSummary } from "./state";

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

/** Every transition's reason and actor are cleaned and capped here, before the row, the audit, logs or a webhook see them. */
function summary(kind: TransitionKind, from: Target, to: Target, reason: string, actor: string, now: Date): TransitionSummary {
  return { at: now.toISOString(), kind, from, to, reason: cleanText(reason, TEXT_LIMITS.reason), actor: cleanText(actor, TEXT_LIMITS.actor) };
}

/** Ends a pause whose paused_until_utc has passed. */
export function expirePause(state: FailoverState, now: Date): { state: FailoverState; transition?: TransitionSummary } {
  if (!state.paused || state.paused_until_utc === undefined || Date.parse(state.paused_until_utc) > now.getTime()) return { state };
  const transition = summary("resume", state.active_target, state.active_target, `pause expired at ${state.paused_until_utc}`, "system", now);
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
  const transition = summary("hold_released", state.active_target, state.active_target, `hold by ${state.hold_owner ?? "unknown"} expired at ${state.hold_until_utc}`, "system", now);
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
  const transition = summary("hold", state.active_target, state.active_target, `${reason} (until ${until})`, owner, now);
  return { next: withTransition({ ...state, hold_until_utc: until, hold_owner: owner, hold_reason: reason }, transition), transition };
}

/** Ends the failback hold before its time; nothing when there is none. */
export function decideRelease(state: FailoverState, request: { reason: string; actor: string }, now: Date): { next: FailoverState; transition?: TransitionSummary } {
  if (state.hold_until_utc === undefined) return { next: state };
  const transition = summary("hold_released", state.active_target, state.active_target, request.reason, request.actor, now);
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
      transition: summary(
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
    return { fields, transition: summary("standby_recovered", active, active, `the standby (${target}) answered healthy after ${before} failed checks`, "system", now) };
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
    const reported = summary(
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

/** What a proposal says the check saw of the standby. */
function standbySeen(state: FailoverState): string {
  const standby = otherTarget(state.active_target);
  const healthy = state[healthField(standby)];
  const health = healthy === true ? "healthy" : healthy === false ? `unhealthy (${state.standby_consecutive_failures} failed checks)` : "not checked yet";
  return `the standby (${standby}) ${health}${state.standby_checked_utc ? ` at ${state.standby_checked_utc}` : ""}`;
}

/**
 * The decision mode's say on a switch the policy wants (decision_mode): automatic makes it;
 * approval proposes it once (an approval_requested transition with what was seen) and makes it
 * when an operator approves, or when nobody answers by proposal_expires_utc and
 * approval_timeout_action is proceed (abandon: approval_expired, no switch until the condition
 * clears); notify_only proposes it (switch_recommended) and never makes it. A rejected or
 * abandoned proposal stays on the row, so the same incident is not proposed again.
 */
function decideProposal(outcome: CheckOutcome, wants: "failover" | "failback", policy: Policy, now: Date): CheckOutcome {
  const { next } = outcome;
  if (policy.decision_mode === "automatic") return outcome;
  const from = next.active_target;
  const to = otherTarget(from);
  const waiting = (reason: string, state = next, transitions = outcome.transitions): CheckOutcome => ({ next: state, recommendation: "none", reason, transitions });
  // A proposal left from the other mode (the mode changed during the incident) does not fit: it is replaced.
  const fits = policy.decision_mode === "approval" ? next.proposal_state !== "notified" : next.proposal_state === "notified";
  const current = next.proposal_kind === wants && next.proposal_from === from && fits ? next.proposal_state : undefined;
  if (current === undefined && next.proposal_state !== undefined) return decideProposal(withdrawProposal(outcome, now, "replaced by a new proposal"), wants, policy, now);
  if (current === undefined) {
    const approval = policy.decision_mode === "approval";
    const expires = approval ? addSeconds(now, policy.approval_timeout_seconds).toISOString() : undefined;
    const seen = `${outcome.reason}; ${standbySeen(next)}`;
    const transition = approval
      ? summary("approval_requested", from, to, `${seen}; approve or reject by ${expires} (then: ${policy.approval_timeout_action})`, "system", now)
      : summary("switch_recommended", from, to, `${seen}; decision_mode notify_only: nothing switches by itself`, "system", now);
    const proposed: FailoverState = {
      ...withoutProposal(next),
      proposal_id: `${wants}-${now.getTime().toString(36)}`,
      proposal_state: approval ? "pending" : "notified",
      proposal_kind: wants,
      proposal_from: from,
      proposal_reason: cleanText(seen, TEXT_LIMITS.reason),
      proposal_created_utc: now.toISOString(),
      ...(expires ? { proposal_expires_utc: expires } : {}),
    };
    return waiting(approval ? `awaiting approval until ${expires}` : "notify_only: switch recommended, not made", withTransition(proposed, transition), [...outcome.transitions, transition]);
  }
  const decided = `${next.proposal_decided_by ?? "unknown"} at ${next.proposal_decided_utc ?? "?"}`;
  if (current === "approved") return { ...outcome, reason: `approved by ${decided}: ${outcome.reason}` };
  if (current === "rejected") return waiting(`rejected by ${decided}: no automatic ${wants} until the condition clears`);
  if (current === "expired") return waiting(`the proposal expired unanswered at ${next.proposal_expires_utc ?? "?"}: no automatic ${wants} until the condition clears`);
  if (current === "notified") return waiting("notify_only: switch recommended, not made");
  const expires = next.proposal_expires_utc;
  if (expires && Date.parse(expires) > now.getTime()) return waiting(`awaiting approval until ${expires}`);
  if (policy.approval_timeout_action === "proceed") return { ...outcome, reason: `no answer by ${expires ?? "?"}, proceeding (approval_timeout_action proceed): ${outcome.reason}` };
  const transition = summary("approval_expired", from, to, `no answer by ${expires ?? "?"}; abandoned (approval_timeout_action abandon) until the condition clears`, "system", now);
  const abandoned: FailoverState = { ...next, proposal_state: "expired", proposal_decided_by: "system", proposal_decided_utc: now.toISOString() };
  return waiting(`the proposal expired unanswered at ${expires ?? "?"}: no automatic ${wants} until the condition clears`, withTransition(abandoned, transition), [...outcome.transitions, transition]);
}

/** A check after which the policy wants no switch ends any proposal (or a new one replaces it): one still waiting or approved goes stale, with an audit entry. */
function withdrawProposal(outcome: CheckOutcome, now: Date, why = `the condition cleared (${outcome.reason})`): CheckOutcome {
  const { next } = outcome;
  if (next.proposal_state === undefined) return outcome;
  const cleared = withoutProposal(next);
  if (next.proposal_state !== "pending" && next.proposal_state !== "approved") return { ...outcome, next: cleared };
  const from = next.proposal_from ?? next.active_target;
  const transition = summary(
    "proposal_stale",
    from,
    otherTarget(from),
    `the ${next.proposal_kind ?? "switch"} proposed at ${next.proposal_created_utc ?? "?"} (${next.proposal_state}) is withdrawn: ${why}`,
    "system",
    now,
  );
  return { ...outcome, next: withTransition(cleared, transition), transitions: [...outcome.transitions, transition] };
}

export interface ApprovalRequest {
  /** The proposal the caller decides on: a decision about any other (an older one, a newer one) is refused. */
  readonly proposal_id: string;
  readonly approve: boolean;
  readonly reason: string;
  readonly actor: string;
}

/**
 * An operator's approve or reject of the row's proposal. A waiting, rejected or abandoned
 * proposal may be approved (the loop then switches at its next check, under the usual rules);
 * a waiting or approved one may be rejected. A repeat changes nothing; anything else is the problem.
 */
export function decideApproval(state: FailoverState, request: ApprovalRequest, now: Date): { next: FailoverState; transition?: TransitionSummary } | { problem: string } {
  const current = state.proposal_state;
  if (current === undefined) return { problem: "no switch is proposed for this group" };
  if (state.proposal_id !== request.proposal_id) return { problem: `proposal ${request.proposal_id} is not the group's proposal (${state.proposal_id ?? "?"}, ${current})` };
  const wanted = request.approve ? "approved" : "rejected";
  if (current === wanted) return { next: state };
  if (current === "notified") return { problem: `proposal ${request.proposal_id} is a recommendation (decision_mode notify_only): switch by hand with do_failover or failback` };
  if (!request.approve && current === "expired") return { problem: `proposal ${request.proposal_id} already expired unanswered` };
  const from = state.proposal_from ?? state.active_target;
  const what = `${state.proposal_kind ?? "switch"} ${from} -> ${otherTarget(from)} proposed at ${state.proposal_created_utc ?? "?"}`;
  const transition = summary(request.approve ? "approval_granted" : "approval_rejected", from, otherTarget(from), `${request.reason} (${what})`, request.actor, now);
  const next: FailoverState = { ...state, proposal_state: wanted, proposal_decided_by: transition.actor, proposal_decided_utc: now.toISOString() };
  return { next: withTransition(next, transition), transition };
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
    const transition = alreadyBlocked ? undefined : summary("failover_blocked", from, to, reason, request.actor, now);
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
  const transition = summary(request.kind, from, to, reason, request.actor, now);
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

/** The row's proposal lets the loop make this switch: approved, or unanswered past its timeout with proceed (decision_mode approval). */
function proposalAllows(state: FailoverState, request: SwitchRequest, policy: Policy, now: Date): boolean {
  if (policy.decision_mode !== "approval" || state.proposal_kind !== request.kind || state.proposal_from !== request.expected_from) return false;
  if (state.proposal_state === "approved") return true;
  const expired = state.proposal_expires_utc !== undefined && Date.parse(state.proposal_expires_utc) <= now.getTime();
  return state.proposal_state === "pending" && policy.approval_timeout_action === "proceed" && expired;
}

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
  const transition = summary("pause", state.active_target, state.active_target, note, request.actor, now);
  const next = { ...state, paused: true, paused_until_utc: until, pause_reason: reason };
  return { next: withTransition(next, transition), transition };
}

export function decideResume(state: FailoverState, request: { reason: string; actor: string }, now: Date): { next: FailoverState; transition?: TransitionSummary } {
  if (!state.paused) return { next: state };
  const transition = summary("resume", state.active_target, state.active_target, request.reason, request.actor, now);
  const next = { ...state, paused: false, paused_until_utc: undefined, pause_reason: undefined };
  return { next: withTransition(next, transition), transition };
}
