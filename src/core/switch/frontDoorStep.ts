import type { AFDOrigin, AFDOriginUpdateParameters } from "@azure/arm-cdn";
import type { SwitchClients } from "./clients";
import { missingPermissions } from "./permissionsCheck";
import { RESOURCE_ID, parseResourceId, type SwitchStepConfig } from "./plan";
import { otherSide, type Side, type SwitchStepRunner } from "./step";
import { StepError, toStepError } from "./stepErrors";

type Config = Extract<SwitchStepConfig, { kind: "front_door" }>;

const ACTIVE_PRIORITY = 1;
const STANDBY_PRIORITY = 2;

/**
 * Front Door Standard/Premium: one origin per side in an origin group, switched by
 * `enabledState` (Enabled / Disabled) or by `priority` (1 active, 2 standby). Every write
 * queues a global deployment of up to about 20 minutes, and writes queue behind each other, so
 * the step reads first and never writes an origin already in the desired state. The update is
 * a long-running operation; after it, `deploymentStatus` is reported as "propagating" until
 * Front Door says Succeeded. Make before break: the new side is enabled (or promoted) first.
 */
export function frontDoorStep(config: Config, clients: SwitchClients, now: () => number = Date.now): SwitchStepRunner {
  const profile = parseResourceId(RESOURCE_ID.frontDoorProfile, config.profile_id);
  const client = () => clients.cdn(profile.subscription);
  const label = `front_door ${profile.name}/${config.origin_group}`;
  const origin = (side: Side) => (side === "primary" ? config.primary_origin : config.secondary_origin);
  const call = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw toStepError(err, `${label}: ${operation}`, now());
    }
  };
  const get = (side: Side): Promise<AFDOrigin> => call(`read ${side} origin ${origin(side)}`, () => client().afdOrigins.get(profile.resourceGroup, profile.name, config.origin_group, origin(side)));
  // Priority mode promotes the new origin to priority 1 and demotes the old to 2; the promoted
  // origin must also be enabled (a disabled origin at priority 1 serves nothing), the demoted
  // one keeps its enabledState and stays a standby.
  const desired = (active: boolean): AFDOriginUpdateParameters =>
    config.mode === "priority" ? (active ? { priority: ACTIVE_PRIORITY, enabledState: "Enabled" } : { priority: STANDBY_PRIORITY }) : { enabledState: active ? "Enabled" : "Disabled" };
  const matches = (o: AFDOrigin, active: boolean): boolean =>
    config.mode === "priority" ? o.priority === desired(active).priority && (!active || o.enabledState !== "Disabled") : o.enabledState === desired(active).enabledState;
  const serving = (o: AFDOrigin): boolean => o.enabledState !== "Disabled" && (config.mode !== "priority" || o.priority === ACTIVE_PRIORITY);
  const set = (side: Side, active: boolean): Promise<AFDOrigin> =>
    call(`update ${side} origin ${origin(side)}`, () =>
      client().afdOrigins.beginUpdateAndWait(profile.resourceGroup, profile.name, config.origin_group, origin(side), desired(active), { updateIntervalInMs: clients.settings.pollIntervalMs }),
    );
  const show = (o: AFDOrigin) => (config.mode === "priority" ? `priority ${o.priority}` : `${o.enabledState}`) + `/${o.deploymentStatus ?? "?"}`;

  return {
    kind: "front_door",
    label,
    async actual() {
      const [p, s] = await Promise.all([get("primary"), get("secondary")]);
      const side = serving(p) && serving(s) ? "both" : serving(p) ? "primary" : serving(s) ? "secondary" : "none";
      return { side, detail: `primary ${show(p)}, secondary ${show(s)}` };
    },
    async apply({ to }) {
      let writes = 0;
      const target = await get(to);
      if (!matches(target, true)) {
        const after = await set(to, true);
        writes++;
        if (!matches(after, true)) throw new StepError("refused", `${label}: ${to} origin ${origin(to)} reads ${show(after)} after the update; the ${otherSide(to)} origin was left as it was so one side keeps serving`);
      }
      const old = await get(otherSide(to));
      if (!matches(old, false)) {
        await set(otherSide(to), false);
        writes++;
      }
      return { writes, detail: writes ? `${to} origin ${origin(to)} active (${writes} write${writes > 1 ? "s" : ""}; Front Door deploys globally, up to about 20 minutes)` : `already ${to}` };
    },
    async verify({ to }) {
      const [target, old] = await Promise.all([get(to), get(otherSide(to))]);
      const detail = `${to} ${show(target)}, ${otherSide(to)} ${show(old)}`;
      if (!matches(target, true) || !matches(old, false)) return { status: "mismatch", detail };
      if ([target, old].some((o) => o.deploymentStatus === "Failed")) return { status: "mismatch", detail: `${detail} (deployment failed)` };
      if ([target, old].every((o) => o.deploymentStatus === undefined || o.deploymentStatus === "Succeeded")) return { status: "verified", detail };
      return { status: "propagating", detail: `${detail} (deploying)` };
    },
    async readiness() {
      const problems: string[] = [];
      for (const side of ["primary", "secondary"] as const) {
        try {
          await get(side);
        } catch (err) {
          problems.push((err as Error).message);
        }
      }
      problems.push(...(await missingPermissions(clients, { subscription: profile.subscription, resourceGroup: profile.resourceGroup, namespace: "Microsoft.Cdn", parentPath: "", type: "profiles", name: profile.name }, ["Microsoft.Cdn/profiles/originGroups/origins/write"])).map((p) => `${label}: ${p}`));
      return { ready: problems.length === 0, problems };
    },
  };
}
