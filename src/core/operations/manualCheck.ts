import type { FailoverDeps } from "../deps";
import { InFlight } from "../inFlight";
import { nextCountedCheck } from "../policy";
import { probeOptions, type ProbeResult } from "../probe";
import { effectivePolicy, endpointOf } from "../state";
import type { HealthCheckResponse } from "./healthCheck";

/** One probe in flight per group and URL, shared by every concurrent manual check in this process. */
const probesInFlight = new InFlight<ProbeResult>();

/**
 * GET /api/health_check: probes the active endpoint now and answers with the row's view, but
 * writes nothing. Readers never write: only the orchestration's checks are recorded and
 * counted, so a dashboard polling this at full speed cannot race the loop's conditional write
 * or shorten the hysteresis. Concurrent manual checks of one group share one probe.
 */
export async function manualCheck(deps: FailoverDeps, group: string): Promise<HealthCheckResponse> {
  const loaded = await deps.store.load(group);
  const policy = effectivePolicy(deps.config.policy, loaded.overrides);
  const options = probeOptions(policy);
  const s = loaded.state;
  const url = endpointOf(s, s.active_target);
  const probe = await probesInFlight.run(`${group}\n${url}\n${JSON.stringify(options)}`, () => deps.probe(url, options));
  const next = nextCountedCheck(s, policy.check_interval_seconds);
  return {
    group,
    healthy: probe.healthy,
    active_target: s.active_target,
    endpoint: probe.url,
    ...(probe.status_code !== undefined ? { status_code: probe.status_code } : {}),
    latency_ms: probe.latency_ms,
    ...(probe.error_class ? { error_class: probe.error_class, error: probe.error } : {}),
    last_status: s.last_status,
    consecutive_failures: s.consecutive_failures,
    consecutive_successes: s.consecutive_successes,
    failover_count: s.failover_count,
    ...(s.lock_until_utc ? { lock_until_utc: s.lock_until_utc } : {}),
    paused: s.paused,
    ...(s.primary_healthy !== undefined ? { primary_healthy: s.primary_healthy } : {}),
    recommendation: "none",
    reason: "manual_check (not recorded; only the orchestration's checks count)",
    check_interval_seconds: policy.check_interval_seconds,
    ...(next ? { next_counted_check_utc: next } : {}),
  };
}
