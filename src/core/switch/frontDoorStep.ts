import type { AFDOrigin, AFDOriginUpdateParameters } from "@azure/arm-cdn";
import type { SwitchClients } from "./clients";
import { missingPermissions } from "./permissionsCheck";
import { RESOURCE_ID, parseResourceId, type SwitchStepConfig } from "./plan";
import type { StepCalls } from "./session";
import { otherSide, type Side, type SwitchStepRunner } from "./step";
import { StepError } from "./stepErrors";

type Config = Extract<SwitchStepConfig, { kind: "front_door" }>;

const ACTIVE_PRIORITY = 1;
const STANDBY_PRIORITY = 2;
const IN_PROGRESS = new Set(["Updating", "Creating", "NotStarted", "InProgress"]);

/**
 * Front Door Standard/Premium: one origin per side in an origin group, switched by
 * `enabledState` (Enabled / Disabled) or by `priority` (1 active, 2 standby). Every write is a
 * long-running operation that queues a global deployment of up to about 20 minutes, and writes
 * queue behind each other, so the step reads first and never writes an origin already in the
 * desired state.
 *
 * Make before break on the real state: the old origin is touched only once the new one's change
 * has reached a terminal success: its update's operation Succeeded, the origin reads
 * `provisioningState` Succeeded and its `deploymentStatus` is no longer NotStarted or
 * InProgress. Until then the step answers "pending" and the next cycle applies again from here
 * (also after a restart in the middle of the operation: the origin still reads Updating). An
 * update whose operation ends Failed, or an origin that reads Failed, is a transient error that
 * leaves the old origin serving; an outcome that is unknown (a status poll failed or timed out)
 * is pending, never success.
 */
export function frontDoorStep(config: Config, clients: SwitchClients, calls: StepCalls): SwitchStepRunner {
  const profile = parseResourceId(RESOURCE_ID.frontDoorProfile, config.profile_id);
  const client = () => clients.cdn(profile.subscription);
  const label = calls.label;
  const origin = (side: Side) => (side === "primary" ? config.primary_origin : config.secondary_origin);
  const get = (side: Side): Promise<AFDOrigin> =>
    calls.read(`read ${side} origin ${origin(side)}`, (abortSignal) => client().afdOrigins.get(profile.resourceGroup, profile.name, config.origin_group, origin(side), { abortSignal }));
  // Priority mode promotes the new origin to priority 1 and demotes the old to 2; the promoted
  // origin must also be enabled (a disabled origin at priority 1 serves nothing), the demoted
  // one keeps its enabledState and stays a standby.
  const desired = (active: boolean): AFDOriginUpdateParameters =>
    config.mode === "priority" ? (active ? { priority: ACTIVE_PRIORITY, enabledState: "Enabled" } : { priority: STANDBY_PRIORITY }) : { enabledState: active ? "Enabled" : "Disabled" };
  const matches = (o: AFDOrigin, active: boolean): boolean =>
    config.mode === "priority" ? o.priority === desired(active).priority && (!active || o.enabledState !== "Disabled") : o.enabledState === desired(active).enabledState;
  const serving = (o: AFDOrigin): boolean => o.enabledState !== "Disabled" && (config.mode !== "priority" || o.priority === ACTIVE_PRIORITY);
  const failed = (o: AFDOrigin) => o.provisioningState === "Failed" || o.deploymentStatus === "Failed";
  const inProgress = (o: AFDOrigin) => IN_PROGRESS.has(o.provisioningState ?? "") || IN_PROGRESS.has(o.deploymentStatus ?? "");
  const show = (o: AFDOrigin) => (config.mode === "priority" ? `priority ${o.priority}` : `${o.enabledState}`) + `/${o.provisioningState ?? "?"}/${o.deploymentStatus ?? "?"}`;
  const showDesired = (active: boolean) => (config.mode === "priority" ? `priority ${desired(active).priority}` : `${desired(active).enabledState}`);

  /**
   * Writes one origin through its long-running update; answers whether the operation Succeeded
   * or its outcome is unknown (a status poll failed or ran out of time: the next read decides);
   * an operation that ended Failed throws a transient error.
   */
  async function set(side: Side, before: AFDOrigin, active: boolean): Promise<"succeeded" | "unknown"> {
    let accepted: number | undefined;
    const onResponse = (raw: { request: { method: string }; status: number }) => {
      if (raw.request.method === "PATCH") accepted = raw.status;
    };
    /** A failed poll: the operation ended Failed (a transient error), or its outcome is not known yet. */
    const afterPollError = (err: unknown): "unknown" => {
      const message = (err as Error).message;
      if (/long-running operation has failed/i.test(message)) {
        calls.amend(`accepted ${accepted}; operation Failed`);
        throw new StepError(
          "server_error",
          `${label}: the update of the ${side} origin ${origin(side)} ended Failed (${message.replace(/^.*?: /, "")}); the ${otherSide(side)} origin was left as it was`,
        );
      }
      calls.amend(`accepted ${accepted}; outcome unknown (status poll: ${(err as StepError).errorClass ?? "error"})`);
      return "unknown";
    };
    let poller;
    try {
      poller = await calls.write(
        { method: "PATCH", resource: `profiles/${profile.name}/originGroups/${config.origin_group}/origins/${origin(side)}`, before: show(before), after: showDesired(active) },
        (abortSignal) =>
          client().afdOrigins.beginUpdate(profile.resourceGroup, profile.name, config.origin_group, origin(side), desired(active), {
            abortSignal,
            onResponse,
            updateIntervalInMs: clients.settings.pollIntervalMs,
          }),
        { result: () => `accepted ${accepted ?? "?"}` },
      );
    } catch (err) {
      // The SDK's begin call sends the PATCH and polls once: a PATCH that was accepted failed in its poll.
      if (accepted === undefined || accepted >= 300) throw err;
      return afterPollError(err);
    }
    try {
      await calls.read(`wait for the update of the ${side} origin ${origin(side)}`, (abortSignal) => poller.pollUntilDone({ abortSignal }));
      calls.amend(`accepted ${accepted ?? "?"}; operation Succeeded`);
      return "succeeded";
    } catch (err) {
      return afterPollError(err);
    }
  }

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
      let target = await get(to);
      if (!matches(target, true) || failed(target)) {
        writes++;
        const outcome = await set(to, target, true);
        target = await get(to);
        if (failed(target) || (outcome === "succeeded" && !matches(target, true))) {
          throw new StepError("server_error", `${label}: the ${to} origin ${origin(to)} reads ${show(target)} after its update; the ${otherSide(to)} origin was left as it was`);
        }
        if (!matches(target, true)) {
          return {
            writes,
            detail: `${to} origin ${origin(to)} update sent, outcome unknown`,
            pending: `the update of the ${to} origin ${origin(to)} has no known outcome yet (reads ${show(target)}); the ${otherSide(to)} origin is left serving`,
          };
        }
      }
      if (inProgress(target)) {
        return {
          writes,
          detail: `${to} origin ${origin(to)} ${show(target)}`,
          pending: `the ${to} origin ${origin(to)} is still deploying (${show(target)}); the ${otherSide(to)} origin is touched once it is done`,
        };
      }
      const old = await get(otherSide(to));
      if (!matches(old, false) || failed(old)) {
        writes++;
        await set(otherSide(to), old, false);
      }
      return { writes, detail: writes ? `${to} origin ${origin(to)} active (${writes} write${writes > 1 ? "s" : ""}; Front Door deploys globally, up to about 20 minutes)` : `already ${to}` };
    },
    async verify({ to }) {
      const [target, old] = await Promise.all([get(to), get(otherSide(to))]);
      const detail = `${to} ${show(target)}, ${otherSide(to)} ${show(old)}`;
      if (!matches(target, true) || !matches(old, false)) return { status: "mismatch", detail };
      if ([target, old].some(failed)) return { status: "mismatch", detail: `${detail} (deployment failed)` };
      if ([target, old].some(inProgress)) return { status: "propagating", detail: `${detail} (deploying)` };
      return { status: "verified", detail };
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
      problems.push(
        ...(
          await missingPermissions(
            clients,
            calls,
            { subscription: profile.subscription, resourceGroup: profile.resourceGroup, namespace: "Microsoft.Cdn", parentPath: "", type: "profiles", name: profile.name },
            ["Microsoft.Cdn/profiles/originGroups/origins/write"],
          )
        ).map((p) => `${label}: ${p}`),
      );
      return { ready: problems.length === 0, problems };
    },
  };
}
