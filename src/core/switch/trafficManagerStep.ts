import type { Endpoint } from "@azure/arm-trafficmanager";
import type { SwitchClients } from "./clients";
import { missingPermissions } from "./permissionsCheck";
import { RESOURCE_ID, parseResourceId, type SwitchStepConfig } from "./plan";
import { otherSide, type Side, type SwitchStepRunner } from "./step";
import { StepError, toStepError } from "./stepErrors";

type Config = Extract<SwitchStepConfig, { kind: "traffic_manager" }>;

/**
 * Traffic Manager: `endpointStatus` Enabled on the side to activate, Disabled on the other.
 * Make before break: the new side is enabled first and the update's answer must show it
 * Enabled before the old side is disabled. Each side is read once and written only when it
 * differs. Traffic Manager documents no ETags on endpoints: last writer wins, drift is found by
 * reading back.
 */
export function trafficManagerStep(config: Config, clients: SwitchClients, now: () => number = Date.now): SwitchStepRunner {
  const profile = parseResourceId(RESOURCE_ID.trafficManagerProfile, config.profile_id);
  const client = () => clients.trafficManager(profile.subscription);
  const label = `traffic_manager ${profile.name}`;
  const ref = (side: Side) => config[side];
  const call = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toStepError(err, `${label}: ${operation}`, now());
    }
  };
  const get = (side: Side): Promise<Endpoint> =>
    call(`read ${side} endpoint ${ref(side).endpoint_name}`, () => client().endpoints.get(profile.resourceGroup, profile.name, ref(side).endpoint_type, ref(side).endpoint_name));
  const set = (side: Side, endpointStatus: "Enabled" | "Disabled"): Promise<Endpoint> =>
    call(`set ${side} endpoint ${ref(side).endpoint_name} ${endpointStatus}`, () => client().endpoints.update(profile.resourceGroup, profile.name, ref(side).endpoint_type, ref(side).endpoint_name, { endpointStatus }));

  return {
    kind: "traffic_manager",
    label,
    async actual() {
      const [p, s] = await Promise.all([get("primary"), get("secondary")]);
      const on = (e: Endpoint) => e.endpointStatus === "Enabled";
      const side = on(p) && on(s) ? "both" : on(p) ? "primary" : on(s) ? "secondary" : "none";
      return { side, detail: `primary ${p.endpointStatus}, secondary ${s.endpointStatus}` };
    },
    async apply({ to }) {
      let writes = 0;
      const target = await get(to);
      if (target.endpointStatus !== "Enabled") {
        const after = await set(to, "Enabled");
        writes++;
        if (after.endpointStatus !== "Enabled") {
          throw new StepError("refused", `${label}: ${to} endpoint ${ref(to).endpoint_name} reads ${after.endpointStatus ?? "no status"} after enabling it; the ${otherSide(to)} endpoint was left enabled so one side stays enabled`);
        }
      }
      const old = await get(otherSide(to));
      if (old.endpointStatus !== "Disabled") {
        await set(otherSide(to), "Disabled");
        writes++;
      }
      return { writes, detail: writes ? `${to} enabled, ${otherSide(to)} disabled (${writes} write${writes > 1 ? "s" : ""})` : `already ${to} only` };
    },
    async verify({ to }) {
      const [target, old] = await Promise.all([get(to), get(otherSide(to))]);
      const detail = `${to} ${target.endpointStatus}/${target.endpointMonitorStatus ?? "?"}, ${otherSide(to)} ${old.endpointStatus}`;
      if (target.endpointStatus !== "Enabled" || old.endpointStatus !== "Disabled") return { status: "mismatch", detail };
      if (target.endpointMonitorStatus === "Online") return { status: "verified", detail };
      return { status: "propagating", detail: `${detail} (waiting for the probes to find it Online)` };
    },
    async readiness(budgetSeconds) {
      const problems: string[] = [];
      let found;
      try {
        found = await client().profiles.get(profile.resourceGroup, profile.name);
      } catch (err) {
        return { ready: false, problems: [toStepError(err, `${label}: read profile`, now()).message] };
      }
      for (const side of ["primary", "secondary"] as const) {
        const wanted = `${ref(side).endpoint_type}/${ref(side).endpoint_name}`.toLowerCase();
        const exists = (found.endpoints ?? []).some((e) => `${e.type?.split("/").pop()}/${e.name}`.toLowerCase() === wanted);
        if (!exists) problems.push(`${label}: the ${side} endpoint ${ref(side).endpoint_type}/${ref(side).endpoint_name} is not in the profile`);
      }
      const ttl = found.dnsConfig?.ttl;
      if (budgetSeconds !== undefined && ttl !== undefined && ttl > budgetSeconds) problems.push(`${label}: the profile's DNS TTL (${ttl} s) exceeds the recovery-time budget (${budgetSeconds} s)`);
      const actions = [...new Set((["primary", "secondary"] as const).map((side) => `Microsoft.Network/trafficManagerProfiles/${ref(side).endpoint_type}/write`))];
      problems.push(...(await missingPermissions(clients, { subscription: profile.subscription, resourceGroup: profile.resourceGroup, namespace: "Microsoft.Network", parentPath: "", type: "trafficManagerProfiles", name: profile.name }, actions)).map((p) => `${label}: ${p}`));
      return { ready: problems.length === 0, problems };
    },
  };
}
