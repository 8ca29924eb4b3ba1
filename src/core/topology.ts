import type { AppConfig } from "./config";
import { CONTROLLER_VANTAGE, type Policy } from "./knobs";
import type { FailoverState } from "./state";
import { quorumOf, selectedVantages } from "./vantage";

/**
 * Can one region's loss blind the judge, or take the controller down with the primary? The
 * problems readiness reports about where things run: the controller (REGION_NAME) or its state
 * storage (STATE_STORAGE_REGION) in the primary's region; fewer than three vantages; every
 * vantage in one region; a quorum the vantages of one region can reach alone (that region's
 * network trouble would fail the group over). Checked when the group declares its regions or
 * vantage agents are configured; a group with neither is judged as before and reports nothing.
 */
export const MIN_VANTAGES = 3;

export function topologyProblems(
  state: Pick<FailoverState, "primary_region" | "secondary_region">,
  config: Pick<AppConfig, "vantages" | "stateStorageRegion">,
  policy: Pick<Policy, "vantages" | "quorum">,
): string[] {
  const agents = config.vantages.agents;
  if (!state.primary_region && !state.secondary_region && agents.length === 0) return [];
  const problems: string[] = [];
  const controllerRegion = config.vantages.region;
  const primary = state.primary_region;
  if (primary && controllerRegion === primary) problems.push(`topology: the controller runs in ${primary}, the primary's region: the outage it exists for would take it down too`);
  if (primary && config.stateStorageRegion === primary) problems.push(`topology: the state storage account is in ${primary}, the primary's region: losing it stops every decision`);
  if (primary && state.secondary_region === primary) problems.push(`topology: the primary and the secondary are both in ${primary}: one regional outage takes both`);

  const names = selectedVantages(policy.vantages, agents);
  const regionOf = (name: string) => (name === CONTROLLER_VANTAGE ? controllerRegion : agents.find((a) => a.name === name)?.region);
  const quorum = quorumOf(policy.quorum, names.length);
  if (names.length < MIN_VANTAGES)
    problems.push(`topology: ${names.length} vantage${names.length === 1 ? "" : "s"} (${names.join(", ")}): at least ${MIN_VANTAGES} are needed for a quorum that outvotes one cut-off place`);
  const unknown = names.filter((n) => regionOf(n) === undefined);
  if (unknown.length > 0) problems.push(`topology: the region of ${unknown.join(", ")} is not known (REGION_NAME for the controller, "region" in VANTAGE_AGENTS): the check below cannot count it`);
  const perRegion = new Map<string, string[]>();
  for (const name of names) {
    const region = regionOf(name);
    if (region !== undefined) perRegion.set(region, [...(perRegion.get(region) ?? []), name]);
  }
  if (names.length > 1 && unknown.length === 0 && perRegion.size === 1)
    problems.push(`topology: every vantage is in ${[...perRegion.keys()][0]}: that region's network trouble looks like an outage everywhere`);
  else if (names.length > 1) {
    for (const [region, inRegion] of perRegion) {
      if (inRegion.length >= quorum)
        problems.push(`topology: the ${inRegion.length} vantages in ${region} (${inRegion.join(", ")}) reach the quorum of ${quorum} alone: a fault in ${region} could fail the group over`);
    }
  }
  return problems;
}
