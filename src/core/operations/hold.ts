import { z } from "zod";
import type { FailoverDeps } from "../deps";
import { invalidRequest } from "../errors";
import { decideHold, decideRelease, holdEnd } from "../policy";
import { TEXT_LIMITS, cleanText } from "../text";
import { targetSchema } from "../state";
import { controlAction } from "./pauseResume";

/** The answer of a hold or a release. */
export const holdResponseSchema = z.object({
  group: z.string(),
  changed: z.boolean(),
  held: z.boolean(),
  hold_until_utc: z.string().optional(),
  hold_owner: z.string().optional(),
  active_target: targetSchema,
});
export type HoldResponse = Readonly<z.infer<typeof holdResponseSchema>>;

async function control(deps: FailoverDeps, group: string, decide: Parameters<typeof controlAction>[2]): Promise<HoldResponse> {
  const { changed, state: s } = await controlAction(deps, group, decide);
  return {
    group,
    changed,
    held: s.hold_until_utc !== undefined,
    ...(s.hold_until_utc ? { hold_until_utc: s.hold_until_utc, ...(s.hold_owner ? { hold_owner: s.hold_owner } : {}) } : {}),
    active_target: s.active_target,
  };
}

/**
 * Holds the group on its current side: no automatic failback until `until` (in the future, at
 * most 72 hours away), owned by the caller. A failover away from a failing side still happens.
 * A new hold replaces the old one.
 */
export function hold(deps: FailoverDeps, group: string, input: { until: Date; reason: string; actor: string }): Promise<HoldResponse> {
  const end = holdEnd(input.until, deps.clock.now());
  if ("problem" in end) return Promise.reject(invalidRequest({ path: "until", message: end.problem }));
  if (cleanText(input.reason, TEXT_LIMITS.reason) === "") return Promise.reject(invalidRequest({ path: "reason", message: "must say why (it has no printable text)" }));
  return control(deps, group, (state, now) => decideHold(state, { until: end.until, reason: input.reason, owner: input.actor }, now));
}

/** Ends the failback hold before its time. */
export function release(deps: FailoverDeps, group: string, input: { reason?: string; actor?: string } = {}): Promise<HoldResponse> {
  return control(deps, group, (state, now) => decideRelease(state, { reason: input.reason ?? "released", actor: input.actor ?? "anonymous" }, now));
}
