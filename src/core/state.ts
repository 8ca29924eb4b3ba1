import { z } from "zod";
import { FailoverError } from "./errors";
import { POLICY_FIELDS, POLICY_KNOBS, boolean, integer, policySchema, regionSchema, toRowValue, type Policy, type PolicyField } from "./knobs";
import { formatIssues, zodIssues, type ValidationIssue } from "./validation";
import { TEXT_LIMITS, cleanText } from "./text";
import { voteSchema } from "./vantage";

/**
 * The state row of one failover group: table `failoverstate`, PartitionKey `failover`,
 * RowKey = group (`state` for the default group, exactly the original single row).
 * The seven original fields keep their names and meaning; the rest are optional on read so
 * a seed row written by the original demo is valid as it stands.
 */

export const PARTITION_KEY = "failover";
export const RECENT_TRANSITIONS_KEPT = 5;

export const targetSchema = z.enum(["primary", "secondary"]);
export type Target = z.infer<typeof targetSchema>;

export function otherTarget(target: Target): Target {
  return target === "primary" ? "secondary" : "primary";
}

export const TRANSITION_KINDS = [
  "failover",
  "failback",
  "failover_blocked",
  "pause",
  "resume",
  "hold",
  "hold_released",
  "approval_requested",
  "switch_recommended",
  "approval_granted",
  "approval_rejected",
  "approval_expired",
  "proposal_stale",
  "drill",
  "switch_applied",
  "switch_failed",
  "switch_verified",
  "switch_drift",
  "switch_held",
  "switch_compensated",
  "switch_superseded",
  "switch_retried",
  "loop_resumed",
  "loop_restarted",
  "plan_changed",
  "standby_down",
  "standby_recovered",
  "checks_inconclusive",
] as const;
export type TransitionKind = (typeof TRANSITION_KINDS)[number];

/**
 * An ISO 8601 date-time such as 2026-01-01T12:00:00Z. Without an offset (as Python's
 * isoformat() writes it) it is read as UTC, as the field names say. Stored back as ISO UTC.
 */
const isoTime = z.preprocess(
  (v) => (v instanceof Date ? v.toISOString() : v === "" || v === null ? undefined : v),
  z.iso
    .datetime({ offset: true, local: true, error: "must be an ISO 8601 time such as 2026-01-01T12:00:00Z" })
    .transform((s) => new Date(/(Z|[+-]\d{2}:?\d{2})$/i.test(s) ? s : `${s}Z`).toISOString())
    .pipe(z.iso.datetime())
    .optional(),
);

const nonEmpty = z.string({ error: "is missing or not a string" }).trim().min(1, "must not be empty");
export const count = integer(0, 2_147_483_647);
export const optionalText = z.preprocess((v) => (v === "" || v === null ? undefined : v), z.string({ error: "must be a string" }).optional());

/** One line of the short summary the row keeps (`recent_transitions`); the audit log keeps the full record, with the same fields. */
export const transitionSummarySchema = z.object({
  at: z.string(),
  kind: z.enum(TRANSITION_KINDS),
  from: targetSchema,
  to: targetSchema,
  reason: z.string(),
  actor: z.string(),
});
export type TransitionSummary = Readonly<z.infer<typeof transitionSummarySchema>>;

/** JSON text as the row stores it, parsed (a value that is not JSON is left for the schema to refuse). */
function parsedJson(v: unknown): unknown {
  if (typeof v !== "string") return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

const recentTransitions = z.preprocess(
  (v) => (v === undefined || v === null || v === "" ? [] : parsedJson(v)),
  z.array(transitionSummarySchema, { error: "must be a JSON array of transition summaries" }),
);

/** Fields the row stores as JSON text. */
const JSON_FIELDS: readonly string[] = ["recent_transitions", "readiness_problems", "last_votes", "standby_votes"];

/** Each vantage's vote about an endpoint at the last check that asked more than one (JSON on the row). */
const region = z.preprocess((v) => (v === null || v === "" ? undefined : v), regionSchema.optional());
const votes = z.preprocess((v) => (v === null || v === "" ? undefined : parsedJson(v)), z.array(voteSchema, { error: "must be a JSON array of votes" }).max(32).optional());

/** The switch saga's states (see core/switch/saga.ts); held and compensated wait for a human. */
export const SWITCH_STATES = ["applying", "failed", "applied", "propagating", "verified", "held", "compensating", "compensated"] as const;

const switchFields = {
  /** The switch saga (see core/switch/saga.ts): intent, apply, verify, with times and per-step results. */
  switch_state: z.preprocess((v) => (v === "" || v === null ? undefined : v), z.enum(SWITCH_STATES, { error: `must be one of ${SWITCH_STATES.join(", ")}` }).optional()),
  switch_target: z.preprocess((v) => (v === "" || v === null ? undefined : v), z.enum(["primary", "secondary"], { error: "must be primary or secondary" }).optional()),
  /** The current intent's id: every write of its apply checks that the row still names it (the fence). */
  switch_intent_id: optionalText,
  /** Every write the current intent's apply made to the world (JSON: { writes, omitted }). */
  switch_ledger: optionalText,
  switch_plan_generation: optionalText,
  switch_attempts: count.optional(),
  switch_next_attempt_utc: isoTime,
  switch_error: optionalText,
  switch_error_class: optionalText,
  switch_failed_step: integer(0, 99).optional(),
  switch_steps: optionalText,
  switch_detected_utc: isoTime,
  switch_intent_utc: isoTime,
  switch_applied_utc: isoTime,
  switch_verified_utc: isoTime,
  /** Drift found once the switch was verified: the steps and what differs (absent when none); since when. */
  switch_drift: optionalText,
  switch_drift_since_utc: isoTime,
  /** The last readiness check of the switch plan (at init, by the loop, on demand): the result, each problem named, and when. */
  readiness_ready: boolean.optional(),
  readiness_problems: z.preprocess((v) => (v === null || v === "" ? undefined : parsedJson(v)), z.array(z.string(), { error: "must be a JSON array of texts" }).optional()),
  readiness_checked_utc: isoTime,
};

/**
 * A switch the loop proposes instead of making it (decision_mode approval or notify_only; see
 * policy.ts decideProposal): what and from where, why, since when, until when it waits, and
 * what became of it. It stays on the row until the switch is made or its condition clears.
 */
export const PROPOSAL_STATES = ["pending", "approved", "rejected", "expired", "notified"] as const;
export type ProposalState = (typeof PROPOSAL_STATES)[number];
const proposalFields = {
  proposal_id: optionalText,
  proposal_state: z.preprocess((v) => (v === "" || v === null ? undefined : v), z.enum(PROPOSAL_STATES, { error: `must be one of ${PROPOSAL_STATES.join(", ")}` }).optional()),
  proposal_kind: z.preprocess((v) => (v === "" || v === null ? undefined : v), z.enum(["failover", "failback"], { error: "must be failover or failback" }).optional()),
  proposal_from: z.preprocess((v) => (v === "" || v === null ? undefined : v), targetSchema.optional()),
  proposal_reason: optionalText,
  proposal_created_utc: isoTime,
  proposal_expires_utc: isoTime,
  proposal_decided_by: optionalText,
  proposal_decided_utc: isoTime,
};

/**
 * A drill in progress (see operations/drill.ts): its id, its leg (over: to the other side; back:
 * to where it started), the side it started from, when and by whom, and the over leg's figures
 * once verified (JSON). `last_drill` keeps the last drill's report (JSON).
 */
const drillFields = {
  drill_id: optionalText,
  drill_phase: z.preprocess((v) => (v === "" || v === null ? undefined : v), z.enum(["over", "back"], { error: "must be over or back" }).optional()),
  drill_from: z.preprocess((v) => (v === "" || v === null ? undefined : v), targetSchema.optional()),
  drill_started_utc: isoTime,
  drill_actor: optionalText,
  drill_over: optionalText,
  last_drill: optionalText,
};

/** The row without a drill in progress (the last drill's report stays). */
export function withoutDrill(state: FailoverState): FailoverState {
  return Object.fromEntries(Object.entries(state).filter(([k]) => !k.startsWith("drill_"))) as FailoverState;
}

/** The row without a proposal. */
export function withoutProposal(state: FailoverState): FailoverState {
  return Object.fromEntries(Object.entries(state).filter(([k]) => !k.startsWith("proposal_"))) as FailoverState;
}

/** Schema of the fields this app manages on the row (policy overrides are validated separately). */
export const stateSchema = z.object({
  active_target: z.enum(["primary", "secondary"], { error: "must be primary or secondary" }),
  primary_endpoint: nonEmpty,
  secondary_endpoint: nonEmpty,
  /** The Azure regions the endpoints run in, when the group declares them: readiness checks that no single region's loss blinds the judge (core/topology.ts). */
  primary_region: region,
  secondary_region: region,
  failover_count: count,
  last_status: nonEmpty,
  last_check_utc: isoTime,
  lock_until_utc: isoTime,
  consecutive_failures: count.default(0),
  /** When the active endpoint's current streak of counted failed checks began (detection time). */
  unhealthy_since_utc: isoTime,
  consecutive_successes: count.default(0),
  failback_successes: count.default(0),
  primary_healthy: boolean.optional(),
  secondary_healthy: boolean.optional(),
  /** The standby's streak of counted unhealthy checks (standby_check_every), when it began, and when the standby was last probed by a check. */
  standby_consecutive_failures: count.default(0),
  standby_unhealthy_since_utc: isoTime,
  standby_checked_utc: isoTime,
  /** Counted checks in a row whose votes could not reach the quorum (inconclusive: they count neither way). */
  inconclusive_checks: count.default(0),
  /** The votes of the last check about the active endpoint, and about the standby, when more than one vantage judges. */
  last_votes: votes,
  standby_votes: votes,
  last_error: optionalText,
  last_error_class: optionalText,
  last_latency_ms: integer(0, 2_147_483_647).optional(),
  last_status_code: integer(0, 999).optional(),
  last_failover_utc: isoTime,
  last_failover_forced: boolean.optional(),
  paused: boolean.default(false),
  paused_until_utc: isoTime,
  pause_reason: optionalText,
  /** A failback hold: no automatic failback until this time (at most MAX_HOLD_SECONDS after it was set); its owner and reason. */
  hold_until_utc: isoTime,
  hold_owner: optionalText,
  hold_reason: optionalText,
  ...proposalFields,
  ...drillFields,
  recent_transitions: recentTransitions,
  /** The orchestration cycle whose check last advanced the counters (at-least-once guard). */
  last_cycle_id: optionalText,
  ...switchFields,
});

export type FailoverState = z.infer<typeof stateSchema>;

/** The fields `FailoverState` owns on the row; anything else on the row is preserved on write. */
export const MANAGED_FIELDS: readonly string[] = Object.keys(stateSchema.shape);

export type PolicyOverrides = Partial<Policy>;

export interface ParsedRow {
  readonly state: FailoverState;
  readonly overrides: PolicyOverrides;
  /** Overrides on the row that do not parse: those knobs fall back to the app settings. */
  readonly overrideIssues: readonly ValidationIssue[];
}

/**
 * The row's overrides knob by knob: a typo in one tuning knob falls back to the app setting
 * and is reported, so it can never block a switch (least of all a forced one).
 */
function rowOverrides(raw: Readonly<Record<string, unknown>>): { overrides: PolicyOverrides; issues: ValidationIssue[] } {
  const overrides: Record<string, unknown> = {};
  const issues: ValidationIssue[] = [];
  for (const field of POLICY_FIELDS) {
    const value = raw[field];
    if (value === undefined || value === null || value === "") continue;
    const parsed = overridesSchema.safeParse({ [field]: value });
    if (parsed.success) overrides[field] = (parsed.data as Record<string, unknown>)[field];
    else issues.push(...zodIssues(parsed.error, { root: field, input: raw }).map((i) => ({ ...i, message: `${i.message}; the app setting applies instead` })));
  }
  return { overrides: overrides, issues };
}

/**
 * Each policy knob as a row or a request (init's body) gives it: a knob that is absent, null or
 * empty is not overridden; any other value is parsed by the knob's own schema.
 */
export const policyOverrideFields = Object.fromEntries(
  POLICY_KNOBS.map(({ field, description }) => [field, z.preprocess((v) => (v === null || v === "" ? undefined : v), policySchema.shape[field].optional()).describe(description)]),
) as Readonly<Record<string, z.ZodType>>;

const overridesSchema = z.object(policyOverrideFields);

/**
 * Validates a raw row. Every bad field is named, with the group, in one `malformed_state`
 * error (its `issues` list them as data); nothing is defaulted that could lead to a switch.
 */
export function parseRow(group: string, raw: Readonly<Record<string, unknown>>): ParsedRow {
  const result = stateSchema.safeParse(raw);
  const { overrides, issues: overrideIssues } = rowOverrides(raw);
  if (!result.success) {
    const issues = zodIssues(result.error, { root: "row", input: raw });
    throw new FailoverError("malformed_state", `Malformed state row for group "${group}": ${formatIssues(issues)}`, { issues });
  }
  return { state: result.data, overrides, overrideIssues };
}

/** Overrides parsed by policyOverrideFields (init's body) as the row stores them; knobs not overridden are left out. */
export function overrideRowValues(parsed: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(parsed).flatMap(([f, v]) => (v === undefined ? [] : [[f, toRowValue(f as PolicyField, v)]])));
}

export function effectivePolicy(defaults: Policy, overrides: PolicyOverrides): Policy {
  return { ...defaults, ...overrides };
}

/** The row's properties for `state`, written over `raw` so unknown columns survive a Replace. */
export function toRowProperties(state: FailoverState, raw: Readonly<Record<string, unknown>> = {}): Record<string, unknown> {
  const properties: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (key === "etag" || key === "timestamp" || key.startsWith("odata.") || MANAGED_FIELDS.includes(key)) continue;
    properties[key] = value;
  }
  for (const [key, value] of Object.entries(state)) {
    if (value === undefined) continue;
    properties[key] = JSON_FIELDS.includes(key) ? JSON.stringify(value) : value;
  }
  return properties;
}

export function initialState(primaryEndpoint: string, secondaryEndpoint: string): FailoverState {
  return {
    active_target: "primary",
    primary_endpoint: primaryEndpoint,
    secondary_endpoint: secondaryEndpoint,
    failover_count: 0,
    last_status: "OK",
    consecutive_failures: 0,
    consecutive_successes: 0,
    failback_successes: 0,
    standby_consecutive_failures: 0,
    inconclusive_checks: 0,
    paused: false,
    recent_transitions: [],
  };
}

/** The row field that holds an endpoint's last known health. */
export function healthField(target: Target): "primary_healthy" | "secondary_healthy" {
  return target === "primary" ? "primary_healthy" : "secondary_healthy";
}

export function endpointOf(state: FailoverState, target: Target): string {
  return target === "primary" ? state.primary_endpoint : state.secondary_endpoint;
}

/** A transition, its reason and actor cleaned and capped here, before the row, the audit, logs or a webhook see them. */
export function transitionSummary(kind: TransitionKind, from: Target, to: Target, reason: string, actor: string, now: Date): TransitionSummary {
  return { at: now.toISOString(), kind, from, to, reason: cleanText(reason, TEXT_LIMITS.reason), actor: cleanText(actor, TEXT_LIMITS.actor) };
}

export function withTransition(state: FailoverState, transition: TransitionSummary): FailoverState {
  return { ...state, recent_transitions: [transition, ...state.recent_transitions].slice(0, RECENT_TRANSITIONS_KEPT) };
}
