import { z } from "zod";
import type { FailoverDeps } from "../deps";
import { FailoverError } from "../errors";
import { REFUSAL_REASONS } from "../policy";
import { otherTarget, targetSchema, withTransition, withoutDrill, type FailoverState, type Target, type TransitionSummary } from "../state";
import { TEXT_LIMITS, cleanText } from "../text";
import type { SwitchPlan } from "../switch/plan";
import { buildRunners, verifyPlan } from "../switch/runPlan";
import { loadPlan } from "../switch/saga";
import { SwitchSession, parseLedger } from "../switch/session";
import { controlAction } from "./pauseResume";
import { planReadiness } from "./readiness";
import { readDecideWrite } from "./readDecideWrite";
import { secondsBetween } from "../telemetry";
import { recordTransition } from "./recordTransition";
import { switchTarget } from "./switchTarget";

/**
 * Drills: a planned switchover to the other side and a switchback, run by the loop through the
 * same saga as any switch (make-before-break, verified, every write in the ledger), under the
 * same safety rules: refused when paused, held, cooling down or when the standby is not healthy
 * by the vantages' quorum. Or a dry run: the plan's readiness and a read-back of every step,
 * nothing written to Azure. Each leaves a report on the row (`last_drill`) and in the audit (a
 * `drill` entry): every step's duration, the recovery time (decision to traffic verified on the
 * other side) against the plan's `recovery_budget_seconds`, the writes made.
 */

export const drillStepSchema = z.object({
  leg: z.enum(["over", "back", "read"]),
  step: z.number().int(),
  kind: z.string(),
  status: z.string(),
  ms: z.number().optional(),
  writes: z.number().int().optional(),
});

export const drillReportSchema = z.object({
  id: z.string(),
  mode: z.enum(["switchover", "dry_run"]),
  actor: z.string(),
  started_utc: z.string(),
  ended_utc: z.string(),
  result: z.enum(["passed", "over_budget", "failed", "interrupted", "not_ready"]).describe("passed: back where it started, the recovery time within the budget (or none set)."),
  from: targetSchema,
  to: targetSchema,
  recovery_seconds: z.number().optional().describe("Switchover: from the decision to traffic verified on the other side. Dry run: readiness and the read-back together."),
  switchback_seconds: z.number().optional(),
  budget_seconds: z.number().optional().describe("The plan's recovery_budget_seconds, when it sets one."),
  writes: z.number().int().describe("Writes made to Azure, both legs (0 in a dry run)."),
  steps: z.array(drillStepSchema),
  problems: z.array(z.string()).optional().describe("Readiness problems (dry run), or why the drill did not pass."),
});
export type DrillReport = z.infer<typeof drillReportSchema>;

export const drillResponseSchema = z.object({
  group: z.string(),
  changed: z.boolean().describe("A switchover started (the loop moves the traffic now), or a dry run recorded its report."),
  mode: z.enum(["switchover", "dry_run"]),
  drill_id: z.string().optional(),
  reason: z
    .enum([...REFUSAL_REASONS, "drill_running", "switch_in_progress"])
    .optional()
    .describe("Why a switchover did not start."),
  active_target: targetSchema,
  report: drillReportSchema.optional().describe("A dry run's report at once; a switchover's is on the row (last_drill) and in history when its switchback is verified."),
});
export type DrillResponse = Readonly<z.infer<typeof drillResponseSchema>>;

/** The last drill's report as the row keeps it, or undefined. */
export function lastDrill(state: Pick<FailoverState, "last_drill">): DrillReport | undefined {
  if (!state.last_drill) return undefined;
  try {
    const parsed = drillReportSchema.safeParse(JSON.parse(state.last_drill));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function planOf(deps: FailoverDeps, group: string, raw: Readonly<Record<string, unknown>>): SwitchPlan {
  const plan = loadPlan(raw, group, deps.config);
  if (!plan) throw new FailoverError("conflict", `Group "${group}": a drill moves traffic through a switch plan, and the group has none (PUT /api/plan or SWITCH_PLAN)`);
  return plan;
}

function drillId(now: Date): string {
  return `drill-${now.getTime().toString(36)}`;
}

/** The switch from `from` to the other side, as decideSwitch names it. */
function kindFrom(from: Target): "failover" | "failback" {
  return from === "primary" ? "failover" : "failback";
}

/** Starts a drill: a switchover now (the loop then switches back once it is verified), or a dry run answered at once. */
export async function startDrill(deps: FailoverDeps, group: string, input: { dry_run?: boolean; reason?: string; actor: string }): Promise<DrillResponse> {
  const loaded = await deps.store.load(group);
  const plan = planOf(deps, group, loaded.raw);
  const reason = cleanText(input.reason ?? "drill", TEXT_LIMITS.reason) || "drill";
  const s = loaded.state;
  if (input.dry_run) return dryRun(deps, group, plan, s, reason, input.actor);
  const refused = (why: "drill_running" | "switch_in_progress"): DrillResponse => ({
    group,
    changed: false,
    mode: "switchover",
    reason: why,
    active_target: s.active_target,
    ...(s.drill_id ? { drill_id: s.drill_id } : {}),
  });
  if (s.drill_id) return refused("drill_running");
  if (s.switch_state !== undefined && s.switch_state !== "verified") return refused("switch_in_progress");
  const from = s.active_target;
  const id = drillId(deps.clock.now());
  const switched = await switchTarget(deps, group, {
    kind: kindFrom(from),
    expected_from: from,
    reason: `drill ${id} (switchover): ${reason}`,
    actor: input.actor,
    drill: {
      leg: "over",
      annotate: (_before, next) => ({
        ...next,
        drill_id: id,
        drill_phase: "over",
        drill_from: from,
        drill_started_utc: deps.clock.now().toISOString(),
        drill_actor: cleanText(input.actor, TEXT_LIMITS.actor),
      }),
    },
  });
  return {
    group,
    changed: switched.changed,
    mode: "switchover",
    ...(switched.changed ? { drill_id: id } : { reason: switched.reason }),
    active_target: switched.active_target,
  };
}

/** Readiness, then every step read back on the active side (reads only: the session refuses any write); the report recorded on the row and in the audit. */
async function dryRun(deps: FailoverDeps, group: string, plan: SwitchPlan, state: FailoverState, reason: string, actor: string): Promise<DrillResponse> {
  const started = deps.clock.now();
  const active = state.active_target;
  const ready = await planReadiness(deps, group, plan);
  const session = new SwitchSession({ callTimeoutMs: deps.config.controlPlane.callTimeoutMs, budgetMs: deps.config.controlPlane.cycleBudgetMs });
  const steps: DrillReport["steps"] = [];
  let verified = true;
  try {
    const runners = buildRunners(plan, deps.switchClients(), session);
    const context = { group, failoverCount: state.failover_count, from: otherTarget(active), to: active };
    for (const [index, runner] of runners.entries()) {
      const t0 = deps.clock.now().getTime();
      const result = await verifyPlan([runner], context, () => deps.clock.now().getTime());
      const status = result.steps[0]?.status ?? result.outcome;
      if (result.outcome !== "verified") verified = false;
      steps.push({ leg: "read", step: index, kind: runner.kind, status, ms: deps.clock.now().getTime() - t0 });
    }
  } finally {
    session.close();
  }
  const ended = deps.clock.now();
  const problems = [
    ...ready.problems,
    ...(verified
      ? []
      : [
          `the read-back did not find every step on ${active}: ${steps
            .filter((x) => x.status !== "verified")
            .map((x) => `step ${x.step} (${x.kind}) ${x.status}`)
            .join(", ")}`,
        ]),
  ];
  const report: DrillReport = {
    id: drillId(started),
    mode: "dry_run",
    actor: cleanText(actor, TEXT_LIMITS.actor),
    started_utc: started.toISOString(),
    ended_utc: ended.toISOString(),
    result: problems.length === 0 ? "passed" : "not_ready",
    from: active,
    to: otherTarget(active),
    recovery_seconds: secondsBetween(started.toISOString(), ended) ?? 0,
    ...(plan.recovery_budget_seconds !== undefined ? { budget_seconds: plan.recovery_budget_seconds } : {}),
    writes: 0,
    steps,
    ...(problems.length > 0 ? { problems } : {}),
  };
  const { state: after } = await controlAction(deps, group, (s, now) => {
    const transition = drillTransition(report, s.active_target, `${reason}; `, now);
    return { next: withReport(s, report, transition), transition };
  });
  return { group, changed: true, mode: "dry_run", drill_id: report.id, active_target: after.active_target, report };
}

function withReport(s: FailoverState, report: DrillReport, transition: TransitionSummary): FailoverState {
  return withTransition({ ...s, last_drill: JSON.stringify(report) }, transition);
}

/** The audit entry of a drill's report: its result and figures in words (the row keeps the report itself). */
function drillTransition(report: DrillReport, active: Target, prefix: string, now: Date): TransitionSummary {
  const budget = report.budget_seconds !== undefined ? ` (budget ${report.budget_seconds} s)` : " (no recovery_budget_seconds in the plan)";
  const figures =
    report.mode === "dry_run"
      ? `dry run ${report.result}: readiness and read-back in ${report.recovery_seconds ?? "?"} s, ${report.steps.length} step(s) read, no write`
      : `switchover ${report.result}: recovery ${report.recovery_seconds ?? "-"} s${budget}, switchback ${report.switchback_seconds ?? "-"} s, ${report.writes} write(s)`;
  const problems = report.problems?.length ? `; ${report.problems.join("; ")}` : "";
  return {
    at: now.toISOString(),
    kind: "drill",
    from: active,
    to: active,
    reason: cleanText(`${prefix}drill ${report.id} ${figures}${problems}`, TEXT_LIMITS.reason),
    actor: cleanText(report.actor, TEXT_LIMITS.actor),
  };
}

/** The figures of a verified leg: its recovery time from `since`, its steps' durations, its writes. */
function legFigures(s: FailoverState, leg: "over" | "back", since: string | undefined): { seconds?: number; writes: number; steps: DrillReport["steps"] } {
  let steps: DrillReport["steps"];
  try {
    const parsed = JSON.parse(s.switch_steps ?? "[]") as Array<{ step: number; kind: string; status: string; ms?: number; writes?: number }>;
    steps = parsed.map((x) => ({ leg, step: x.step, kind: x.kind, status: x.status, ...(x.ms !== undefined ? { ms: x.ms } : {}), ...(x.writes !== undefined ? { writes: x.writes } : {}) }));
  } catch {
    // switch_steps cut at its length limit (or edited by hand): the leg's steps are left out.
    steps = [];
  }
  // Every write the leg's intent sent (a pending entry may have landed), those the ledger had to leave out too.
  const ledger = parseLedger(s.switch_ledger);
  const writes = ledger.writes.length + ledger.omitted;
  return { ...(since && s.switch_verified_utc ? { seconds: secondsBetween(since, new Date(s.switch_verified_utc)) } : {}), writes, steps };
}

/**
 * The loop's part, after each switch cycle: once the over leg is verified, the switchback
 * (verified standby, no cooldown of its own); once the switchback is verified, the report. A
 * switch held or compensated ends the drill as failed (a human acts, as for any switch); a
 * group moved by anything else (a manual or automatic switch) ends it as interrupted.
 */
export async function advanceDrill(deps: FailoverDeps, group: string, s: FailoverState, plan: SwitchPlan): Promise<"switched_back" | undefined> {
  if (!s.drill_id || !s.drill_phase || !s.drill_from) return undefined;
  const leg = s.drill_phase;
  const away = otherTarget(s.drill_from);
  const expected = leg === "over" ? away : s.drill_from;
  if (s.active_target !== expected) return finish(deps, group, s, plan, "interrupted", [`the group moved to ${s.active_target} during the ${leg} leg, not by the drill`]).then(() => undefined);
  if (s.switch_state === "held" || s.switch_state === "compensated")
    return finish(deps, group, s, plan, "failed", [`the ${leg} leg's switch is ${s.switch_state}: ${s.switch_error ?? "unknown error"} (a human must act: retry_switch)`]).then(() => undefined);
  if (s.switch_state !== "verified") return undefined;
  if (leg === "back") return finish(deps, group, s, plan, "passed", []).then(() => undefined);
  const over = legFigures(s, "over", s.drill_started_utc);
  const back = await switchTarget(deps, group, {
    kind: kindFrom(away),
    expected_from: away,
    reason: `drill ${s.drill_id} (switchback)`,
    actor: s.drill_actor ?? "drill",
    drill: { leg: "back", annotate: (_before, next) => ({ ...next, drill_phase: "back", drill_over: JSON.stringify({ ...over, back_started_utc: deps.clock.now().toISOString() }) }) },
  });
  if (back.changed) return "switched_back";
  const fresh = (await deps.store.load(group)).state;
  await finish(deps, group, { ...fresh, drill_over: JSON.stringify(over) }, plan, "failed", [`the switchback was refused (${back.reason ?? "?"}): traffic stays on ${away}`]);
  return undefined;
}

/** Ends a drill in progress as interrupted (its plan changed or went away), with its report; nothing when none runs. */
export async function interruptDrill(deps: FailoverDeps, group: string, why: string): Promise<void> {
  const s = (await deps.store.load(group)).state;
  if (s.drill_id) await finish(deps, group, s, undefined, "interrupted", [why]);
}

async function finish(deps: FailoverDeps, group: string, s: FailoverState, plan: SwitchPlan | undefined, result: "passed" | "failed" | "interrupted", problems: string[]): Promise<void> {
  // The row's switch fields are the drill's own leg unless something else moved the group (interrupted).
  let over: ReturnType<typeof legFigures> & { back_started_utc?: string } = { writes: 0, steps: [] };
  try {
    if (s.drill_over) over = JSON.parse(s.drill_over) as typeof over;
    else if (result !== "interrupted") over = legFigures(s, "over", s.drill_started_utc);
  } catch {
    // A drill_over edited by hand: the over leg's figures are left out.
  }
  const back = s.drill_phase === "back" && result !== "interrupted" ? legFigures(s, "back", over.back_started_utc) : undefined;
  const budget = plan?.recovery_budget_seconds;
  const overBudget = budget !== undefined && over.seconds !== undefined && over.seconds > budget;
  const now = deps.clock.now();
  const report: DrillReport = {
    id: s.drill_id ?? "drill-?",
    mode: "switchover",
    actor: s.drill_actor ?? "drill",
    started_utc: s.drill_started_utc ?? now.toISOString(),
    ended_utc: now.toISOString(),
    result: overBudget && result === "passed" ? "over_budget" : result,
    from: s.drill_from ?? s.active_target,
    to: otherTarget(s.drill_from ?? s.active_target),
    ...(over.seconds !== undefined ? { recovery_seconds: over.seconds } : {}),
    ...(back?.seconds !== undefined && result === "passed" ? { switchback_seconds: back.seconds } : {}),
    ...(budget !== undefined ? { budget_seconds: budget } : {}),
    writes: over.writes + (back?.writes ?? 0),
    steps: [...over.steps, ...(back?.steps ?? [])],
    ...(problems.length > 0 || overBudget ? { problems: overBudget ? [...problems, `the recovery took ${over.seconds} s, over the plan's budget of ${budget} s`] : problems } : {}),
  };
  const written = await readDecideWrite(deps.store, group, (fresh) => {
    if (fresh.state.drill_id !== s.drill_id) return { result: undefined };
    const transition = drillTransition(report, fresh.state.active_target, "", now);
    const next = withReport(withoutDrill(fresh.state), report, transition);
    return { next, result: { next, transition } };
  });
  if (written) await recordTransition(deps, group, written.transition, written.next);
}
