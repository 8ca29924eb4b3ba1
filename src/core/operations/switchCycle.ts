import type { FailoverDeps } from "../deps";
import { otherTarget, type FailoverState, type Target, type TransitionSummary } from "../state";
import { InvalidPlanError, type SwitchPlan } from "../switch/plan";
import { applyPlan, buildRunners, verifyPlan, type ApplyResult, type VerifyResult } from "../switch/runPlan";
import { adoptIntent, afterApply, afterVerify, dueAction, isAdoption, loadPlan, switchTimings } from "../switch/saga";
import { recordSwitchStep, secondsBetween } from "../telemetry";
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
 * only read back (never applied again) until verified or its verify timeout. The result is written conditionally; if the row moved to another target meanwhile
 * (a concurrent manual switch), the result is dropped and the next cycle applies the new target.
 * A malformed plan is reported, the row left untouched. Audit entries and notifications for
 * applied, failed and verified.
 */
export async function switchCycle(deps: FailoverDeps, group: string): Promise<SwitchCycleResponse> {
  const loaded = await deps.store.load(group);
  let plan: SwitchPlan | undefined;
  try {
    plan = loadPlan(loaded.raw, group, group === deps.config.defaultGroup, deps.config.switchPlan);
  } catch (err) {
    if (err instanceof InvalidPlanError) return { group, plan: "invalid", action: "none", error: err.message };
    throw err;
  }
  if (!plan) return { group, plan: "none", action: "none" };
  const action = dueAction(loaded.state, plan, deps.clock.now());
  if (action === "wait" || action === "settled") return response(group, plan, action, loaded.state);

  const target = loaded.state.active_target;
  const context = { group, failoverCount: loaded.state.failover_count, from: otherTarget(target), to: target };
  const runners = buildRunners(plan, deps.switchClients());
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
