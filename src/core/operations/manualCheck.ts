import type { FailoverDeps } from "../deps";
import { InFlight } from "../inFlight";
import { probeOptions, type ProbeResult } from "../probe";
import { effectivePolicy, endpointOf } from "../state";
import { checkResponse, type HealthCheckResponse } from "./healthCheck";

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
  return checkResponse(group, probe, s, policy, { recommendation: "none", reason: "manual_check (not recorded; only the orchestration's checks count)" });
}
