import type { FailoverDeps } from "../deps";
import type { Policy } from "../knobs";
import { effectivePolicy, otherTarget, type FailoverState, type Target, type TransitionSummary } from "../state";
import type { LoadedState } from "../storage";
import { InvalidPlanError, stageLayout, type SwitchPlan } from "../switch/plan";
import { applyPlan, buildRunners, compensatePlan, detectDrift, stageEnd, verifyPlan, type ApplyResult, type CompensationResult, type VerifyResult } from "../switch/runPlan";
import {
  adoptIntent,
  afterApply,
  afterCompensate,
  afterDriftCheck,
  afterVerify,
  driftCheckDue,
  dueAction,
  intentKey,
  isAdoption,
  loadPlan,
  readinessDue,
  switchTimings,
  withLedger,
} from "../switch/saga";
import { SwitchSession, appendLedger, ledgerText, parseLedger, type LedgerEntry } from "../switch/session";
import type { SwitchStepRunner } from "../switch/step";
import { StepError, operatorAction } from "../switch/stepErrors";
import { recordSwitchDrift, recordSwitchHeld, recordSwitchStep, secondsBetween } from "../telemetry";
import { advanceDrill, interruptDrill } from "./drill";
import { recordReadiness } from "./readiness";
import { readDecideWrite } from "./readDecideWrite";
import { recordTransition } from "./recordTransition";

export interface SwitchCycleResponse {
  readonly group: string;
  /** "none": the group has no plan; "invalid": its plan is malformed (see error); else the plan's generation. */
  readonly plan: string;
  readonly action: "none" | "apply" | "verify" | "compensate" | "wait" | "held" | "settled" | "superseded";
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
  /** Writes this cycle made to the world (the ledger's entries). */
  readonly writes?: number;
  /** Why this cycle stopped making calls early (a call timed out, the budget was spent). */
  readonly stopped?: string;
  /** A drill's switchback was decided this cycle: the loop runs its next cycle at once to apply it. */
  readonly run_again?: boolean;
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
 * The session of one switch cycle: every call's deadline and the cycle's budget (settings), and
 * the fence every write passes: the row must still name the intent the apply started from (or
 * the one this cycle adopts). Each write's ledger entry reaches the row before the write is sent,
 * in the same conditional row write that fences it (the intent adopted with it), so a write whose
 * outcome the storage then refuses to record is still on the row, as pending.
 */
class CycleFence {
  private accepted = new Set<string>();
  private adopt: (state: FailoverState) => FailoverState = (state) => state;
  readonly session: SwitchSession;

  constructor(deps: FailoverDeps, group: string) {
    this.session = new SwitchSession({
      callTimeoutMs: deps.config.controlPlane.callTimeoutMs,
      budgetMs: deps.config.controlPlane.cycleBudgetMs,
      now: () => deps.clock.now().getTime(),
      fence: async () => this.check(await deps.store.intentOf(group)),
      record: async (entry) => {
        await readDecideWrite(deps.store, group, (fresh) => {
          this.check(fresh.state);
          return { next: withLedger(this.adopt(fresh.state), [entry]), result: undefined };
        });
      },
    });
  }

  /** True when the row still names the intent this cycle started from, or the one it adopts. */
  accepts(state: Pick<FailoverState, "active_target" | "switch_intent_id"> | { active_target: unknown; switch_intent_id: unknown }): boolean {
    return this.accepted.has(intentKey(state));
  }

  private check(fresh: Pick<FailoverState, "active_target" | "switch_intent_id"> | { active_target: unknown; switch_intent_id: unknown }): void {
    if (!this.accepts(fresh)) {
      throw new StepError(
        "superseded",
        `superseded: the row now says ${String(fresh.active_target)}${fresh.switch_intent_id ? ` (intent ${String(fresh.switch_intent_id)})` : ""}; this apply stopped before writing`,
      );
    }
  }

  /** From now on the writes belong to the intent this cycle adopts, and the row must still read as `state` does (or as adopted, once written). */
  expect(state: FailoverState, plan: SwitchPlan, started: Date): void {
    const adopted = adoptIntent(state, plan, started);
    this.accepted = new Set([intentKey(state), intentKey(adopted)]);
    this.adopt = (fresh) => adoptIntent(fresh, plan, started);
    this.session.intent = adopted.switch_intent_id ?? "";
  }
}

/**
 * The orchestration's switch step, every cycle: resumes the saga from the row. A pending or
 * failed (and due) switch is applied, then verified at once; an applied or propagating one is
 * only read back (never applied again) until verified or its verify timeout. A permanent error
 * holds the switch (or, with on_failure=compensate, undoes it): one audit entry, notification
 * and metric, and no more writes until a human acts. A verified one is compared with the world
 * every `drift_check_every` cycles (reads only). Every call has a deadline and the cycle a
 * budget, so the loop's next check never waits long on a switch; every write passes the fence
 * (a superseded apply stops) and goes in the ledger, which the audit entries carry. The result
 * is written conditionally; if the row's intent changed meanwhile, the result is dropped (its
 * writes still audited) and the next cycle applies the new target. Readiness is checked every
 * `readiness_check_minutes`. `cycle` counts the loop's cycles (absent outside the loop: the
 * drift check is then due).
 */
export async function switchCycle(deps: FailoverDeps, group: string, cycle?: number): Promise<SwitchCycleResponse> {
  const loaded = await deps.store.load(group);
  let plan: SwitchPlan | undefined;
  try {
    plan = loadPlan(loaded.raw, group, deps.config);
  } catch (err) {
    if (err instanceof InvalidPlanError) {
      if (loaded.state.drill_id) await interruptDrill(deps, group, `the switch plan is invalid: ${err.message}`);
      return { group, plan: "invalid", action: "none", error: err.message };
    }
    throw err;
  }
  if (!plan) return { group, plan: "none", action: "none" };
  const policy = effectivePolicy(deps.config.policy, loaded.overrides);
  const fence = new CycleFence(deps, group);
  try {
    let result = await resume(deps, group, plan, policy, loaded, cycle, fence);
    // A drill in progress: its next leg, or its report, once this cycle verified (or stopped) the last one.
    if (loaded.state.drill_id) {
      try {
        if ((await advanceDrill(deps, group, (await deps.store.load(group)).state, plan)) === "switched_back") result = { ...result, run_again: true };
      } catch (err) {
        deps.log?.(`group "${group}": the drill could not advance (the next cycle tries again): ${(err as Error).message}`);
      }
    }
    const done = { ...result, ...(fence.session.ledger.length > 0 ? { writes: fence.session.ledger.length } : {}), ...(fence.session.stopped ? { stopped: fence.session.stopped } : {}) };
    // A cycle whose calls already stopped (a hung call, the budget spent) leaves readiness for later.
    if (fence.session.stopped || !readinessDue(loaded.state, policy.readiness_check_minutes, deps.clock.now())) return done;
    try {
      const checked = await recordReadiness(deps, group, plan, fence.session);
      return { ...done, readiness: { ready: checked.ready, problems: checked.problems } };
    } catch (err) {
      deps.log?.(`group "${group}": the readiness check failed: ${(err as Error).message}`);
      return done;
    }
  } finally {
    fence.session.close();
  }
}

async function resume(deps: FailoverDeps, group: string, plan: SwitchPlan, policy: Policy, loaded: LoadedState, cycle: number | undefined, fence: CycleFence): Promise<SwitchCycleResponse> {
  const started = deps.clock.now();
  const action = dueAction(loaded.state, plan, started);
  if (action === "wait" || action === "held") return response(group, plan, action, loaded.state);
  if (action === "settled" && !driftCheckDue(policy.drift_check_every, cycle)) return response(group, plan, action, loaded.state);

  const target = loaded.state.active_target;
  const context = { group, failoverCount: loaded.state.failover_count, from: otherTarget(target), to: target };
  // A row switched by hand gets its intent now; the writes belong to it.
  fence.expect(loaded.state, plan, started);
  const runners = buildRunners(plan, deps.switchClients(), fence.session);
  if (action === "settled") return driftCheck(deps, group, plan, policy, loaded, runners, cycle, fence);
  const ledgerMark = fence.session.ledger.length;
  const cycleWrites = () => fence.session.ledger.slice(ledgerMark);
  const now = () => deps.clock.now().getTime();

  let applied: ApplyResult | undefined;
  let compensation: CompensationResult | undefined;
  fence.session.applying = action === "apply" || action === "compensate";
  const layout = stageLayout(plan);
  if (action === "apply") applied = await applyPlan(runners, context, now, layout);
  if (applied?.outcome === "superseded") return superseded(deps, group, plan, loaded, cycleWrites());
  // A permanent error with on_failure=compensate: undo the applied steps now; later cycles finish what still deploys.
  const failedStep = applied?.outcome === "failed" && applied.permanent ? applied.failed_step : action === "compensate" ? (loaded.state.switch_failed_step ?? runners.length - 1) : undefined;
  if (failedStep !== undefined && plan.on_failure === "compensate") {
    // Every step of the failed one's stage ran with it: undo from the stage's last step back to the first.
    compensation = await compensatePlan(runners, context, stageEnd(layout, failedStep), now);
    if (compensation.superseded) return superseded(deps, group, plan, loaded, cycleWrites());
  }
  fence.session.applying = false;
  const appliedUtc = applied?.outcome === "applied" ? deps.clock.now().toISOString() : loaded.state.switch_applied_utc;
  const verifying = action === "verify" || applied?.outcome === "applied";
  const verified: VerifyResult | undefined = verifying ? await verifyPlan(runners, context, now) : undefined;
  // Adopting a plan (verifying a world that already matches) is not an event; finishing a switch is.
  const switching = applied !== undefined || loaded.state.switch_state === "applied" || loaded.state.switch_state === "propagating";
  recordSteps(group, applied, switching ? verified : undefined, secondsBetween(appliedUtc, deps.clock.now()));

  const adopting = isAdoption(loaded.state, plan);
  const outcome = await readDecideWrite(deps.store, group, (fresh) => {
    if (!fence.accepts(fresh.state)) return { result: undefined };
    let next = adoptIntent(fresh.state, plan, started);
    if (applied) next = afterApply(next, applied, deps.clock.now(), plan);
    if (compensation) next = afterCompensate(next, compensation, deps.clock.now());
    if (verified) next = afterVerify(next, verified, deps.clock.now(), plan, adopting && !applied);
    next = withLedger(next, cycleWrites());
    return { next, result: next };
  });
  if (!outcome) return superseded(deps, group, plan, loaded, cycleWrites());

  const before = loaded.state;
  const ledger = outcome.switch_ledger;
  const event = (kind: TransitionSummary["kind"], reason: string): TransitionSummary => ({
    at: deps.clock.now().toISOString(),
    kind,
    from: otherTarget(target),
    to: target,
    reason,
    actor: "orchestrator",
  });
  const retryHint = `POST /api/retry_switch?group=${group} (or failover retry-switch --group ${group}) once it is fixed`;
  if (outcome.switch_state === "held" && before.switch_state !== "held") {
    // One entry, notification and metric for the episode: the saga writes nothing more until a human acts.
    recordSwitchHeld(group, outcome.switch_error_class ?? "unknown");
    const undone = compensation && !compensation.complete ? " (compensation incomplete)" : "";
    await recordTransition(
      deps,
      group,
      event("switch_held", `HELD${undone}: ${outcome.switch_error} [${outcome.switch_error_class}]; a human must act: ${operatorAction(outcome.switch_error_class)}: ${retryHint}`),
      outcome,
      { ledger },
    );
  } else if (outcome.switch_state === "compensated" && before.switch_state !== "compensated") {
    recordSwitchHeld(group, outcome.switch_error_class ?? "unknown");
    await recordTransition(
      deps,
      group,
      event(
        "switch_compensated",
        `UNDONE: traffic is back on ${context.from} after ${outcome.switch_error} [${outcome.switch_error_class}]; a human must act: ${operatorAction(outcome.switch_error_class)}: ${retryHint}`,
      ),
      outcome,
      { ledger },
    );
  } else if (applied?.outcome === "failed" && outcome.switch_state === "failed") {
    // One entry per failure episode: the same step failing the same way again is not news.
    if (before.switch_state !== "failed" || before.switch_error_class !== outcome.switch_error_class || before.switch_failed_step !== outcome.switch_failed_step) {
      await recordTransition(deps, group, event("switch_failed", `${applied.error} [${applied.error_class}]; next attempt at ${outcome.switch_next_attempt_utc}`), outcome, { ledger });
    }
  } else if (applied?.outcome === "applied") {
    const writes = applied.steps.reduce((n, s) => n + s.writes, 0);
    // One switch_applied per switch: a later apply that changes nothing (after a verify timeout) is not another.
    if (writes > 0 || before.switch_applied_utc === undefined || before.switch_target !== target) {
      await recordTransition(deps, group, event("switch_applied", `${applied.steps.length} step(s), ${writes} write(s) in ${applied.ms} ms; ${timeline(outcome)}`), outcome, { ledger });
    }
  }
  if (verified && outcome.switch_state === "failed" && applied?.outcome !== "failed") {
    await recordTransition(deps, group, event("switch_failed", `${outcome.switch_error} [${outcome.switch_error_class}]; next attempt at ${outcome.switch_next_attempt_utc}`), outcome, { ledger });
  }
  if (outcome.switch_state === "verified" && outcome.switch_applied_utc !== undefined && before.switch_state !== "verified") {
    await recordTransition(deps, group, event("switch_verified", timeline(outcome)), outcome);
  }
  return response(group, plan, action, outcome);
}

/**
 * The row's intent changed while this cycle applied (a forced failback, a newer switch): its
 * result is dropped and the next cycle applies the new intent. Writes it made before it noticed
 * are audited, with the superseded intent's ledger, so no change to the world goes unrecorded.
 */
async function superseded(deps: FailoverDeps, group: string, plan: SwitchPlan, loaded: LoadedState, writes: readonly LedgerEntry[]): Promise<SwitchCycleResponse> {
  if (writes.length > 0) {
    const target = loaded.state.active_target;
    const ledger = ledgerText(appendLedger(parseLedger(loaded.state.switch_ledger), writes));
    await recordTransition(
      deps,
      group,
      {
        at: deps.clock.now().toISOString(),
        kind: "switch_superseded",
        from: otherTarget(target),
        to: target,
        reason: `the switch to ${target} was superseded by a newer decision after ${writes.length} write(s); the next cycle applies the row's target`,
        actor: "orchestrator",
      },
      loaded.state,
      { ...(ledger ? { ledger } : {}) },
    );
  }
  return { ...response(group, plan, "superseded", loaded.state), switch_state: "superseded" };
}

/**
 * Compares each step's actual state with the row's target (reads only). A drift episode starts
 * with one audit entry and notification and ends when a check finds none; with
 * `drift_action=reconcile` the row's target is applied again at once, through the same saga.
 */
async function driftCheck(
  deps: FailoverDeps,
  group: string,
  plan: SwitchPlan,
  policy: Policy,
  loaded: LoadedState,
  runners: readonly SwitchStepRunner[],
  cycle: number | undefined,
  fence: CycleFence,
): Promise<SwitchCycleResponse> {
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
    for (const d of found.drifts) recordSwitchDrift(group, runners[d.step].kind);
    const what = policy.drift_action === "reconcile" ? "reconciling: the row's target is applied again" : "reported (drift_action=report)";
    await recordTransition(deps, group, { at: now.toISOString(), kind: "switch_drift", from: target, to: target, reason: `DRIFT: ${after.switch_drift}; ${what}`, actor: "orchestrator" }, after);
  }
  if (after.switch_state === "applying") return resume(deps, group, plan, policy, { ...loaded, state: after }, cycle, fence);
  return response(group, plan, "settled", after);
}
