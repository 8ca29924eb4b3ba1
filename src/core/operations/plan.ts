import { z } from "zod";
import type { FailoverDeps } from "../deps";
import { FailoverError, invalidRequest } from "../errors";
import type { LoadedState } from "../storage";
import { InvalidPlanError, parsePlan, planSteps, switchPlan, type SwitchPlan } from "../switch/plan";
import { checkedPlan, planText, withReadiness } from "../switch/saga";
import { TEXT_LIMITS, cleanText } from "../text";
import { planReadiness, type ReadinessResponse } from "./readiness";
import { interruptDrill } from "./drill";
import { recordTransition } from "./recordTransition";

/**
 * A group's switch plan through the API (GET, PUT and DELETE /api/plan, `failover plan`): read
 * it with where it comes from, set it (validated against the plan schema and the cloud's App
 * Configuration hosts, its readiness checked and recorded, written on the row's ETag, with an
 * audit entry), or remove it (the default group then falls back to SWITCH_PLAN, if set).
 */

export const planResponseSchema = z.object({
  group: z.string(),
  plan: switchPlan
    .extend({ generation: z.string().describe("A hash of the plan: the audit and the row name the plan a switch ran by it.") })
    .nullable()
    .describe("The plan as it will run (defaults filled in); null without one."),
  source: z.enum(["switch_plan", "SWITCH_PLAN", "none"]).describe("Where the plan comes from: the row's switch_plan, the default group's SWITCH_PLAN setting, or none."),
  etag: z.string().describe("The row's ETag: send it back as If-Match to change the plan only if the row did not change meanwhile."),
  readiness: z
    .object({ ready: z.boolean(), problems: z.array(z.string()), checked_at: z.string().optional() })
    .optional()
    .describe("The plan's readiness: checked now by a PUT, else the last check recorded on the row."),
  changed: z.boolean().optional().describe("PUT and DELETE: whether the row's plan changed."),
});
export type PlanResponse = z.infer<typeof planResponseSchema>;

function view(group: string, loaded: LoadedState, config: FailoverDeps["config"]): PlanResponse {
  const found = planText(loaded.raw, group, config);
  let plan: SwitchPlan | null = null;
  if (found) {
    try {
      plan = checkedPlan(parsePlan(found.text, found.source), found.source, config);
    } catch (err) {
      if (!(err instanceof InvalidPlanError)) throw err;
      throw new FailoverError("malformed_state", `switch plan of group "${group}": ${err.message}`);
    }
  }
  const s = loaded.state;
  return {
    group,
    plan,
    source: found ? (found.source as "switch_plan" | "SWITCH_PLAN") : "none",
    etag: loaded.etag,
    ...(s.readiness_ready !== undefined
      ? { readiness: { ready: s.readiness_ready, problems: s.readiness_problems ?? [], ...(s.readiness_checked_utc ? { checked_at: s.readiness_checked_utc } : {}) } }
      : {}),
  };
}

export async function getPlan(deps: FailoverDeps, group: string): Promise<PlanResponse> {
  return view(group, await deps.store.load(group), deps.config);
}

/** A plan as a caller sends it: validated, and refused naming the step and field. */
export function planFromRequest(input: unknown, config: FailoverDeps["config"]): { plan: SwitchPlan; text: string } {
  const text = typeof input === "string" ? input : JSON.stringify(input);
  try {
    const plan = checkedPlan(parsePlan(text, "plan"), "plan", config);
    return { plan, text: JSON.stringify(JSON.parse(text)) };
  } catch (err) {
    if (err instanceof InvalidPlanError) throw invalidRequest({ path: "plan", message: err.message.replace(/^plan: /, "") });
    throw err;
  }
}

interface ChangeInput {
  readonly ifMatch?: string;
  readonly actor?: string;
  readonly reason?: string;
}

/** Refuses a change made against another version of the row than the caller read. */
function checkIfMatch(loaded: LoadedState, ifMatch: string | undefined): void {
  if (ifMatch !== undefined && ifMatch !== "*" && ifMatch !== loaded.etag) {
    throw new FailoverError(
      "precondition_failed",
      `the row of group "${loaded.group}" changed since you read it (If-Match ${ifMatch.slice(0, 80)}, now ${loaded.etag}): read the plan again and decide again`,
    );
  }
}

/**
 * Sets the group's plan: readiness is checked first (reads only, deadlines as in a switch
 * cycle) and recorded with it; the row keeps its target (the next cycle adopts the plan by
 * verifying the world, or applies it where the world differs). One conditional write.
 */
export async function setPlan(deps: FailoverDeps, group: string, input: unknown, options: ChangeInput = {}): Promise<PlanResponse> {
  const { plan, text } = planFromRequest(input, deps.config);
  const readiness: ReadinessResponse = await planReadiness(deps, group, plan);
  const loaded = await deps.store.load(group);
  checkIfMatch(loaded, options.ifMatch);
  const unchanged = loaded.raw.switch_plan === text;
  const next = withReadiness(loaded.state, readiness, new Date(readiness.checked_at));
  if (!(await deps.store.replace({ ...loaded, raw: { ...loaded.raw, switch_plan: text } }, next))) {
    throw new FailoverError("precondition_failed", `the row of group "${group}" changed while the plan was being written: read it again and decide again`);
  }
  const after = await deps.store.load(group);
  if (!unchanged) await interruptDrill(deps, group, "the switch plan changed during the drill");
  if (!unchanged)
    await recordPlanChange(
      deps,
      group,
      after,
      `switch plan set (generation ${plan.generation}, ${planSteps(plan).length} step(s), ${readiness.ready ? "ready" : `NOT READY: ${readiness.problems.length} problem(s)`})`,
      options,
    );
  return { ...view(group, after, deps.config), readiness: { ready: readiness.ready, problems: readiness.problems, checked_at: readiness.checked_at }, changed: !unchanged };
}

/** Removes the row's plan: the default group falls back to SWITCH_PLAN (if set), any other group moves the row only. */
export async function removePlan(deps: FailoverDeps, group: string, options: ChangeInput = {}): Promise<PlanResponse> {
  const loaded = await deps.store.load(group);
  checkIfMatch(loaded, options.ifMatch);
  if (loaded.raw.switch_plan === undefined || loaded.raw.switch_plan === "") return { ...view(group, loaded, deps.config), changed: false };
  const raw = Object.fromEntries(Object.entries(loaded.raw).filter(([key]) => key !== "switch_plan"));
  if (!(await deps.store.replace({ ...loaded, raw }, loaded.state))) {
    throw new FailoverError("precondition_failed", `the row of group "${group}" changed while the plan was being removed: read it again and decide again`);
  }
  await interruptDrill(deps, group, "the switch plan was removed during the drill");
  const after = await deps.store.load(group);
  await recordPlanChange(deps, group, after, "switch plan removed from the row", options);
  return { ...view(group, after, deps.config), changed: true };
}

async function recordPlanChange(deps: FailoverDeps, group: string, loaded: LoadedState, what: string, options: ChangeInput): Promise<void> {
  const reason = options.reason ? `${what}: ${cleanText(options.reason, TEXT_LIMITS.reason)}` : what;
  const target = loaded.state.active_target;
  await recordTransition(
    deps,
    group,
    { at: deps.clock.now().toISOString(), kind: "plan_changed", from: target, to: target, reason: reason.slice(0, 1000), actor: cleanText(options.actor ?? "anonymous", TEXT_LIMITS.actor) },
    loaded.state,
  );
}
