import { z } from "zod";
import type { FailoverDeps } from "../deps";
import { effectivePolicy } from "../state";
import type { LoadedState } from "../storage";
import { topologyProblems } from "../topology";
import { InvalidPlanError, type SwitchPlan } from "../switch/plan";
import { buildRunners, checkReadiness } from "../switch/runPlan";
import { loadPlan, withReadiness } from "../switch/saga";
import { SwitchSession } from "../switch/session";
import { readDecideWrite } from "./readDecideWrite";

export const readinessResponseSchema = z.object({
  group: z.string(),
  plan: z.string().describe('"none": no plan; "invalid": a malformed plan; else the plan\'s generation.'),
  ready: z.boolean(),
  problems: z.array(z.string()).describe("Each problem named: the step, the resource, the missing action and the role that grants it."),
  checked_at: z.string(),
});
export type ReadinessResponse = Readonly<z.infer<typeof readinessResponseSchema>>;

/**
 * Can every step of the group's switch plan run? The resources exist, both sides are defined,
 * the identity holds the needed actions (ARM's permissions API), the TTLs fit the plan's
 * recovery_budget_seconds, the data-path URL answers. And can one region's loss blind the
 * judge (core/topology.ts)? Reads only: nothing on Azure or on the row is written.
 */
export async function readiness(deps: FailoverDeps, group: string): Promise<ReadinessResponse> {
  const loaded = await deps.store.load(group);
  return withTopology(deps, loaded, await planOnly(deps, group, loaded));
}

async function planOnly(deps: FailoverDeps, group: string, loaded: LoadedState): Promise<ReadinessResponse> {
  let plan: SwitchPlan | undefined;
  try {
    plan = loadPlan(loaded.raw, group, deps.config);
  } catch (err) {
    if (err instanceof InvalidPlanError) return { group, plan: "invalid", ready: false, problems: [err.message], checked_at: deps.clock.now().toISOString() };
    throw err;
  }
  if (!plan) return { group, plan: "none", ready: true, problems: [], checked_at: deps.clock.now().toISOString() };
  return planReadiness(deps, group, plan);
}

/** The plan's readiness with the topology's problems added (a plan-less group is ready when its topology is). */
function withTopology(deps: FailoverDeps, loaded: LoadedState, result: ReadinessResponse): ReadinessResponse {
  const topology = topologyProblems(loaded.state, deps.config, effectivePolicy(deps.config.policy, loaded.overrides)).filter((p) => !result.problems.includes(p));
  return topology.length === 0 ? result : { ...result, ready: false, problems: [...result.problems, ...topology] };
}

/**
 * The readiness of a plan already read from the group's row: reads only, each call with the
 * switch calls' deadline, the whole check within one cycle budget (the loop passes its cycle's
 * session; a reader gets a session of its own that refuses any write).
 */
export async function planReadiness(deps: FailoverDeps, group: string, plan: SwitchPlan, session?: SwitchSession): Promise<ReadinessResponse> {
  const checked_at = deps.clock.now().toISOString();
  const own = session ?? new SwitchSession({ callTimeoutMs: deps.config.controlPlane.callTimeoutMs, budgetMs: deps.config.controlPlane.cycleBudgetMs });
  try {
    const result = await checkReadiness(buildRunners(plan, deps.switchClients(), own), plan.recovery_budget_seconds);
    return { group, plan: plan.generation, ready: result.ready, problems: result.problems, checked_at };
  } finally {
    if (!session) own.close();
  }
}

/**
 * Readiness at init and by the loop: checks, then records the result on the row
 * (`readiness_ready`, `readiness_problems`, `readiness_checked_utc`; status shows them). A group
 * without a plan records nothing. Not ready is a warning: it is logged, and a switch is still
 * attempted. The loop passes the plan it has just read, so the row is not read again for it.
 */
export async function recordReadiness(deps: FailoverDeps, group: string, plan?: SwitchPlan, session?: SwitchSession): Promise<ReadinessResponse> {
  const checked = plan ? await planReadiness(deps, group, plan, session) : await readiness(deps, group);
  // A group without a plan answers its topology's problems and records nothing: the loop re-checks only plans.
  if (checked.plan === "none") return checked;
  const result = await readDecideWrite(deps.store, group, (fresh) => {
    const full = withTopology(deps, fresh, checked);
    return { next: withReadiness(fresh.state, full, new Date(full.checked_at)), result: full };
  });
  if (!result.ready) deps.log?.(`group "${group}": switch plan not ready: ${result.problems.join("; ")}`);
  return result;
}
