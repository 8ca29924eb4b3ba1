import { exponentialBackoffMs } from "../clock";
import type { AppConfig } from "../config";
import { FailoverError } from "../errors";
import type { FailoverState } from "../state";
import { appConfigurationRefusal } from "./controlPlane";
import { InvalidPlanError, parsePlan, planSteps, type SwitchPlan } from "./plan";
import type { ApplyResult, CompensationResult, Drift, StepResult, VerifyResult } from "./runPlan";
import { appendLedger, ledgerText, parseLedger, type LedgerEntry } from "./session";

/**
 * The switch saga on the row, as pure functions of (row, result, now):
 *   intent   (written with the new active_target, in the same conditional write):
 *            switch_state=applying, switch_target, switch_intent_id, switch_plan_generation,
 *            detection/intent times
 *   apply    -> applied (per-step results, applied time); pending (a step waits for its change
 *               to finish, e.g. Front Door deploying: still applying, the next cycle applies again
 *               from the row, bounded by the plan's verify_timeout_seconds); failed with a
 *               transient error (step, error class, message, next attempt after a backoff:
 *               exponential, or exactly the service's Retry-After when it gave one); or a
 *               permanent error: held (on_failure=hold: what was applied stays) or compensating
 *               (on_failure=compensate: the applied steps are undone, then compensated). Held and
 *               compensated stop the saga until a human acts (a retry, a new switch, a new plan).
 *   verify   -> verified (time) or propagating (Front Door still deploying, TM probes pending,
 *               a read that failed): later cycles only read back, never apply again, until
 *               verified or the plan's verify_timeout_seconds (then failed, class timeout);
 *               a mismatch is failed (class mismatch) and applied again after a backoff.
 * Every write to the world is in the row's switch_ledger for the current intent.
 * The row is the truth: every cycle resumes from it, so a crash anywhere loses nothing.
 */

export const BACKOFF_BASE_MS = 5_000;
export const BACKOFF_MAX_MS = 300_000;
const MAX_STEPS_TEXT = 8_000;

/** The settings that say where a group's plan comes from, and what its App Configuration steps may name. */
export type PlanSettings = Pick<AppConfig, "defaultGroup" | "switchPlan"> & { readonly controlPlane: Pick<AppConfig["controlPlane"], "appConfigurationHosts"> };

/** Where a group's plan comes from: its row's `switch_plan`, else for the default group the SWITCH_PLAN setting. */
export function planText(raw: Readonly<Record<string, unknown>>, group: string, config: PlanSettings): { text: string; source: string } | undefined {
  const own = raw.switch_plan;
  if (typeof own === "string" && own.trim() !== "") return { text: own, source: "switch_plan" };
  const setting = config.switchPlan;
  if (group === config.defaultGroup && setting && setting.trim() !== "") return { text: setting, source: "SWITCH_PLAN" };
  return undefined;
}

/**
 * The group's plan, undefined without one; a malformed plan throws InvalidPlanError naming the
 * step and field. So does an `app_configuration` step naming a host that is not an App
 * Configuration store of the configured cloud (nor allowed by setting): no token is sent there.
 */
export function loadPlan(raw: Readonly<Record<string, unknown>>, group: string, config: PlanSettings): SwitchPlan | undefined {
  const found = planText(raw, group, config);
  if (!found) return undefined;
  try {
    return checkedPlan(parsePlan(found.text, found.source), found.source, config);
  } catch (err) {
    if (err instanceof InvalidPlanError) throw new InvalidPlanError(`switch plan of group "${group}": ${err.message}`);
    throw err;
  }
}

/** A parsed plan whose App Configuration endpoints this deployment may send its token to; else InvalidPlanError naming each step. */
export function checkedPlan(plan: SwitchPlan, source: string, config: PlanSettings): SwitchPlan {
  const problems = planSteps(plan).flatMap((step, index) => {
    if (step.kind !== "app_configuration") return [];
    const refusal = appConfigurationRefusal(step.endpoint, config.controlPlane.appConfigurationHosts);
    return refusal ? [`step ${index} (app_configuration): endpoint: ${refusal}`] : [];
  });
  if (problems.length > 0) throw new InvalidPlanError(`${source}: ${problems.join("; ")}`);
  return plan;
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
  switch_ledger: undefined,
} as const;

/** The id of an intent: its switch count, target and time (unique per intent, the same on every read of the row). */
export function intentId(failoverCount: number, target: string, at: Date): string {
  return `${failoverCount}-${target}-${at.getTime().toString(36)}`;
}

/** What an apply checks before each write: the row's target and intent are still the ones it started from. */
export function intentKey(state: Pick<FailoverState, "active_target" | "switch_intent_id"> | { active_target: unknown; switch_intent_id: unknown }): string {
  return `${String(state.active_target)}|${state.switch_intent_id === undefined || state.switch_intent_id === "" ? "" : String(state.switch_intent_id)}`;
}

/** The intent, added to the row that makes `active_target` the new target. */
export function withIntent(next: FailoverState, plan: SwitchPlan, now: Date, detectedAt: Date): FailoverState {
  return {
    ...next,
    ...CLEARED,
    switch_state: "applying",
    switch_target: next.active_target,
    switch_intent_id: intentId(next.failover_count, next.active_target, now),
    switch_plan_generation: plan.generation,
    switch_detected_utc: detectedAt.toISOString(),
    switch_intent_utc: now.toISOString(),
  };
}

/** The row with this cycle's writes added to its ledger (the writes of the current intent, newest 40). */
export function withLedger(state: FailoverState, writes: readonly LedgerEntry[]): FailoverState {
  if (writes.length === 0) return state;
  const text = ledgerText(appendLedger(parseLedger(state.switch_ledger), writes));
  return text === undefined ? state : { ...state, switch_ledger: text };
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
export function dueAction(state: FailoverState, plan: SwitchPlan, now: Date): "apply" | "verify" | "compensate" | "wait" | "held" | "settled" {
  // A plan the row has never run, or a changed plan: verify that the world matches the row (a
  // mismatch then applies). Nothing is written, no webhook is sent, just for adopting a plan.
  if (isAdoption(state, plan)) return "verify";
  // The row was switched without an intent (edited by hand): apply.
  if (state.switch_target !== state.active_target) return "apply";
  const due = !state.switch_next_attempt_utc || new Date(state.switch_next_attempt_utc) <= now;
  switch (state.switch_state) {
    case "applying":
      return "apply";
    case "failed":
      return due ? "apply" : "wait";
    case "compensating":
      return due ? "compensate" : "wait";
    // A permanent error stopped the saga: nothing is written until a human acts.
    case "held":
    case "compensated":
      return "held";
    // Applied or propagating: only read back (never apply again) until verified or the deadline.
    case "applied":
    case "propagating":
      return "verify";
    default:
      return "settled";
  }
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

/** The wait before the next attempt: the service's Retry-After when it gave one (at least the base backoff), else 5 s doubling to 5 minutes. */
export function backoffMs(attempts: number, retryAfterMs: number | undefined): number {
  if (retryAfterMs !== undefined) return Math.min(BACKOFF_MAX_MS, Math.max(retryAfterMs, BACKOFF_BASE_MS));
  return exponentialBackoffMs(attempts, BACKOFF_BASE_MS, BACKOFF_MAX_MS);
}

function stepsText(steps: readonly StepResult[]): string {
  const text = JSON.stringify(
    steps.map((s) => ({ step: s.step, kind: s.kind, status: s.status, writes: s.writes, ms: s.ms, detail: s.detail.slice(0, 300), ...(s.error_class ? { error_class: s.error_class } : {}) })),
  );
  return text.length > MAX_STEPS_TEXT ? `${text.slice(0, MAX_STEPS_TEXT - 3)}...` : text;
}

/**
 * The row after an apply (never called for a superseded one, whose result is dropped).
 * Pending stays applying until the plan's verify timeout from the intent, then fails (timeout).
 * A permanent error holds the switch, or with on_failure=compensate starts undoing it.
 */
export function afterApply(state: FailoverState, result: ApplyResult, now: Date, plan: SwitchPlan): FailoverState {
  const steps = stepsText(result.steps);
  if (result.outcome === "applied") {
    return {
      ...state,
      ...CLEARED,
      switch_ledger: state.switch_ledger,
      switch_state: "applied",
      switch_attempts: (state.switch_attempts ?? 0) + 1,
      switch_steps: steps,
      switch_applied_utc: now.toISOString(),
    };
  }
  if (result.outcome === "pending") {
    const deadline = state.switch_intent_utc ? new Date(state.switch_intent_utc).getTime() + plan.verify_timeout_seconds * 1000 : undefined;
    if (deadline !== undefined && now.getTime() >= deadline) {
      return failed(state, (state.switch_attempts ?? 0) + 1, steps, `${result.pending}; not done within ${plan.verify_timeout_seconds} s`, "timeout", now, undefined, result.steps.at(-1)?.step);
    }
    return { ...state, switch_state: "applying", switch_steps: steps, switch_error: undefined, switch_error_class: undefined, switch_failed_step: undefined, switch_next_attempt_utc: undefined };
  }
  const attempts = (state.switch_attempts ?? 0) + 1;
  const error = result.error ?? "unknown error";
  const errorClass = result.error_class ?? "server_error";
  if (result.permanent) {
    return {
      ...state,
      switch_state: plan.on_failure === "compensate" ? "compensating" : "held",
      switch_attempts: attempts,
      switch_steps: steps,
      switch_error: error.slice(0, 1000),
      switch_error_class: errorClass,
      switch_failed_step: result.failed_step,
      switch_next_attempt_utc: undefined,
    };
  }
  return failed(state, attempts, steps, error, errorClass, now, result.retry_after_ms, result.failed_step);
}

/**
 * The row after undoing a switch that failed permanently: compensated when every step is back
 * on the old side; compensating again next cycle while a step is still deploying or failed
 * transiently; held when a step could not be undone (a permanent error), naming it.
 */
export function afterCompensate(state: FailoverState, result: CompensationResult, now: Date): FailoverState {
  const steps = stepsText(result.steps);
  if (!result.complete) {
    const error = `${state.switch_error ?? "switch failed"}; compensation could not undo ${result.errors.join("; ")}`;
    return { ...state, switch_state: "held", switch_steps: steps, switch_error: error.slice(0, 1000), switch_next_attempt_utc: undefined };
  }
  if (result.pending) return { ...state, switch_state: "compensating", switch_steps: steps, switch_next_attempt_utc: new Date(now.getTime() + BACKOFF_BASE_MS).toISOString() };
  return { ...state, switch_state: "compensated", switch_steps: steps, switch_next_attempt_utc: undefined };
}

/** A held or compensated switch, tried again by a human: a new intent for the row's target (its ledger starts anew). */
export function retriedIntent(state: FailoverState, plan: SwitchPlan, now: Date): FailoverState | undefined {
  if (state.switch_state !== "held" && state.switch_state !== "compensated") return undefined;
  return withIntent(state, plan, now, now);
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
  if (result.outcome === "verified")
    return {
      ...state,
      switch_state: "verified",
      switch_verified_utc: now.toISOString(),
      switch_error: undefined,
      switch_error_class: undefined,
      switch_failed_step: undefined,
      switch_next_attempt_utc: undefined,
    };
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
  for (const [key, field] of [
    ["intent_s", state.switch_intent_utc],
    ["applied_s", state.switch_applied_utc],
    ["verified_s", state.switch_verified_utc],
  ] as const) {
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
