import type { FailoverDeps } from "../deps";
import type { Policy } from "../knobs";
import { effectivePolicy, otherTarget, type FailoverState, type Target, type TransitionSummary } from "../state";
import type { LoadedState } from "../storage";
import { InvalidPlanError, type SwitchPlan } from "../switch/plan";
import { applyPlan, buildRunners, detectDrift, verifyPlan, type ApplyResult, type VerifyResult } from "../switch/runPlan";
import type { SwitchStepRunner } from "../switch/step";
import { adoptIntent, afterApply, afterDriftCheck, afterVerify, driftCheckDue, dueAction, isAdoption, loadPlan, readinessDue, switchTimings } from "../switch/saga";
import { recordSwitchDrift, recordSwitchStep, secondsBetween } from "../telemetry";
import { recordReadiness } from "./readiness";
import { readDecideWrite } from "./readDecideWrite";
import { recordTransition } from "./recordTransition";

export interface SwitchCycleResponse {
  readonly group: string;
  /** "none": the group has no plan; "invalid": its plan is malformed (see error); else the plan's generation. */
  readonly plan: string;
  readonly action: "none" | "apply" | "verify" | "wait" | "settled" | "superseded";
  readonly switch_state?: string;
  readonly switch_target?: Target;
  readonly error?: string;
  readonly error_class?: string;
  readonly next_attempt_utc?: string;
  readonly timings?: ReturnType<typeof switchTimings>;
  /** Drift found on a verified switch: the steps and what differs (the row's switch_drift). */
  readonly drift?: string;
  /** The readiness check, when this cycle made one. */
  readonly readiness?: { readonly ready: boolean; readonly problems: readonly string[] };
}

function response(group: string, plan: SwitchPlan, action: SwitchCycleResponse["action"], s: FailoverState): SwitchCycleResponse {
  return {
    group,
    plan: plan.generation,
    action,
    ...(s.switch_state ? { switch_state: s.switch_state } : {}),
    ...(s.switch_target ? { switch_target: s.switch_target } : {}),
    ...(s.switch_error ? { error: s.switch_error } : {}),
    ...(s.switch_error_class ? { error_class: s.switch_error_class } : {}),
    ...(s.switch_state === "failed" && s.switch_next_attempt_utc ? { next_attempt_utc: s.switch_next_attempt_utc } : {}),
    timings: switchTimings(s),
    ...(s.switch_drift ? { drift: s.switch_drift } : {}),
  };
}

function timeline(s: FailoverState): string {
  const t = switchTimings(s);
  return `detection -> intent ${t.intent_s ?? "?"} s -> applied ${t.applied_s ?? "?"} s${t.verified_s !== undefined ? ` -> verified ${t.verified_s} s` : ""}`;
}

/**
 * The steps' metrics: every applied step's duration (error.type when it failed) and failures;
 * after an apply, the seconds until the plan verified, or the steps that did not verify.
 */
function recordSteps(group: string, applied: ApplyResult | undefined, verified: VerifyResult | undefined, secondsSinceApplied: number | undefined): void {
  for (const s of applied?.steps ?? []) recordSwitchStep(group, s.kind, { phase: "apply", seconds: s.ms / 1000, ...(s.error_class ? { errorClass: s.error_class } : {}) });
  if (verified?.outcome === "verified") {
    if (secondsSinceApplied !== undefined) for (const s of verified.steps) recordSwitchStep(group, s.kind, { phase: "verify", seconds: secondsSinceApplied });
  } else if (verified && verified.outcome !== "propagating") {
    for (const s of verified.steps) if (s.status === "mismatch" || s.status === "error") recordSwitchStep(group, s.kind, { phase: "verify", errorClass: s.error_class ?? s.status });
  }
}

/**
 * The orchestration's switch step, every cycle: resumes the saga from the row. A pending or
 * failed (and due) switch is applied, then verified at once; an applied or propagating one is
 * only read back (never applied again) until verified or its verify timeout. A verified one is
 * compared with the world every `drift_check_every` cycles (reads only). The result is written
 * conditionally; if the row moved to another target meanwhile (a concurrent manual switch), the
 * result is dropped and the next cycle applies the new target. A malformed plan is reported,
 * the row left untouched. Audit entries and notifications for applied, failed, verified and
 * drift. Readiness is checked every `readiness_check_minutes`. `cycle` counts the loop's cycles
 * (absent outside the loop: the drift check is then due).
 */
export async function switchCycle(deps: FailoverDeps, group: string, cycle?: number): Promise<SwitchCycleResponse> {
  const loaded = await deps.store.load(group);
  let plan: SwitchPlan | undefined;
  try {
    plan = loadPlan(loaded.raw, group, deps.config);
  } catch (err) {
    if (err instanceof InvalidPlanError) return { group, plan: "invalid", action: "none", error: err.message };
    throw err;
  }
  if (!plan) return { group, plan: "none", action: "none" };
  const policy = effectivePolicy(deps.config.policy, loaded.overrides);
  const result = await resume(deps, group, plan, policy, loaded, cycle);
  if (!readinessDue(loaded.state, policy.readiness_check_minutes, deps.clock.now())) return result;
  try {
    const checked = await recordReadiness(deps, group, plan);
    return { ...result, readiness: { ready: checked.ready, problems: checked.problems } };
  } catch (err) {
    deps.log?.(`group "${group}": the readiness check failed: ${(err as Error).message}`);
    return result;
  }
}

async function resume(deps: FailoverDeps, group: string, plan: SwitchPlan, policy: Policy, loaded: LoadedState, cycle: number | undefined): Promise<SwitchCycleResponse> {
  const action = dueAction(loaded.state, plan, deps.clock.now());
  if (action === "wait") return response(group, plan, action, loaded.state);
  if (action === "settled" && !driftCheckDue(policy.drift_check_every, cycle)) return response(group, plan, action, loaded.state);

  const target = loaded.state.active_target;
  const context = { group, failoverCount: loaded.state.failover_count, from: otherTarget(target), to: target };
  const runners = buildRunners(plan, deps.switchClients());
  if (action === "settled") return driftCheck(deps, group, plan, policy, loaded, runners, cycle);
  let applied: ApplyResult | undefined;
  if (action === "apply") applied = await applyPlan(runners, context);
  const appliedUtc = applied ? deps.clock.now().toISOString() : loaded.state.switch_applied_utc;
  const verified: VerifyResult | undefined = applied?.outcome === "failed" ? undefined : await verifyPlan(runners, context);
  // Adopting a plan (verifying a world that already matches) is not an event; finishing a switch is.
  const switching = applied !== undefined || loaded.state.switch_state === "applied" || loaded.state.switch_state === "propagating";
  recordSteps(group, applied, switching ? verified : undefined, secondsBetween(appliedUtc, deps.clock.now()));

  const adopting = isAdoption(loaded.state, plan);
  const outcome = await readDecideWrite(deps.store, group, (fresh) => {
    if (fresh.state.active_target !== target) return { result: undefined };
    let next = adoptIntent(fresh.state, plan, deps.clock.now());
    if (applied) next = afterApply(next, applied, deps.clock.now());
    if (verified) next = afterVerify(next, verified, deps.clock.now(), plan, adopting && !applied);
    return { next, result: next };
  });
  if (!outcome) return { ...response(group, plan, "superseded", loaded.state), switch_state: "superseded" };

  const event = (kind: TransitionSummary["kind"], reason: string): TransitionSummary => ({ at: deps.clock.now().toISOString(), kind, from: otherTarget(target), to: target, reason, actor: "orchestrator" });
  if (applied?.outcome === "failed") {
    await recordTransition(deps, group, event("switch_failed", `${applied.error} [${applied.error_class}]; next attempt at ${outcome.switch_next_attempt_utc}`), outcome);
  } else if (applied) {
    const writes = applied.steps.reduce((n, s) => n + s.writes, 0);
    // One switch_applied per switch: a later apply that changes nothing (after a verify timeout) is not another.
    if (writes > 0 || loaded.state.switch_applied_utc === undefined || loaded.state.switch_target !== target) {
      await recordTransition(deps, group, event("switch_applied", `${applied.steps.length} step(s), ${writes} write(s) in ${applied.ms} ms; ${timeline(outcome)}`), outcome);
    }
  }
  if (verified && outcome.switch_state === "failed") {
    await recordTransition(deps, group, event("switch_failed", `${outcome.switch_error} [${outcome.switch_error_class}]; next attempt at ${outcome.switch_next_attempt_utc}`), outcome);
  }
  if (outcome.switch_state === "verified" && outcome.switch_applied_utc !== undefined && loaded.state.switch_state !== "verified") {
    await recordTransition(deps, group, event("switch_verified", timeline(outcome)), outcome);
  }
  return response(group, plan, action, outcome);
}

/**
 * Compares each step's actual state with the row's target (reads only). A drift episode starts
 * with one audit entry and notification and ends when a check finds none; with
 * `drift_action=reconcile` the row's target is applied again at once, through the same saga.
 */
async function driftCheck(deps: FailoverDeps, group: string, plan: SwitchPlan, policy: Policy, loaded: LoadedState, runners: readonly SwitchStepRunner[], cycle: number | undefined): Promise<SwitchCycleResponse> {
  const target = loaded.state.active_target;
  const found = await detectDrift(runners, target);
  // A step that could not be read is neither drift nor proof that a drift ended; no drift and
  // none recorded: nothing to write, not even a read of the row.
  if (found.drifts.length === 0 && (found.errors.length > 0 || loaded.state.switch_drift === undefined)) return response(group, plan, "settled", loaded.state);
  const now = deps.clock.now();
  const outcome = await readDecideWrite(deps.store, group, (fresh) => {
    // Only a verified switch of the same target is compared: anything else is the saga's.
    if (fresh.state.active_target !== target || dueAction(fresh.state, plan, now) !== "settled") return { result: undefined };
    const next = afterDriftCheck(fresh.state, found.drifts, policy.drift_action, plan, now);
    return next ? { next, result: { before: fresh.state, after: next } } : { result: { before: fresh.state, after: fresh.state } };
  });
  if (!outcome) return { ...response(group, plan, "superseded", loaded.state), switch_state: "superseded" };
  const { before, after } = outcome;
  if (found.drifts.length > 0 && before.switch_drift_since_utc === undefined) {
    for (const d of found.drifts) recordSwitchDrift(group, runners[d.step]!.kind);
    const what = policy.drift_action === "reconcile" ? "reconciling: the row's target is applied again" : "reported (drift_action=report)";
    await recordTransition(deps, group, { at: now.toISOString(), kind: "switch_drift", from: target, to: target, reason: `DRIFT: ${after.switch_drift}; ${what}`, actor: "orchestrator" }, after);
  }
  if (after.switch_state === "applying") return resume(deps, group, plan, policy, { ...loaded, state: after }, cycle);
  return response(group, plan, "settled", after);
}
