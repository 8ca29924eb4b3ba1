import type { Clock } from "./clock";
import type { AppConfig } from "./config";
import { FailoverError } from "./errors";
import { HistoryStore, type NotificationStatus } from "./history";
import type { Policy } from "./knobs";
import { DEFAULT_NOTIFY_OPTIONS, notificationMessage, sendNotification, type NotifyOptions } from "./notify";
import { decidePause, decideResume, decideSwitch, evaluateCheck, type Recommendation, type RefusalReason, type SwitchRequest } from "./policy";
import type { ProbeOptions, ProbeResult, Prober } from "./probe";
import { effectivePolicy, endpointOf, initialState, otherTarget, type FailoverState, type Target, type TransitionSummary } from "./state";
import type { LoadedState, StateStore } from "./storage";

/**
 * The operations the orchestrator's activities and the HTTP API call. Each one reads the
 * row, asks a pure decision in policy.ts, and writes the result conditionally.
 */

export interface FailoverDeps {
  readonly config: AppConfig;
  readonly store: StateStore;
  readonly history: HistoryStore;
  readonly probe: Prober;
  readonly clock: Clock;
  readonly notify?: Partial<NotifyOptions>;
  readonly log?: (message: string) => void;
}

export function probeOptions(policy: Policy): ProbeOptions {
  return {
    timeoutMs: policy.probe_timeout_ms,
    expectedStatus: policy.probe_expected_status,
    bodyMatch: policy.probe_body_match,
    maxBodyBytes: policy.probe_max_body_bytes,
    followRedirects: policy.probe_follow_redirects,
  };
}

function policyOf(deps: FailoverDeps, loaded: LoadedState): Policy {
  return effectivePolicy(deps.config.policy, loaded.overrides);
}

/** Appends the audit entry and sends the webhook; never throws (the switch is already written). */
async function recordTransition(
  deps: FailoverDeps,
  group: string,
  transition: TransitionSummary,
  state: FailoverState,
  { probe, forced = false }: { probe?: ProbeResult; forced?: boolean } = {},
): Promise<void> {
  const url = deps.config.notifyWebhookUrl;
  let entry: { id: string; etag: string } | undefined;
  try {
    const status: NotificationStatus = url ? "pending" : "not_configured";
    entry = await deps.history.append(group, transition, { forced, failover_count: state.failover_count, ...(probe ? { probe } : {}), notification_status: status });
  } catch (err) {
    deps.log?.(`history append failed for group "${group}": ${(err as Error).message}`);
  }
  if (!url) return;
  const result = await sendNotification(url, notificationMessage(group, transition, state), { ...DEFAULT_NOTIFY_OPTIONS, ...deps.notify });
  if (!result.delivered) deps.log?.(`notification for group "${group}" not delivered: ${result.error}`);
  if (!entry) return;
  try {
    await deps.history.recordNotification(group, entry, {
      status: result.delivered ? "delivered" : "failed",
      attempts: result.attempts,
      ...(result.error ? { error: result.error } : {}),
    });
  } catch (err) {
    deps.log?.(`recording the notification result failed for group "${group}": ${(err as Error).message}`);
  }
}

export interface HealthCheckResponse {
  readonly group: string;
  readonly healthy: boolean;
  readonly active_target: Target;
  readonly endpoint: string;
  readonly status_code?: number;
  readonly latency_ms: number;
  readonly error_class?: string;
  readonly error?: string;
  readonly last_status: string;
  readonly consecutive_failures: number;
  readonly consecutive_successes: number;
  readonly failover_count: number;
  readonly lock_until_utc?: string;
  readonly paused: boolean;
  readonly primary_healthy?: boolean;
  readonly recommendation: Recommendation;
  readonly reason: string;
  readonly check_interval_seconds: number;
}

/**
 * Probes the active endpoint (and the primary while the secondary is active) and records it.
 * `cycle` names the orchestration cycle asking; without it the check is manual and does not
 * count toward the thresholds (see evaluateCheck).
 */
export async function healthCheck(deps: FailoverDeps, group: string, cycle?: string, attempt = 1): Promise<HealthCheckResponse> {
  const first = await deps.store.load(group);
  const policy = policyOf(deps, first);
  const options = probeOptions(policy);
  const active = first.state.active_target;
  const [activeProbe, primaryProbe] = await Promise.all([
    deps.probe(endpointOf(first.state, active), options),
    active === "secondary" ? deps.probe(first.state.primary_endpoint, options) : Promise.resolve(undefined),
  ]);
  const outcome = await deps.store.update(
    group,
    (loaded) => {
      if (loaded.state.active_target !== active || endpointOf(loaded.state, active) !== activeProbe.url) {
        // The row moved on while we probed (a switch or an edited endpoint): this probe is stale.
        return { result: undefined };
      }
      const probes = { active: activeProbe, ...(primaryProbe ? { primary: primaryProbe } : {}) };
      const decided = evaluateCheck(loaded.state, probes, policyOf(deps, loaded), deps.clock.now(), cycle);
      return { next: decided.next, result: decided };
    },
    first,
  );
  if (!outcome) {
    if (attempt >= 3) throw new FailoverError("conflict", `Group "${group}" switched or had its endpoint edited during ${attempt} checks in a row; try again`);
    return healthCheck(deps, group, cycle, attempt + 1);
  }
  for (const transition of outcome.transitions) await recordTransition(deps, group, transition, outcome.next);
  const s = outcome.next;
  return {
    group,
    healthy: activeProbe.healthy,
    active_target: s.active_target,
    endpoint: activeProbe.url,
    ...(activeProbe.status_code !== undefined ? { status_code: activeProbe.status_code } : {}),
    latency_ms: activeProbe.latency_ms,
    ...(activeProbe.error_class ? { error_class: activeProbe.error_class, error: activeProbe.error } : {}),
    last_status: s.last_status,
    consecutive_failures: s.consecutive_failures,
    consecutive_successes: s.consecutive_successes,
    failover_count: s.failover_count,
    ...(s.lock_until_utc ? { lock_until_utc: s.lock_until_utc } : {}),
    paused: s.paused,
    ...(s.primary_healthy !== undefined ? { primary_healthy: s.primary_healthy } : {}),
    recommendation: outcome.recommendation,
    reason: outcome.reason,
    check_interval_seconds: policy.check_interval_seconds,
  };
}

/** What the orchestration's check returns when the group's row is gone: the loop then ends. */
export interface GroupRemoved {
  readonly group: string;
  readonly removed: true;
}

/** The orchestration's check: like healthCheck, but a deleted group ends the loop instead of failing every cycle. */
export async function cycleCheck(deps: FailoverDeps, group: string, cycle: string): Promise<HealthCheckResponse | GroupRemoved> {
  try {
    return await healthCheck(deps, group, cycle);
  } catch (err) {
    if (err instanceof FailoverError && err.code === "state_not_found") return { group, removed: true };
    throw err;
  }
}

export interface FailoverRequest {
  readonly kind?: "failover" | "failback";
  /** The target the caller expects to move away from; defaults to the active target when read. */
  readonly expected_from?: Target;
  readonly force?: boolean;
  readonly automatic?: boolean;
  readonly reason?: string;
  readonly actor?: string;
}

export interface FailoverResponse {
  readonly group: string;
  readonly changed: boolean;
  readonly reason?: RefusalReason;
  readonly active_target: Target;
  readonly previous_target?: Target;
  readonly failover_count: number;
  readonly last_status: string;
  readonly lock_until_utc?: string;
  readonly forced: boolean;
}

/**
 * Switches away from `expected_from` (at least once safe: a repeat finds the row already
 * moved and changes nothing). Verifies the standby first unless forced.
 */
export async function doFailover(deps: FailoverDeps, group: string, request: FailoverRequest = {}, attempt = 1): Promise<FailoverResponse> {
  const first = await deps.store.load(group);
  const kind = request.kind ?? "failover";
  const expectedFrom: Target = request.expected_from ?? (kind === "failback" ? "secondary" : first.state.active_target);
  const force = request.force === true;
  const target = otherTarget(expectedFrom);
  const standby = force || first.state.active_target !== expectedFrom ? undefined : await deps.probe(endpointOf(first.state, target), probeOptions(policyOf(deps, first)));
  const switchRequest: SwitchRequest = {
    kind,
    expected_from: expectedFrom,
    force,
    automatic: request.automatic === true,
    reason: request.reason ?? (kind === "failback" ? "manual failback" : "manual failover"),
    actor: request.actor ?? "anonymous",
  };
  const outcome = await deps.store.update(
    group,
    (loaded) => {
      if (standby && loaded.state.active_target === expectedFrom && endpointOf(loaded.state, target) !== standby.url) {
        return { result: undefined }; // the standby's URL was edited while we probed it: that probe says nothing
      }
      const decided = decideSwitch(loaded.state, switchRequest, standby, policyOf(deps, loaded), deps.clock.now());
      return { ...(decided.next ? { next: decided.next } : {}), result: { decided, state: decided.next ?? loaded.state } };
    },
    first,
  );
  if (!outcome) {
    if (attempt >= 3) throw new FailoverError("conflict", `The ${target} endpoint of group "${group}" was edited during ${attempt} switches in a row; try again`);
    return doFailover(deps, group, { ...request, expected_from: expectedFrom }, attempt + 1);
  }
  const { decided, state } = outcome;
  if (decided.transition) await recordTransition(deps, group, decided.transition, state, { ...(standby ? { probe: standby } : {}), forced: decided.changed && force });
  return {
    group,
    changed: decided.changed,
    ...(decided.changed ? { previous_target: decided.from } : { reason: decided.reason }),
    active_target: state.active_target,
    failover_count: state.failover_count,
    last_status: state.last_status,
    ...(state.lock_until_utc ? { lock_until_utc: state.lock_until_utc } : {}),
    forced: decided.changed && force,
  };
}

export interface BootstrapRequest {
  readonly group: string;
  readonly primary_endpoint?: string;
  readonly secondary_endpoint?: string;
  /** Validated policy overrides to store on the new row. */
  readonly overrides?: Readonly<Record<string, unknown>>;
}

/** Creates the tables and the group's row; an existing row is never overwritten. */
export async function bootstrap(deps: FailoverDeps, request: BootstrapRequest): Promise<{ created: boolean; state: FailoverState }> {
  const isDefault = request.group === deps.config.defaultGroup;
  const primary = request.primary_endpoint ?? (isDefault ? deps.config.primaryEndpoint : undefined);
  const secondary = request.secondary_endpoint ?? (isDefault ? deps.config.secondaryEndpoint : undefined);
  await Promise.all([deps.store.ensureTable(), deps.history.ensureTable()]);
  if (primary === undefined || secondary === undefined) {
    try {
      return { created: false, state: (await deps.store.load(request.group)).state };
    } catch (err) {
      if (!(err instanceof FailoverError && err.code === "state_not_found")) throw err;
    }
    const missing = isDefault ? "PRIMARY_ENDPOINT and SECONDARY_ENDPOINT settings" : "primary_endpoint and secondary_endpoint";
    throw new FailoverError("invalid_request", `Cannot create group "${request.group}": the ${missing} are needed to create its row`);
  }
  const state = initialState(primary, secondary);
  const created = await deps.store.create(request.group, state, request.overrides ?? {});
  return { created, state: created ? state : (await deps.store.load(request.group)).state };
}

export interface PauseInput {
  readonly until?: Date;
  readonly reason?: string;
  readonly actor?: string;
}

export interface ControlResponse {
  readonly group: string;
  readonly changed: boolean;
  readonly paused: boolean;
  readonly paused_until_utc?: string;
  readonly active_target: Target;
}

async function control(
  deps: FailoverDeps,
  group: string,
  decide: (state: FailoverState, now: Date) => { next: FailoverState; transition?: TransitionSummary },
): Promise<ControlResponse> {
  const outcome = await deps.store.update(group, (loaded) => {
    const decided = decide(loaded.state, deps.clock.now());
    return { ...(decided.transition ? { next: decided.next } : {}), result: decided };
  });
  if (outcome.transition) await recordTransition(deps, group, outcome.transition, outcome.next);
  const s = outcome.next;
  return { group, changed: outcome.transition !== undefined, paused: s.paused, ...(s.paused_until_utc ? { paused_until_utc: s.paused_until_utc } : {}), active_target: s.active_target };
}

export function pause(deps: FailoverDeps, group: string, input: PauseInput = {}): Promise<ControlResponse> {
  if (input.until && input.until.getTime() <= deps.clock.now().getTime()) {
    return Promise.reject(new FailoverError("invalid_request", `until: ${input.until.toISOString()} is not in the future`));
  }
  return control(deps, group, (state, now) =>
    decidePause(state, { ...(input.until ? { until: input.until } : {}), reason: input.reason ?? "maintenance", actor: input.actor ?? "anonymous" }, now),
  );
}

export function resume(deps: FailoverDeps, group: string, input: { reason?: string; actor?: string } = {}): Promise<ControlResponse> {
  return control(deps, group, (state, now) => decideResume(state, { reason: input.reason ?? "resumed", actor: input.actor ?? "anonymous" }, now));
}

/** Records that a check could not run (last_status CHECK_ERROR, last_error), even on a malformed row. */
export async function recordCheckError(deps: FailoverDeps, group: string, message: string): Promise<void> {
  await deps.store.recordError(group, "CHECK_ERROR", message, deps.clock.now());
}
