import { exponentialBackoffMs } from "../clock";
import type { AppConfig } from "../config";
import { FailoverError } from "../errors";
import type { FailoverState } from "../state";
import { InvalidPlanError, parsePlan, type SwitchPlan } from "./plan";
import type { ApplyResult, Drift, VerifyResult } from "./runPlan";

/**
 * The switch saga on the row, as pure functions of (row, result, now):
 *   intent   (written with the new active_target, in the same conditional write):
 *            switch_state=applying, switch_target, switch_plan_generation, detection/intent times
 *   apply    -> applied (per-step results, applied time) or failed (step, error class, message,
 *               next attempt after a backoff that honours Retry-After)
 *   verify   -> verified (time) or propagating (Front Door still deploying, TM probes pending,
 *               a read that failed): later cycles only read back, never apply again, until
 *               verified or the plan's verify_timeout_seconds (then failed, class timeout);
 *               a mismatch is failed (class mismatch) and applied again after a backoff.
 * The row is the truth: every cycle resumes from it, so a crash anywhere loses nothing.
 */

export const BACKOFF_BASE_MS = 5_000;
export const BACKOFF_MAX_MS = 300_000;
const MAX_STEPS_TEXT = 8_000;

/** The settings that say where a group's plan comes from. */
export type PlanSettings = Pick<AppConfig, "defaultGroup" | "switchPlan">;

/** Where a group's plan comes from: its row's `switch_plan`, else for the default group the SWITCH_PLAN setting. */
export function planText(raw: Readonly<Record<string, unknown>>, group: string, config: PlanSettings): { text: string; source: string } | undefined {
  const own = raw.switch_plan;
  if (typeof own === "string" && own.trim() !== "") return { text: own, source: "switch_plan" };
  const setting = config.switchPlan;
  if (group === config.defaultGroup && setting && setting.trim() !== "") return { text: setting, source: "SWITCH_PLAN" };
  return undefined;
}

/** The group's plan, undefined without one; a malformed plan throws InvalidPlanError naming the step and field. */
export function loadPlan(raw: Readonly<Record<string, unknown>>, group: string, config: PlanSettings): SwitchPlan | undefined {
  const found = planText(raw, group, config);
  if (!found) return undefined;
  try {
    return parsePlan(found.text, found.source);
  } catch (err) {
    if (err instanceof InvalidPlanError) throw new InvalidPlanError(`switch plan of group "${group}": ${err.message}`);
    throw err;
  }
}

const CLEARED = {
  switch_attempts: 0,
  switch_next_attempt_utc: undefined,
  switch_error: undefined,
  switch_error_class: undefined,
  switch_failed_step: undefined,
  switch_steps: undefined,
  switch_applied_utc: undefined,
  switch_verified_utc: undefined,
} as const;

/** The intent, added to the row that makes `active_target` the new target. */
export function withIntent(next: FailoverState, plan: SwitchPlan, now: Date, detectedAt: Date): FailoverState {
  return {
    ...next,
    ...CLEARED,
    switch_state: "applying",
    switch_target: next.active_target,
    switch_plan_generation: plan.generation,
    switch_detected_utc: detectedAt.toISOString(),
    switch_intent_utc: now.toISOString(),
  };
}

/**
 * The row a switch writes: with a plan, the intent is added; without one, the row as decided.
 * A malformed plan refuses the switch with an error naming the step and field, and the row is
 * left as it was: moving the row without moving the traffic would make the row lie.
 */
export function withPlanIntent(raw: Readonly<Record<string, unknown>>, group: string, config: AppConfig, next: FailoverState, now: Date, detectedAt: Date): FailoverState {
  let plan: SwitchPlan | undefined;
  try {
    plan = loadPlan(raw, group, config);
  } catch (err) {
    if (err instanceof InvalidPlanError) throw new FailoverError("malformed_state", `${err.message}; nothing was switched`);
    throw err;
  }
  return plan ? withIntent(next, plan, now, detectedAt) : next;
}

/** What the switch cycle should do with this row now. */
export function dueAction(state: FailoverState, plan: SwitchPlan, now: Date): "apply" | "verify" | "wait" | "settled" {
  // A plan the row has never run, or a changed plan: verify that the world matches the row (a
  // mismatch then applies). Nothing is written, no webhook is sent, just for adopting a plan.
  if (isAdoption(state, plan)) return "verify";
  // The row was switched without an intent (edited by hand): apply.
  if (state.switch_target !== state.active_target) return "apply";
  if (state.switch_state === "applying") return "apply";
  if (state.switch_state === "failed") return state.switch_next_attempt_utc && new Date(state.switch_next_attempt_utc) > now ? "wait" : "apply";
  // Applied or propagating: only read back (never apply again) until verified or the deadline.
  if (state.switch_state === "applied" || state.switch_state === "propagating") return "verify";
  return "settled";
}

/** The row has never run this plan (no switch state, or another plan generation). */
export function isAdoption(state: FailoverState, plan: SwitchPlan): boolean {
  return state.switch_state === undefined || state.switch_plan_generation !== plan.generation;
}

/** Fields for a row whose plan is being applied without a recorded intent (see dueAction). */
export function adoptIntent(state: FailoverState, plan: SwitchPlan, now: Date): FailoverState {
  if (state.switch_target === state.active_target && state.switch_plan_generation === plan.generation && state.switch_state !== undefined) return state;
  return withIntent(state, plan, now, now);
}

export function backoffMs(attempts: number, retryAfterMs: number | undefined): number {
  return Math.max(exponentialBackoffMs(attempts, BACKOFF_BASE_MS, BACKOFF_MAX_MS), retryAfterMs ?? 0);
}

function stepsText(result: ApplyResult): string {
  const text = JSON.stringify(result.steps.map((s) => ({ step: s.step, kind: s.kind, status: s.status, writes: s.writes, ms: s.ms, detail: s.detail.slice(0, 300), ...(s.error_class ? { error_class: s.error_class } : {}) })));
  return text.length > MAX_STEPS_TEXT ? `${text.slice(0, MAX_STEPS_TEXT - 3)}...` : text;
}

export function afterApply(state: FailoverState, result: ApplyResult, now: Date): FailoverState {
  const attempts = (state.switch_attempts ?? 0) + 1;
  if (result.outcome === "applied") {
    return { ...state, ...CLEARED, switch_state: "applied", switch_attempts: attempts, switch_steps: stepsText(result), switch_applied_utc: now.toISOString() };
  }
  return failed(state, attempts, stepsText(result), (result.error ?? "unknown error"), result.error_class ?? "server_error", now, result.retry_after_ms, result.failed_step);
}

function failed(state: FailoverState, attempts: number, steps: string | undefined, error: string, errorClass: string, now: Date, retryAfterMs?: number, step?: number): FailoverState {
  return {
    ...state,
    switch_state: "failed",
    switch_attempts: attempts,
    ...(steps !== undefined ? { switch_steps: steps } : {}),
    switch_error: error.slice(0, 1000),
    switch_error_class: errorClass,
    switch_failed_step: step,
    switch_next_attempt_utc: new Date(now.getTime() + backoffMs(Math.max(1, attempts), retryAfterMs)).toISOString(),
  };
}

/** When a switch that is applied but not yet verified gives up: its applied (or intent) time plus the plan's verify timeout. */
export function verifyDeadline(state: FailoverState, plan: SwitchPlan): Date | undefined {
  const since = state.switch_applied_utc ?? state.switch_intent_utc;
  return since ? new Date(new Date(since).getTime() + plan.verify_timeout_seconds * 1000) : undefined;
}

/**
 * The row after reading back. Verified ends the switch. Propagating (Front Door deploying,
 * Traffic Manager probes pending) and a read that failed keep the switch in `propagating`:
 * later cycles only read, until verified or until the plan's verify timeout, after which it is
 * `failed` with class timeout (and applied again after a backoff). A mismatch (the resource
 * does not show what was applied) is `failed` with class mismatch and applied again after a
 * backoff; when adopting a plan, a mismatch is simply a switch to apply now.
 */
export function afterVerify(state: FailoverState, result: VerifyResult, now: Date, plan: SwitchPlan, adopting = false): FailoverState {
  if (result.outcome === "verified") return { ...state, switch_state: "verified", switch_verified_utc: now.toISOString(), switch_error: undefined, switch_error_class: undefined, switch_failed_step: undefined, switch_next_attempt_utc: undefined };
  const problem = result.steps.find((s) => s.status === result.outcome) ?? result.steps.find((s) => s.status !== "verified");
  const what = `verification: step ${problem?.step} (${problem?.label}): ${problem?.detail}`;
  if (result.outcome === "mismatch") {
    if (adopting) return { ...state, switch_state: "applying", switch_error: what.slice(0, 1000), switch_error_class: "mismatch" };
    return failed(state, state.switch_attempts ?? 0, undefined, what, "mismatch", now, undefined, problem?.step);
  }
  const deadline = verifyDeadline(state, plan);
  if (deadline && now >= deadline) {
    return failed(state, state.switch_attempts ?? 0, undefined, `${what}; not verified within ${plan.verify_timeout_seconds} s`, "timeout", now, undefined, problem?.step);
  }
  return {
    ...state,
    switch_state: "propagating",
    ...(result.outcome === "error" ? { switch_error: what.slice(0, 1000), switch_error_class: "verify_error" } : { switch_error: undefined, switch_error_class: undefined }),
  };
}

/** Seconds between the saga's times, for status and the audit entry. */
export function switchTimings(state: FailoverState): { intent_s?: number; applied_s?: number; verified_s?: number } {
  const t = (v: string | undefined) => (v ? new Date(v).getTime() : undefined);
  const detected = t(state.switch_detected_utc);
  if (detected === undefined) return {};
  const since = (v: string | undefined) => (t(v) === undefined ? undefined : Math.round((t(v)! - detected) / 100) / 10);
  const out: Record<string, number> = {};
  for (const [key, field] of [["intent_s", state.switch_intent_utc], ["applied_s", state.switch_applied_utc], ["verified_s", state.switch_verified_utc]] as const) {
    const v = since(field);
    if (v !== undefined) out[key] = v;
  }
  return out;
}


/** Whether this cycle compares the world with the row: every Nth cycle of the loop (0: never); a call from outside the loop always. */
export function driftCheckDue(every: number, cycle: number | undefined): boolean {
  if (every === 0) return false;
  return cycle === undefined || cycle % every === 0;
}

const MAX_DRIFT_TEXT = 1000;

/** The drifted steps and what differs, as status, the row and the audit entry show it. */
export function describeDrift(drifts: readonly Drift[]): string {
  const text = drifts.map((d) => `step ${d.step} (${d.label}): expected ${d.expected} only, reads ${d.actual} (${d.detail})`).join("; ");
  return text.length > MAX_DRIFT_TEXT ? `${text.slice(0, MAX_DRIFT_TEXT - 3)}...` : text;
}

/**
 * The row after a drift check of a verified switch, or undefined when nothing changes (no
 * write). A drift episode starts when a check finds a step that does not serve the row's target
 * (`switch_drift`, `switch_drift_since_utc`) and ends when a check finds none. With reconcile,
 * the row's target is applied again through the saga: an intent detected now.
 */
export function afterDriftCheck(state: FailoverState, drifts: readonly Drift[], action: "report" | "reconcile", plan: SwitchPlan, now: Date): FailoverState | undefined {
  if (drifts.length === 0) return state.switch_drift === undefined ? undefined : { ...state, switch_drift: undefined, switch_drift_since_utc: undefined };
  const drift = { switch_drift: describeDrift(drifts), switch_drift_since_utc: state.switch_drift_since_utc ?? now.toISOString() };
  if (action === "reconcile") return { ...withIntent(state, plan, now, now), ...drift };
  return state.switch_drift === drift.switch_drift ? undefined : { ...state, ...drift };
}

/** Whether the loop checks readiness now: every `minutes` (0: never; only at init and on demand). */
export function readinessDue(state: FailoverState, minutes: number, now: Date): boolean {
  if (minutes === 0) return false;
  if (!state.readiness_checked_utc) return true;
  return now.getTime() - new Date(state.readiness_checked_utc).getTime() >= minutes * 60_000;
}

const MAX_PROBLEMS = 20;

/** The row with a readiness result: ready, each problem (at most 20, each cut at 500 characters), when. */
export function withReadiness(state: FailoverState, result: { ready: boolean; problems: readonly string[] }, now: Date): FailoverState {
  const problems = result.problems.slice(0, MAX_PROBLEMS).map((p) => (p.length > 500 ? `${p.slice(0, 497)}...` : p));
  if (result.problems.length > MAX_PROBLEMS) problems.push(`... and ${result.problems.length - MAX_PROBLEMS} more`);
  return { ...state, readiness_ready: result.ready, readiness_problems: problems, readiness_checked_utc: now.toISOString() };
}
