import { z } from "zod";
import type { FailoverDeps } from "../deps";
import { invalidRequest } from "../errors";
import { decidePause, decideResume } from "../policy";
import { targetSchema, type FailoverState, type TransitionSummary } from "../state";
import { readDecideWrite } from "./readDecideWrite";
import { recordTransition } from "./recordTransition";

export interface PauseInput {
  readonly until?: Date;
  readonly reason?: string;
  readonly actor?: string;
}

/** The answer of a pause or a resume. */
export const controlResponseSchema = z.object({
  group: z.string(),
  changed: z.boolean(),
  paused: z.boolean(),
  paused_until_utc: z.string().optional(),
  active_target: targetSchema,
});
export type ControlResponse = Readonly<z.infer<typeof controlResponseSchema>>;

/**
 * An operator's control action on the row (pause, resume, hold, release): decides on the row as
 * read, writes it when the decision is a transition, and records the transition's audit entry.
 */
export async function controlAction(
  deps: FailoverDeps,
  group: string,
  decide: (state: FailoverState, now: Date) => { next: FailoverState; transition?: TransitionSummary },
): Promise<{ changed: boolean; state: FailoverState }> {
  const outcome = await readDecideWrite(deps.store, group, (loaded) => {
    const decided = decide(loaded.state, deps.clock.now());
    return { ...(decided.transition ? { next: decided.next } : {}), result: decided };
  });
  if (outcome.transition) await recordTransition(deps, group, outcome.transition, outcome.next);
  return { changed: outcome.transition !== undefined, state: outcome.next };
}

async function control(deps: FailoverDeps, group: string, decide: Parameters<typeof controlAction>[2]): Promise<ControlResponse> {
  const { changed, state: s } = await controlAction(deps, group, decide);
  return { group, changed, paused: s.paused, ...(s.paused_until_utc ? { paused_until_utc: s.paused_until_utc } : {}), active_target: s.active_target };
}

/** Pauses automatic switching for the group, optionally until a time in the future; checks go on. */
export function pause(deps: FailoverDeps, group: string, input: PauseInput = {}): Promise<ControlResponse> {
  if (input.until && input.until.getTime() <= deps.clock.now().getTime()) {
    return Promise.reject(invalidRequest({ path: "until", message: `${input.until.toISOString()} is not in the future` }));
  }
  const longest = deps.config.limits.maxPauseSeconds;
  if (input.until && input.until.getTime() > deps.clock.now().getTime() + longest * 1000) {
    return Promise.reject(invalidRequest({ path: "until", message: `${input.until.toISOString()} is more than MAX_PAUSE_SECONDS (${longest} s) away` }));
  }
  return control(deps, group, (state, now) => decidePause(state, { ...(input.until ? { until: input.until } : {}), reason: input.reason ?? "maintenance", actor: input.actor ?? "anonymous" }, now));
}

/** Turns automatic switching back on for the group. */
export function resume(deps: FailoverDeps, group: string, input: { reason?: string; actor?: string } = {}): Promise<ControlResponse> {
  return control(deps, group, (state, now) => decideResume(state, { reason: input.reason ?? "resumed", actor: input.actor ?? "anonymous" }, now));
}
