import { addSeconds } from "./clock";
import type { Policy } from "./knobs";
import type { CheckOutcome, SwitchRequest } from "./policy";
import { TEXT_LIMITS, cleanText } from "./text";
import { healthField, otherTarget, transitionSummary, withTransition, withoutProposal, type FailoverState, type TransitionSummary } from "./state";

/**
 * The decision modes (decision_mode): what becomes of a switch the policy wants when a human
 * decides (approval) or only hears of it (notify_only). Pure decisions on the row's proposal:
 * propose, wait, act on an approval or a timeout, withdraw when the condition clears, and the
 * operator's approve or reject. policy.ts asks these at the end of a check and before a switch.
 */

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
export function decideProposal(outcome: CheckOutcome, wants: "failover" | "failback", policy: Policy, now: Date): CheckOutcome {
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
      ? transitionSummary("approval_requested", from, to, `${seen}; approve or reject by ${expires} (then: ${policy.approval_timeout_action})`, "system", now)
      : transitionSummary("switch_recommended", from, to, `${seen}; decision_mode notify_only: nothing switches by itself`, "system", now);
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
  const transition = transitionSummary("approval_expired", from, to, `no answer by ${expires ?? "?"}; abandoned (approval_timeout_action abandon) until the condition clears`, "system", now);
  const abandoned: FailoverState = { ...next, proposal_state: "expired", proposal_decided_by: "system", proposal_decided_utc: now.toISOString() };
  return waiting(`the proposal expired unanswered at ${expires ?? "?"}: no automatic ${wants} until the condition clears`, withTransition(abandoned, transition), [...outcome.transitions, transition]);
}

/** A check after which the policy wants no switch ends any proposal (or a new one replaces it): one still waiting or approved goes stale, with an audit entry. */
export function withdrawProposal(outcome: CheckOutcome, now: Date, why = `the condition cleared (${outcome.reason})`): CheckOutcome {
  const { next } = outcome;
  if (next.proposal_state === undefined) return outcome;
  const cleared = withoutProposal(next);
  if (next.proposal_state !== "pending" && next.proposal_state !== "approved") return { ...outcome, next: cleared };
  const from = next.proposal_from ?? next.active_target;
  const transition = transitionSummary(
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
  const transition = transitionSummary(request.approve ? "approval_granted" : "approval_rejected", from, otherTarget(from), `${request.reason} (${what})`, request.actor, now);
  const next: FailoverState = { ...state, proposal_state: wanted, proposal_decided_by: transition.actor, proposal_decided_utc: now.toISOString() };
  return { next: withTransition(next, transition), transition };
}

/** The row's proposal lets the loop make this switch: approved, or unanswered past its timeout with proceed (decision_mode approval). */
export function proposalAllows(state: FailoverState, request: SwitchRequest, policy: Policy, now: Date): boolean {
  if (policy.decision_mode !== "approval" || state.proposal_kind !== request.kind || state.proposal_from !== request.expected_from) return false;
  if (state.proposal_state === "approved") return true;
  const expired = state.proposal_expires_utc !== undefined && Date.parse(state.proposal_expires_utc) <= now.getTime();
  return state.proposal_state === "pending" && policy.approval_timeout_action === "proceed" && expired;
}
