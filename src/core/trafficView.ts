import { z } from "zod";
import { SWITCH_STATES, otherTarget, targetSchema, type FailoverState } from "./state";
import { switchTimings } from "./switch/saga";
import { parseLedger } from "./switch/session";
import { operatorAction } from "./switch/stepErrors";

/**
 * Where traffic is, as the console card and the CLI show it: the switch saga's fields on the
 * row (verified, applying, propagating, failed...), the drift check's finding and the last
 * readiness check, each with the one summary line both show. Read-only, from the row alone.
 */
/**
 * Whether traffic is where the row says, from the switch saga's fields on the row:
 * `verified` with the evidence and time; `applying`, `applied`, `propagating` or `failed`
 * (with the step, error class and message); `not_run` when the group has a plan the loop has
 * not run yet; `row_only` without a plan (the failover moves the row only). `summary` is the
 * one line the console and the CLI both show.
 */
export const trafficViewSchema = z.object({
  state: z.enum([...SWITCH_STATES, "not_run", "row_only"]).describe("held, compensating, compensated: a permanent error stopped the switch; a human must act."),
  target: targetSchema.optional().describe("The side the switch moves traffic to (the row's switch_target)."),
  at: z.string().optional().describe("When the state was reached: verified, applied, or the intent to switch."),
  evidence: z.array(z.string()).optional().describe('What each step of the last apply did ("traffic_manager: secondary enabled, primary disabled (2 writes)").'),
  failed_step: z.number().int().optional(),
  error_class: z.string().optional(),
  error: z.string().optional(),
  attempts: z.number().int().optional(),
  next_attempt_utc: z.string().optional(),
  timings: z
    .object({ intent_s: z.number().optional(), applied_s: z.number().optional(), verified_s: z.number().optional() })
    .optional()
    .describe("Seconds from detection to intent, applied and verified (see switchTimings)."),
  action: z.string().optional().describe("What a human must do, when the switch is stopped (held, compensated)."),
  writes: z.number().int().optional().describe("Writes the current switch made to the world (its ledger)."),
  summary: z.string(),
});
export type TrafficView = Readonly<z.infer<typeof trafficViewSchema>>;

/** Traffic found away from the row's target after a verified switch (the switch cycle's drift check). */
export const driftViewSchema = z.object({ detail: z.string(), since: z.string().optional(), summary: z.string() });
export type DriftView = Readonly<z.infer<typeof driftViewSchema>>;

/** The last readiness check of the switch plan: can every step run (resource there, role held)? */
export const readinessViewSchema = z.object({ ready: z.boolean(), problems: z.array(z.string()), checked_utc: z.string().optional(), summary: z.string() });
export type ReadinessView = Readonly<z.infer<typeof readinessViewSchema>>;

/** The row's drift and readiness fields, written by the switch cycle (absent on rows that have none). */
type DriftAndReadiness = Pick<FailoverState, "switch_drift" | "switch_drift_since_utc" | "readiness_ready" | "readiness_problems" | "readiness_checked_utc">;

export function driftView(state: DriftAndReadiness): DriftView | undefined {
  if (!state.switch_drift) return undefined;
  const since = state.switch_drift_since_utc;
  return { detail: state.switch_drift, ...(since ? { since } : {}), summary: `DRIFT${since ? ` since ${clockOf(since)}` : ""}: ${state.switch_drift}` };
}

export function readinessView(state: DriftAndReadiness): ReadinessView | undefined {
  if (state.readiness_ready === undefined) return undefined;
  const problems = state.readiness_problems ?? [];
  const checked = state.readiness_checked_utc;
  const when = checked ? ` (checked ${clockOf(checked)})` : "";
  return {
    ready: state.readiness_ready,
    problems,
    ...(checked ? { checked_utc: checked } : {}),
    summary: state.readiness_ready ? `READY${when}` : `NOT READY${when}: ${problems.length > 0 ? problems.join("; ") : "no problem named"}`,
  };
}

/** HH:MM:SSZ of an ISO time, as the console and the CLI show times. */
export function clockOf(iso: string): string {
  return `${new Date(iso).toISOString().slice(11, 19)}Z`;
}

const MAX_EVIDENCE = 10;

/** "kind: detail" of each step the row's switch_steps records; an unreadable value yields nothing. */
function stepEvidence(stepsJson: string | undefined): string[] {
  if (!stepsJson) return [];
  try {
    const steps = JSON.parse(stepsJson) as unknown;
    if (!Array.isArray(steps)) return [];
    return steps.slice(0, MAX_EVIDENCE).flatMap((s: unknown) => {
      const step = s && typeof s === "object" ? (s as Record<string, unknown>) : {};
      return typeof step.kind === "string" && typeof step.detail === "string" ? [`${step.kind}: ${step.detail}`] : [];
    });
  } catch {
    return [];
  }
}

/**
 * Whether traffic is verified at the active target, from the row alone. `hasPlan` says
 * whether the group has a switch plan; undefined means unknown, and then a row without saga
 * fields reads as a row without a plan.
 */
export function trafficView(state: FailoverState, hasPlan?: boolean): TrafficView {
  if (state.switch_state === undefined) {
    return hasPlan
      ? { state: "not_run", summary: "switch plan not run yet: the next cycle checks that traffic matches the row; until then the row only" }
      : { state: "row_only", summary: "no switch plan: row only" };
  }
  const target = state.switch_target ?? state.active_target;
  const evidence = stepEvidence(state.switch_steps);
  const timings = switchTimings(state);
  const writes = parseLedger(state.switch_ledger).writes.length;
  const base = { target, ...(evidence.length > 0 ? { evidence } : {}), ...(Object.keys(timings).length > 0 ? { timings } : {}), ...(writes > 0 ? { writes } : {}) };
  const shown = evidence.length > 0 ? evidence.join("; ") : "the resources already matched, nothing was written";
  // The row moved again (edited, or switched) after this switch: its saga has not caught up yet.
  if (target !== state.active_target) {
    return { state: "applying", ...base, summary: `row says ${state.active_target}, traffic last switched to ${target}: applying to ${state.active_target} at the next cycle` };
  }
  const lastProblem = state.switch_error ? ` (last: ${state.switch_error_class ? `${state.switch_error_class}: ` : ""}${state.switch_error})` : "";
  switch (state.switch_state) {
    case "verified": {
      const at = state.switch_verified_utc;
      return { state: "verified", ...base, ...(at ? { at } : {}), summary: `verified${at ? ` ${clockOf(at)}` : ""} at ${target} — ${shown}` };
    }
    case "applied":
    case "propagating": {
      const at = state.switch_applied_utc;
      const waiting = state.switch_state === "propagating" ? "propagating (applied, waiting for the service to report it done)" : "applied, not verified yet";
      return { state: state.switch_state, ...base, ...(at ? { at } : {}), summary: `${waiting} to ${target}${at ? ` since ${clockOf(at)}` : ""}${lastProblem} — ${shown}` };
    }
    case "held":
    case "compensating":
    case "compensated": {
      const action = operatorAction(state.switch_error_class);
      const where = state.switch_failed_step !== undefined ? ` at step ${state.switch_failed_step}` : "";
      const problem = `${state.switch_error_class ? `(${state.switch_error_class}) ` : ""}${state.switch_error ?? "unknown error"}`;
      const head =
        state.switch_state === "held"
          ? `NEEDS AN OPERATOR: the switch to ${target} is held${where} ${problem}`
          : state.switch_state === "compensating"
            ? `NEEDS AN OPERATOR: undoing the switch to ${target} after a permanent error${where} ${problem}`
            : `NEEDS AN OPERATOR: the switch to ${target} was undone, traffic is back on ${otherTarget(target)}, after a permanent error${where} ${problem}`;
      return {
        state: state.switch_state,
        ...base,
        ...(state.switch_failed_step !== undefined ? { failed_step: state.switch_failed_step } : {}),
        ...(state.switch_error_class ? { error_class: state.switch_error_class } : {}),
        ...(state.switch_error ? { error: state.switch_error } : {}),
        action,
        summary: `${head} — ${action}`,
      };
    }
    case "failed": {
      const next = state.switch_next_attempt_utc;
      return {
        state: "failed",
        ...base,
        ...(state.switch_failed_step !== undefined ? { failed_step: state.switch_failed_step } : {}),
        ...(state.switch_error_class ? { error_class: state.switch_error_class } : {}),
        ...(state.switch_error ? { error: state.switch_error } : {}),
        ...(state.switch_attempts !== undefined ? { attempts: state.switch_attempts } : {}),
        ...(next ? { next_attempt_utc: next } : {}),
        summary:
          `FAILED to move traffic to ${target}` +
          (state.switch_failed_step !== undefined ? ` at step ${state.switch_failed_step}` : "") +
          (state.switch_error_class ? ` (${state.switch_error_class})` : "") +
          `: ${state.switch_error ?? "unknown error"}` +
          (state.switch_attempts !== undefined ? `; attempt ${state.switch_attempts}` : "") +
          (next ? `, next at ${clockOf(next)}` : ""),
      };
    }
    default: {
      const at = state.switch_intent_utc;
      return {
        state: "applying",
        ...base,
        ...(at ? { at } : {}),
        ...(state.switch_error_class ? { error_class: state.switch_error_class } : {}),
        ...(state.switch_error ? { error: state.switch_error } : {}),
        summary: `applying to ${target}${at ? ` since ${clockOf(at)}` : ""}${lastProblem}${evidence.length > 0 ? ` — ${shown}` : ""}`,
      };
    }
  }
}
