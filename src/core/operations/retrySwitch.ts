import { z } from "zod";
import type { FailoverDeps } from "../deps";
import { FailoverError } from "../errors";
import { SWITCH_STATES, targetSchema, type FailoverState } from "../state";
import { InvalidPlanError } from "../switch/plan";
import { loadPlan, retriedIntent } from "../switch/saga";
import { TEXT_LIMITS, cleanText } from "../text";
import { readDecideWrite } from "./readDecideWrite";
import { recordTransition } from "./recordTransition";

export const retrySwitchResponseSchema = z.object({
  group: z.string(),
  changed: z.boolean(),
  reason: z.enum(["no_switch_plan", "not_held"]).optional().describe("Why nothing changed: the group has no switch plan, or its switch is not held."),
  active_target: targetSchema,
  switch_state: z.enum(SWITCH_STATES).optional(),
});
export type RetrySwitchResponse = Readonly<z.infer<typeof retrySwitchResponseSchema>>;

/**
 * A human's answer to a held (or undone) switch, once the cause is fixed: the row's target is
 * applied again as a new intent (its attempts and ledger start anew), and the loop is woken to
 * do it. Anything else (no plan, a switch that is not held) changes nothing and says why. One
 * audit entry names who retried and what had stopped it.
 */
export async function retrySwitch(deps: FailoverDeps, group: string, input: { reason?: string; actor?: string } = {}): Promise<RetrySwitchResponse> {
  const now = deps.clock.now();
  type Outcome = { changed: boolean; reason?: "no_switch_plan" | "not_held"; before: FailoverState; after: FailoverState };
  const outcome = await readDecideWrite<Outcome>(deps.store, group, (loaded) => {
    let plan;
    try {
      plan = loadPlan(loaded.raw, group, deps.config);
    } catch (err) {
      if (err instanceof InvalidPlanError) throw new FailoverError("malformed_state", `${err.message}; nothing was retried`);
      throw err;
    }
    if (!plan) return { result: { changed: false, reason: "no_switch_plan", before: loaded.state, after: loaded.state } };
    const next = retriedIntent(loaded.state, plan, now);
    if (!next) return { result: { changed: false, reason: "not_held", before: loaded.state, after: loaded.state } };
    return { next, result: { changed: true, before: loaded.state, after: next } };
  });
  const { before, after } = outcome;
  if (outcome.changed) {
    const why = cleanText(input.reason ?? "retried by an operator", TEXT_LIMITS.reason);
    const stopped = `${before.switch_state}${before.switch_error_class ? ` (${before.switch_error_class})` : ""}${before.switch_error ? `: ${before.switch_error}` : ""}`;
    await recordTransition(
      deps,
      group,
      {
        at: now.toISOString(),
        kind: "switch_retried",
        from: before.active_target === "primary" ? "secondary" : "primary",
        to: before.active_target,
        reason: `${why}; the switch to ${before.active_target} is applied again (it was ${stopped})`.slice(0, 1000),
        actor: cleanText(input.actor ?? "anonymous", TEXT_LIMITS.actor),
      },
      after,
    );
  }
  return {
    group,
    changed: outcome.changed,
    ...(outcome.reason ? { reason: outcome.reason } : {}),
    active_target: after.active_target,
    ...(after.switch_state ? { switch_state: after.switch_state } : {}),
  };
}
