import { redact } from "./redact";
import { FailoverError, describeError } from "./errors";
import type { FailbackMode, Policy } from "./knobs";
import { isLooping } from "./orchestrationContract";
import { effectivePolicy, type FailoverState, type Target } from "./state";
import type { StateStore } from "./storage";
import { driftView, readinessView, trafficView, type DriftView, type ReadinessView, type TrafficView } from "./trafficView";

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

export interface Streak {
  readonly kind: "failures" | "successes" | "recovery";
  readonly count: number;
  /** The count at which the policy acts; undefined when nothing happens at any count. */
  readonly threshold?: number;
}

export interface EndpointView {
  readonly target: Target;
  readonly url: string;
  readonly active: boolean;
  readonly healthy?: boolean;
  /** Status code, latency and error of the last probe; the row keeps them for the active endpoint only. */
  readonly status_code?: number;
  readonly latency_ms?: number;
  readonly error?: string;
  readonly streak?: Streak;
}

export interface LoopLiveness {
  readonly runtime_status: string;
  readonly last_cycle_utc?: string;
  readonly last_cycle_age_seconds?: number;
  readonly next_check_utc?: string;
  /** The loop is not running, or its last cycle is older than `stale_after_seconds`. */
  readonly stale: boolean;
  readonly stale_after_seconds: number;
  readonly error?: string;
}


export interface GroupOverview {
  readonly group: string;
  /** Set when the row cannot be read as state (malformed); the other fields are then absent. */
  readonly error?: { readonly code: string; readonly message: string };
  readonly active_target?: Target;
  readonly last_status?: string;
  readonly last_check_utc?: string;
  readonly failover_count?: number;
  readonly failback_mode?: FailbackMode;
  readonly policy?: Pick<Policy, "failure_threshold" | "recovery_threshold" | "check_interval_seconds" | "cooldown_seconds" | "failback_mode">;
  readonly endpoints?: readonly EndpointView[];
  readonly cooldown?: { readonly until: string; readonly remaining_seconds: number };
  readonly pause?: { readonly until?: string; readonly reason?: string; readonly by?: string; readonly since?: string };
  readonly last_failover?: { readonly at: string; readonly forced: boolean };
  readonly traffic?: TrafficView;
  readonly drift?: DriftView;
  readonly readiness?: ReadinessView;
  readonly loop: LoopLiveness;
}

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
    const healthy = target === "primary" ? state.primary_healthy : state.secondary_healthy;
    let streak: Streak | undefined;
    if (active && state.consecutive_failures > 0) streak = { kind: "failures", count: state.consecutive_failures, threshold: policy.failure_threshold };
    else if (active) streak = { kind: "successes", count: state.consecutive_successes };
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
    };
  });
}


/** One group's overview from its parsed row; `hasPlan` as for trafficView. */
export function groupOverview(group: string, state: FailoverState, policy: Policy, loop: LoopStatus, now: Date, hasPlan?: boolean): GroupOverview {
  const drift = driftView(state);
  const readiness = readinessView(state);
  const lockUntil = state.lock_until_utc ? Date.parse(state.lock_until_utc) : undefined;
  const pausedNow = state.paused && (!state.paused_until_utc || Date.parse(state.paused_until_utc) > now.getTime());
  const pausedBy = [...state.recent_transitions].reverse().find((t) => t.kind === "pause");
  return {
    group,
    active_target: state.active_target,
    last_status: state.last_status,
    ...(state.last_check_utc ? { last_check_utc: state.last_check_utc } : {}),
    failover_count: state.failover_count,
    failback_mode: policy.failback_mode,
    policy: {
      failure_threshold: policy.failure_threshold,
      recovery_threshold: policy.recovery_threshold,
      check_interval_seconds: policy.check_interval_seconds,
      cooldown_seconds: policy.cooldown_seconds,
      failback_mode: policy.failback_mode,
    },
    endpoints: endpointViews(state, policy),
    ...(lockUntil !== undefined && lockUntil > now.getTime()
      ? { cooldown: { until: state.lock_until_utc!, remaining_seconds: Math.ceil((lockUntil - now.getTime()) / 1000) } }
      : {}),
    ...(pausedNow
      ? {
          pause: {
            ...(state.paused_until_utc ? { until: state.paused_until_utc } : {}),
            ...(state.pause_reason ? { reason: state.pause_reason } : {}),
            ...(pausedBy ? { by: pausedBy.actor, since: pausedBy.at } : {}),
          },
        }
      : {}),
    ...(state.last_failover_utc ? { last_failover: { at: state.last_failover_utc, forced: state.last_failover_forced === true } } : {}),
    traffic: trafficView(state, hasPlan),
    ...(drift ? { drift } : {}),
    ...(readiness ? { readiness } : {}),
    loop: loopLiveness(loop, policy.check_interval_seconds, now),
  };
}

/**
 * Every group's overview, by reading only: one list query, one read per row, one status
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
  const groups = (await store.listGroups()).sort();
  return Promise.all(
    groups.map(async (group) => {
      const loopPromise = loopOf(group).catch((err: unknown): LoopStatus => ({ error: `orchestration status unavailable: ${describeError(err)}` }));
      try {
        const loaded = await store.load(group);
        const policy = effectivePolicy(defaults, loaded.overrides);
        return groupOverview(group, loaded.state, policy, await loopPromise, now(), hasPlan?.(group, loaded.raw));
      } catch (err) {
        if (!(err instanceof FailoverError) || err.code === "storage_unavailable") throw err;
        return { group, error: { code: err.code, message: err.message }, loop: loopLiveness(await loopPromise, defaults.check_interval_seconds, now()) };
      }
    }),
  );
}
