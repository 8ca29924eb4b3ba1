import { z } from "zod";
import { judgeOnce, type FailoverDeps } from "../deps";
import { invalidRequest } from "../errors";
import { REFUSAL_REASONS, decideSwitch, type SwitchOutcome, type SwitchRequest } from "../policy";
import type { ProbeResult } from "../probe";
import { effectivePolicy, endpointOf, otherTarget, targetSchema, type FailoverState, type Target } from "../state";
import { withPlanIntent } from "../switch/saga";
import { recordGroupState, recordProbe, recordSwitch, secondsBetween } from "../telemetry";
import { readDecideWrite, recentlyWritten } from "./readDecideWrite";
import { recordTransition } from "./recordTransition";

export interface SwitchTargetRequest {
  /** `failover` moves away from `expected_from`; `failback` moves from the secondary back to the primary. */
  readonly kind?: "failover" | "failback";
  /**
   * The target the caller expects to move away from. A failover defaults to the active target
   * when read, but a forced one must name it. A failback always moves away from the secondary.
   */
  readonly expected_from?: Target;
  readonly force?: boolean;
  readonly automatic?: boolean;
  readonly reason?: string;
  readonly actor?: string;
  /** A drill's leg (see operations/drill.ts), and what the drill adds to the row with the switch. */
  readonly drill?: { readonly leg: "over" | "back"; readonly annotate: (before: FailoverState, next: FailoverState) => FailoverState };
}

/** The answer of a failover or failback: `previous_target` when it changed, else the `reason` it did not. */
export const switchTargetResponseSchema = z.object({
  group: z.string(),
  changed: z.boolean(),
  reason: z.enum(REFUSAL_REASONS).optional(),
  active_target: targetSchema,
  previous_target: targetSchema.optional(),
  failover_count: z.number().int(),
  last_status: z.string(),
  lock_until_utc: z.string().optional(),
  forced: z.boolean(),
});
export type SwitchTargetResponse = Readonly<z.infer<typeof switchTargetResponseSchema>>;

/**
 * The safety rules of a switch request, whoever sends it. A forced switch skips the cooldown,
 * so a retried forced request that did not say which way would switch straight back.
 */
function expectedSource(request: SwitchTargetRequest): Target | undefined {
  if (request.kind === "failback") {
    if (request.expected_from !== undefined && request.expected_from !== "secondary") {
      throw invalidRequest({ path: "expected_from", message: `a failback moves away from the secondary (got "${request.expected_from}")` });
    }
    return "secondary";
  }
  if (request.force === true && request.expected_from === undefined) {
    throw invalidRequest({ path: "expected_from", message: "is required with force: true (the target to move away from), so a retried request cannot switch back" });
  }
  return request.expected_from;
}

/**
 * When the problem behind a switch was detected: for an automatic switch, the first failed
 * check of the streak (`unhealthy_since_utc`, else the last check); for a manual or forced
 * one, the request time. The saga's detection -> intent -> applied -> verified times and the
 * detection-duration metric both start here.
 */
export function detectionTime(state: FailoverState, automatic: boolean, now: Date): Date {
  const since = automatic ? (state.unhealthy_since_utc ?? state.last_check_utc) : undefined;
  return since ? new Date(since) : now;
}

/**
 * Switches the traffic target away from `expected_from`: a failover, or a failback to the
 * primary. At least once safe: a repeat finds the row already moved and changes nothing.
 * Verifies the standby first unless forced.
 */
export async function switchTarget(deps: FailoverDeps, group: string, request: SwitchTargetRequest = {}): Promise<SwitchTargetResponse> {
  const requested = expectedSource(request);
  const kind = request.kind ?? "failover";
  const force = request.force === true;
  // A failover that names no source moves away from the target active at the first read, and
  // keeps that source through retries, so it never toggles back.
  let expectedFrom = requested;
  const judge = judgeOnce(deps);
  // The audit entry of an automatic failover keeps when its streak of failed checks began (from the row as last read).
  // An automatic switch follows the loop's check, which has just written the row in this process:
  // it decides on that row and writes on its ETag without reading (recentlyWritten).
  let unhealthySince: string | undefined;
  const { decided, state, standby, detection } = await readDecideWrite(
    deps.store,
    group,
    async (loaded) => {
      expectedFrom ??= loaded.state.active_target;
      unhealthySince = request.automatic === true && kind === "failover" ? loaded.state.unhealthy_since_utc : undefined;
      const policy = effectivePolicy(deps.config.policy, loaded.overrides);
      const to = otherTarget(expectedFrom);
      // The standby is verified by the group's vantages and quorum, as a check judges (a forced switch does not verify).
      const standby: ProbeResult | undefined = force || loaded.state.active_target !== expectedFrom ? undefined : (await judge(endpointOf(loaded.state, to), policy)).probe;
      const switchRequest: SwitchRequest = {
        kind,
        expected_from: expectedFrom,
        force,
        automatic: request.automatic === true,
        reason: request.reason ?? (kind === "failback" ? "manual failback" : "manual failover"),
        actor: request.actor ?? "anonymous",
        ...(request.drill ? { drill: request.drill.leg } : {}),
      };
      const now = deps.clock.now();
      const decided: SwitchOutcome = decideSwitch(loaded.state, switchRequest, standby, policy, now);
      // With a switch plan, the same conditional write records the intent to move traffic. Its
      // detection time is the one telemetry measures from: the first failed check of the streak
      // that triggered an automatic switch; a manual or forced switch is detected when requested.
      const detected = detectionTime(loaded.state, switchRequest.automatic, now);
      const switched = decided.changed && decided.next ? withPlanIntent(loaded.raw, group, deps.config, decided.next, now, detected) : decided.next;
      const next = switched && decided.changed && request.drill ? request.drill.annotate(loaded.state, switched) : switched;
      const state: FailoverState = next ?? loaded.state;
      // Detection-to-switch: from the first failed check of the streak to this switch (automatic failovers).
      const detection = switchRequest.automatic && kind === "failover" ? secondsBetween(detected.toISOString(), now) : undefined;
      return { ...(next ? { next } : {}), result: { decided, state, standby, detection } };
    },
    request.automatic === true ? recentlyWritten(deps, group) : undefined,
  );
  const forced = decided.changed && force;
  if (standby) recordProbe(group, otherTarget(expectedFrom!), standby);
  if (decided.changed) {
    recordSwitch(group, { kind, trigger: forced ? "forced" : request.automatic === true ? "automatic" : "manual", ...(detection !== undefined ? { detection_seconds: detection } : {}) });
    recordGroupState(group, state);
  }
  if (decided.transition)
    await recordTransition(deps, group, decided.transition, state, { ...(standby ? { probe: standby } : {}), forced, ...(decided.changed && unhealthySince ? { unhealthySince } : {}) });
  return {
    group,
    changed: decided.changed,
    ...(decided.changed ? { previous_target: decided.from } : { reason: decided.reason }),
    active_target: state.active_target,
    failover_count: state.failover_count,
    last_status: state.last_status,
    ...(state.lock_until_utc ? { lock_until_utc: state.lock_until_utc } : {}),
    forced,
  };
}
