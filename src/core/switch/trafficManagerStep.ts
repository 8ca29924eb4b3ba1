import type { Endpoint } from "@azure/arm-trafficmanager";
import type { SwitchClients } from "./clients";
import { missingPermissions } from "./permissionsCheck";
import { RESOURCE_ID, parseResourceId, type SwitchStepConfig } from "./plan";
import type { StepCalls } from "./session";
import { otherSide, type Side, type SwitchStepRunner } from "./step";
import { StepError } from "./stepErrors";

type Config = Extract<SwitchStepConfig, { kind: "traffic_manager" }>;

/**
 * Traffic Manager: `endpointStatus` Enabled on the side to activate, Disabled on the other.
 * Make before break: the new side is enabled first and the update's answer must show it
 * Enabled before the old side is disabled. Each side is read once and written only when it
 * differs. Traffic Manager documents no ETags on endpoints: last writer wins, drift is found by
 * reading back. Every call has the cycle's deadline; every write passes the fence and goes in
 * the ledger.
 */
export function trafficManagerStep(config: Config, clients: SwitchClients, calls: StepCalls): SwitchStepRunner {
  const profile = parseResourceId(RESOURCE_ID.trafficManagerProfile, config.profile_id);
  const client = () => clients.trafficManager(profile.subscription);
  const label = calls.label;
  const ref = (side: Side) => config[side];
  const get = (side: Side): Promise<Endpoint> =>
    calls.read(`read ${side} endpoint ${ref(side).endpoint_name}`, (abortSignal) =>
      client().endpoints.get(profile.resourceGroup, profile.name, ref(side).endpoint_type, ref(side).endpoint_name, { abortSignal }),
    );
  const set = (side: Side, before: Endpoint, endpointStatus: "Enabled" | "Disabled"): Promise<Endpoint> =>
    calls.write(
      { method: "PATCH", resource: `trafficManagerProfiles/${profile.name}/${ref(side).endpoint_type}/${ref(side).endpoint_name}`, before: before.endpointStatus ?? "?", after: endpointStatus },
      (abortSignal) => client().endpoints.update(profile.resourceGroup, profile.name, ref(side).endpoint_type, ref(side).endpoint_name, { endpointStatus }, { abortSignal }),
      { result: (e) => `ok (${e.endpointStatus ?? "?"})` },
    );

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
        const after = await set(to, target, "Enabled");
        writes++;
        if (after.endpointStatus !== "Enabled") {
          throw new StepError(
            "mismatch",
            `${label}: ${to} endpoint ${ref(to).endpoint_name} reads ${after.endpointStatus ?? "no status"} after enabling it; the ${otherSide(to)} endpoint was left enabled so one side stays enabled`,
          );
        }
      }
      const old = await get(otherSide(to));
      if (old.endpointStatus !== "Disabled") {
        await set(otherSide(to), old, "Disabled");
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
        found = await calls.read("read profile", (abortSignal) => client().profiles.get(profile.resourceGroup, profile.name, { abortSignal }));
      } catch (err) {
        return { ready: false, problems: [(err as Error).message] };
      }
      for (const side of ["primary", "secondary"] as const) {
        const wanted = `${ref(side).endpoint_type}/${ref(side).endpoint_name}`.toLowerCase();
        const exists = (found.endpoints ?? []).some((e) => `${e.type?.split("/").pop()}/${e.name}`.toLowerCase() === wanted);
        if (!exists) problems.push(`${label}: the ${side} endpoint ${ref(side).endpoint_type}/${ref(side).endpoint_name} is not in the profile`);
      }
      const ttl = found.dnsConfig?.ttl;
      if (budgetSeconds !== undefined && ttl !== undefined && ttl > budgetSeconds) problems.push(`${label}: the profile's DNS TTL (${ttl} s) exceeds the recovery-time budget (${budgetSeconds} s)`);
      const actions = [...new Set((["primary", "secondary"] as const).map((side) => `Microsoft.Network/trafficManagerProfiles/${ref(side).endpoint_type}/write`))];
      problems.push(
        ...(
          await missingPermissions(
            clients,
            calls,
            { subscription: profile.subscription, resourceGroup: profile.resourceGroup, namespace: "Microsoft.Network", parentPath: "", type: "trafficManagerProfiles", name: profile.name },
            actions,
          )
        ).map((p) => `${label}: ${p}`),
      );
      return { ready: problems.length === 0, problems };
    },
  };
}
