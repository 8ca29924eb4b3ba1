import { z } from "zod";
import { redact } from "./redact";
import { describeError } from "./errors";
import { policySchema, type Policy } from "./knobs";
import { isLooping } from "./orchestrationContract";
import { isHeld } from "./policy";
import { proposalView, proposalViewSchema } from "./operations/approval";
import { drillReportSchema, lastDrill } from "./operations/drill";
import { effectivePolicy, healthField, targetSchema, type FailoverState } from "./state";
import type { StateStore } from "./storage";
import { voteSchema } from "./vantage";
import { driftView, driftViewSchema, readinessView, readinessViewSchema, trafficView, trafficViewSchema } from "./trafficView";

/**
 * What an operator needs to see of each group, computed from the row, the effective policy
 * and the orchestration's status. Read-only: nothing here writes the row or probes an
 * endpoint, so the console and the CLI can poll it at any rate without counting as a check.
 */

/** The orchestration's status as the Durable client reports it (undefined fields: no instance). */
export interface LoopStatus {
  readonly runtime_status?: string;
  readonly custom_status?: unknown;
  /** When the last cycle checked and when the next is due, as the status route reports them. */
  readonly last_cycle_utc?: string;
  readonly next_check_utc?: string;
  readonly last_updated_time?: string;
  readonly error?: string;
}

const streakSchema = z.object({
  kind: z.enum(["failures", "successes", "recovery"]),
  count: z.number().int(),
  threshold: z.number().int().optional().describe("The count at which the policy acts; absent when nothing happens at any count."),
});
type Streak = z.infer<typeof streakSchema>;

const endpointViewSchema = z.object({
  target: targetSchema,
  url: z.string(),
  active: z.boolean(),
  healthy: z.boolean().optional(),
  status_code: z.number().int().optional().describe("Status code, latency and error of the last probe; the row keeps them for the active endpoint only."),
  latency_ms: z.number().optional(),
  error: z.string().optional(),
  streak: streakSchema.optional(),
  checked_utc: z.string().optional().describe("The standby: when a check last probed it (STANDBY_CHECK_EVERY)."),
  votes: z.array(voteSchema).optional().describe("With vantage agents: each vantage's vote in the last check that judged this endpoint."),
});
export type EndpointView = z.infer<typeof endpointViewSchema>;

export const loopLivenessSchema = z.object({
  runtime_status: z.string(),
  last_cycle_utc: z.string().optional(),
  last_cycle_age_seconds: z.number().int().optional(),
  next_check_utc: z.string().optional(),
  stale: z.boolean().describe("The loop is not running, or its last cycle is older than `stale_after_seconds`."),
  stale_after_seconds: z.number().int(),
  error: z.string().optional(),
});
export type LoopLiveness = z.infer<typeof loopLivenessSchema>;

/**
 * How urgently a group needs an operator, most urgent first: its row cannot be read; nothing is
 * watching it (the loop is not running or stale); both sides are down, or a failover was
 * blocked for that; the active side is down; a traffic switch failed or waits for a human; the
 * world drifted from the row; it is paused while its active side is down; its standby is down
 * (nowhere to go); it runs on the secondary; all is well.
 */
export const SEVERITIES = ["unreadable", "not_watched", "both_down", "active_down", "no_quorum", "switch_problem", "drift", "paused_active_down", "standby_down", "on_secondary", "ok"] as const;
export type Severity = (typeof SEVERITIES)[number];

/** One group as the console and the CLI show it. */
export const groupOverviewSchema = z.object({
  group: z.string(),
  severity: z.enum(SEVERITIES).describe("How urgently the group needs an operator, most urgent first."),
  severity_reason: z.string().describe("The severity's reason in words."),
  error: z.object({ code: z.string(), message: z.string() }).optional().describe("Set when the row cannot be read as state (malformed); the other fields but `loop` are then absent."),
  active_target: targetSchema.optional(),
  last_status: z.string().optional(),
  last_check_utc: z.string().optional(),
  inconclusive_checks: z.number().int().optional().describe("Checks in a row whose votes could not reach the quorum (absent when 0)."),
  failover_count: z.number().int().optional(),
  failback_mode: policySchema.shape.failback_mode.optional(),
  policy: policySchema.pick({ failure_threshold: true, recovery_threshold: true, check_interval_seconds: true, cooldown_seconds: true, failback_mode: true, decision_mode: true }).optional(),
  endpoints: z.array(endpointViewSchema).optional(),
  cooldown: z.object({ until: z.string(), remaining_seconds: z.number().int() }).optional(),
  pause: z.object({ until: z.string().optional(), reason: z.string().optional(), by: z.string().optional(), since: z.string().optional() }).optional(),
  /** A failback hold that stands: no automatic failback until `until`; who holds it and why. */
  hold: z.object({ until: z.string(), owner: z.string().optional(), reason: z.string().optional(), remaining_seconds: z.number() }).optional(),
  /** A switch the loop proposes instead of making it (decision_mode approval or notify_only). */
  proposal: proposalViewSchema.optional(),
  /** A drill in progress: its id, its leg (over to the other side, or back), since when. */
  drill: z.object({ id: z.string(), phase: z.enum(["over", "back"]), started_utc: z.string().optional() }).optional(),
  /** The last drill's report (without its steps: GET status has them on the row's last_drill). */
  last_drill: drillReportSchema.omit({ steps: true }).optional(),
  last_failover: z.object({ at: z.string(), forced: z.boolean() }).optional(),
  traffic: trafficViewSchema.optional(),
  drift: driftViewSchema.optional(),
  readiness: readinessViewSchema.optional(),
  loop: loopLivenessSchema,
});
export type GroupOverview = z.infer<typeof groupOverviewSchema>;

/** Seconds without a cycle after which a loop counts as stale: two intervals plus room for a slow check and its notification. */
export function staleAfterSeconds(intervalSeconds: number): number {
  return 2 * intervalSeconds + 30;
}

function customStatusField(custom: unknown, field: string): string | undefined {
  const value = custom && typeof custom === "object" ? (custom as Record<string, unknown>)[field] : undefined;
  return typeof value === "string" && !Number.isNaN(Date.parse(value)) ? value : undefined;
}

export function loopLiveness(loop: LoopStatus, intervalSeconds: number, now: Date): LoopLiveness {
  const lastCycle = loop.last_cycle_utc ?? customStatusField(loop.custom_status, "checked_at") ?? loop.last_updated_time;
  const age = lastCycle ? Math.max(0, Math.round((now.getTime() - Date.parse(lastCycle)) / 1000)) : undefined;
  const staleAfter = staleAfterSeconds(intervalSeconds);
  const runtime = loop.runtime_status ?? (loop.error ? "Unknown" : "NotStarted");
  const nextCheck = loop.next_check_utc ?? customStatusField(loop.custom_status, "next_check_utc");
  return {
    runtime_status: runtime,
    ...(lastCycle ? { last_cycle_utc: lastCycle, last_cycle_age_seconds: age } : {}),
    ...(nextCheck ? { next_check_utc: nextCheck } : {}),
    stale: !isLooping(runtime) || age === undefined || age > staleAfter,
    stale_after_seconds: staleAfter,
    ...(loop.error ? { error: loop.error } : {}),
  };
}

function endpointViews(state: FailoverState, policy: Policy): EndpointView[] {
  // The row's last status code, latency and error are those of the last check; right after a
  // switch they belong to the endpoint that was active then, not to the new active one.
  const checkedSinceSwitch = !state.last_failover_utc || (state.last_check_utc !== undefined && Date.parse(state.last_check_utc) > Date.parse(state.last_failover_utc));
  return (["primary", "secondary"] as const).map((target) => {
    const active = state.active_target === target;
    const healthy = state[healthField(target)];
    let streak: Streak | undefined;
    if (active && state.consecutive_failures > 0) streak = { kind: "failures", count: state.consecutive_failures, threshold: policy.failure_threshold };
    else if (active) streak = { kind: "successes", count: state.consecutive_successes };
    // The standby's failed checks: at the threshold it is reported down (a standby_down transition).
    else if (state.standby_consecutive_failures > 0) streak = { kind: "failures", count: state.standby_consecutive_failures, threshold: policy.failure_threshold };
    else if (target === "primary") {
      // While the secondary is active, healthy checks of the primary count toward an automatic failback.
      streak = { kind: "recovery", count: state.failback_successes, ...(policy.failback_mode === "automatic" ? { threshold: policy.recovery_threshold } : {}) };
    }
    return {
      target,
      // A secret in a URL edited into the row by hand is not shown (init refuses one).
      url: redact(target === "primary" ? state.primary_endpoint : state.secondary_endpoint),
      active,
      ...(healthy !== undefined ? { healthy } : {}),
      ...(active && checkedSinceSwitch && state.last_status_code !== undefined ? { status_code: state.last_status_code } : {}),
      ...(active && checkedSinceSwitch && state.last_latency_ms !== undefined ? { latency_ms: state.last_latency_ms } : {}),
      ...(active && checkedSinceSwitch && state.last_error ? { error: state.last_error } : {}),
      ...(streak ? { streak } : {}),
      ...(!active && state.standby_checked_utc ? { checked_utc: state.standby_checked_utc } : {}),
      ...(active && state.last_votes ? { votes: state.last_votes } : {}),
      ...(!active && state.standby_votes ? { votes: state.standby_votes } : {}),
    };
  });
}

/** The most urgent thing about a group, from what its overview shows. */
export function severityOf(o: Omit<GroupOverview, "severity" | "severity_reason">): { severity: Severity; severity_reason: string } {
  if (o.error) return { severity: "unreadable", severity_reason: `its row cannot be read: ${o.error.message}` };
  if (o.loop.stale)
    return {
      severity: "not_watched",
      severity_reason: `nothing is checking it: loop ${o.loop.runtime_status}${o.loop.last_cycle_age_seconds !== undefined ? `, last cycle ${o.loop.last_cycle_age_seconds} s ago` : ""}`,
    };
  const active = o.endpoints?.find((e) => e.active);
  const standby = o.endpoints?.find((e) => !e.active);
  const activeDown = active?.healthy === false;
  if (o.last_status === "FAILOVER_BLOCKED" || (activeDown && standby?.healthy === false))
    return { severity: "both_down", severity_reason: `both sides are down${o.last_status === "FAILOVER_BLOCKED" ? ": the failover was blocked, the standby is unhealthy too" : ""}` };
  if (activeDown && !o.pause)
    return {
      severity: "active_down",
      severity_reason: `the active side (${active.target}) is down${active.streak?.threshold ? ` (${active.streak.count} of ${active.streak.threshold} failed checks)` : ""}${proposalNote(o.proposal)}`,
    };
  if (o.inconclusive_checks !== undefined && o.policy && o.inconclusive_checks >= o.policy.failure_threshold)
    return {
      severity: "no_quorum",
      severity_reason: `too few vantages answer to reach the quorum: ${o.inconclusive_checks} checks in a row counted neither way, so no failover can happen`,
    };
  const traffic = o.traffic?.state;
  if (traffic === "failed" || traffic === "held" || traffic === "compensating" || traffic === "compensated") return { severity: "switch_problem", severity_reason: o.traffic!.summary };
  if (o.drift) return { severity: "drift", severity_reason: o.drift.summary };
  if (activeDown) return { severity: "paused_active_down", severity_reason: `paused while the active side (${active.target}) is down: no automatic failover` };
  if (standby?.healthy === false) return { severity: "standby_down", severity_reason: `the standby (${standby.target}) is down: a failover would have nowhere to go` };
  if (o.active_target === "secondary") return { severity: "on_secondary", severity_reason: "running on the secondary" };
  return { severity: "ok", severity_reason: "ok" };
}

/** What the severity's reason adds about a proposal that waits for an operator. */
function proposalNote(p: GroupOverview["proposal"]): string {
  if (p?.state === "pending") return `; a ${p.kind} waits for approval${p.expires_utc ? ` until ${p.expires_utc}` : ""}`;
  if (p?.state === "notified") return `; a ${p.kind} is recommended (notify_only)`;
  return "";
}

function withoutSteps<T extends { steps: unknown }>(report: T): Omit<T, "steps"> {
  const { steps: _steps, ...rest } = report;
  return rest;
}

/** One group's overview from its parsed row; `hasPlan` as for trafficView. */
export function groupOverview(group: string, state: FailoverState, policy: Policy, loop: LoopStatus, now: Date, hasPlan?: boolean): GroupOverview {
  const drift = driftView(state);
  const readiness = readinessView(state);
  const lockUntil = state.lock_until_utc ? Date.parse(state.lock_until_utc) : undefined;
  const pausedNow = state.paused && (!state.paused_until_utc || Date.parse(state.paused_until_utc) > now.getTime());
  const pausedBy = [...state.recent_transitions].reverse().find((t) => t.kind === "pause");
  const proposal = proposalView(state);
  const drillReport = lastDrill(state);
  return withSeverity({
    group,
    active_target: state.active_target,
    last_status: state.last_status,
    ...(state.last_check_utc ? { last_check_utc: state.last_check_utc } : {}),
    ...(state.inconclusive_checks > 0 ? { inconclusive_checks: state.inconclusive_checks } : {}),
    failover_count: state.failover_count,
    failback_mode: policy.failback_mode,
    policy: {
      failure_threshold: policy.failure_threshold,
      recovery_threshold: policy.recovery_threshold,
      check_interval_seconds: policy.check_interval_seconds,
      cooldown_seconds: policy.cooldown_seconds,
      failback_mode: policy.failback_mode,
      decision_mode: policy.decision_mode,
    },
    endpoints: endpointViews(state, policy),
    ...(lockUntil !== undefined && lockUntil > now.getTime() ? { cooldown: { until: state.lock_until_utc!, remaining_seconds: Math.ceil((lockUntil - now.getTime()) / 1000) } } : {}),
    ...(pausedNow
      ? {
          pause: {
            ...(state.paused_until_utc ? { until: state.paused_until_utc } : {}),
            ...(state.pause_reason ? { reason: state.pause_reason } : {}),
            ...(pausedBy ? { by: pausedBy.actor, since: pausedBy.at } : {}),
          },
        }
      : {}),
    ...(isHeld(state, now)
      ? {
          hold: {
            until: state.hold_until_utc!,
            ...(state.hold_owner ? { owner: state.hold_owner } : {}),
            ...(state.hold_reason ? { reason: state.hold_reason } : {}),
            remaining_seconds: Math.ceil((Date.parse(state.hold_until_utc!) - now.getTime()) / 1000),
          },
        }
      : {}),
    ...(proposal ? { proposal } : {}),
    ...(state.drill_id && state.drill_phase ? { drill: { id: state.drill_id, phase: state.drill_phase, ...(state.drill_started_utc ? { started_utc: state.drill_started_utc } : {}) } } : {}),
    ...(drillReport ? { last_drill: withoutSteps(drillReport) } : {}),
    ...(state.last_failover_utc ? { last_failover: { at: state.last_failover_utc, forced: state.last_failover_forced === true } } : {}),
    traffic: trafficView(state, hasPlan),
    ...(drift ? { drift } : {}),
    ...(readiness ? { readiness } : {}),
    loop: loopLiveness(loop, policy.check_interval_seconds, now),
  });
}

function withSeverity(o: Omit<GroupOverview, "severity" | "severity_reason">): GroupOverview {
  return { ...o, ...severityOf(o) };
}

/**
 * Every group's overview, by reading only: one partition query for every row, one status
 * request per orchestration. A malformed row is shown as that group's error; a storage
 * failure fails the whole read (the caller answers 503). `hasPlan` says from a group's raw row
 * whether it has a switch plan.
 */
export async function readOverviews(
  store: StateStore,
  defaults: Policy,
  loopOf: (group: string) => Promise<LoopStatus>,
  now: () => Date,
  hasPlan?: (group: string, raw: Readonly<Record<string, unknown>>) => boolean,
): Promise<GroupOverview[]> {
  const rows = (await store.loadAll()).sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  return Promise.all(
    rows.map(async ({ group, loaded, error }) => {
      const loop = await loopOf(group).catch((err: unknown): LoopStatus => ({ error: `orchestration status unavailable: ${describeError(err)}` }));
      if (!loaded) return withSeverity({ group, error: { code: error!.code, message: error!.message }, loop: loopLiveness(loop, defaults.check_interval_seconds, now()) });
      return groupOverview(group, loaded.state, effectivePolicy(defaults, loaded.overrides), loop, now(), hasPlan?.(group, loaded.raw));
    }),
  );
}
