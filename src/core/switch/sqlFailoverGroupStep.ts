import type { FailoverGroup } from "@azure/arm-sql";
import type { SwitchClients } from "./clients";
import { longRunningWrite } from "./longRunningWrite";
import { missingPermissions } from "./permissionsCheck";
import { RESOURCE_ID, parseResourceId, type ParsedResourceId, type SwitchStepConfig } from "./plan";
import type { StepCalls } from "./session";
import { otherSide, type Side, type SwitchStepRunner } from "./step";
import { StepError } from "./stepErrors";

type Config = Extract<SwitchStepConfig, { kind: "sql_failover_group" }>;

const FAILOVER = "Microsoft.Sql/servers/failoverGroups/failover/action";
const FORCE = "Microsoft.Sql/servers/failoverGroups/forceFailoverAllowDataLoss/action";

/**
 * Azure SQL Database failover group: the side's logical server holds the group's primary role.
 * The failover is asked of the server that is to become primary (ARM's failover action on its
 * view of the group, a long-running operation): a planned failover, which waits for the
 * replicas to catch up and loses nothing; when it fails (the old primary unreachable) and the
 * plan allows data loss, a forced one. Until the operation has ended and the server reads
 * Primary the step is pending (the next cycle reads again); an operation that ended Failed is a
 * transient error. Make-before-break is the service's own: one server is primary at any time.
 */
export function sqlFailoverGroupStep(config: Config, clients: SwitchClients, calls: StepCalls): SwitchStepRunner {
  const server = (side: Side): ParsedResourceId => parseResourceId(RESOURCE_ID.sqlServer, side === "primary" ? config.primary_server_id : config.secondary_server_id);
  const label = calls.label;
  const get = (side: Side): Promise<FailoverGroup> =>
    calls.read(`read the failover group on the ${side} server ${server(side).name}`, (abortSignal) =>
      clients.sql(server(side).subscription).failoverGroups.get(server(side).resourceGroup, server(side).name, config.failover_group, { abortSignal }),
    );
  const role = (g: FailoverGroup) => g.replicationRole ?? "unknown";

  /** Asks `side`'s server to take the primary role; answers whether the operation ended Succeeded or its outcome is not known yet. */
  function failover(side: Side, before: FailoverGroup, forced: boolean): Promise<"succeeded" | "unknown"> {
    const s = server(side);
    const client = clients.sql(s.subscription).failoverGroups;
    const action = forced ? "forceFailoverAllowDataLoss" : "failover";
    const options = (abortSignal: AbortSignal) => ({ abortSignal, updateIntervalInMs: clients.settings.pollIntervalMs });
    return longRunningWrite(
      calls,
      { method: "POST", resource: `servers/${s.name}/failoverGroups/${config.failover_group}/${action}`, before: `${s.name} ${role(before)}`, after: `${s.name} Primary` },
      (abortSignal) =>
        forced
          ? client.beginForceFailoverAllowDataLoss(s.resourceGroup, s.name, config.failover_group, options(abortSignal))
          : client.beginFailover(s.resourceGroup, s.name, config.failover_group, options(abortSignal)),
      `wait for the ${action} of ${s.name}`,
      (message) => new StepError("server_error", `${label}: the ${action} of ${s.name} ended Failed (${message}); ${server(otherSide(side)).name} keeps the primary role`),
    );
  }

  return {
    kind: "sql_failover_group",
    label,
    async actual() {
      const [p, s] = await Promise.all([get("primary"), get("secondary")]);
      const primaryOn = role(p) === "Primary";
      const secondaryOn = role(s) === "Primary";
      return {
        side: primaryOn && secondaryOn ? "both" : primaryOn ? "primary" : secondaryOn ? "secondary" : "none",
        detail: `${server("primary").name} ${role(p)}, ${server("secondary").name} ${role(s)}`,
      };
    },
    async apply({ to }) {
      const target = await get(to);
      if (role(target) === "Primary") return { writes: 0, detail: `${server(to).name} already primary` };
      let writes = 1;
      let outcome: "succeeded" | "unknown";
      try {
        outcome = await failover(to, target, false);
      } catch (err) {
        if (!config.allow_data_loss || (err instanceof StepError && err.errorClass !== "server_error" && err.errorClass !== "timeout")) throw err;
        // The planned failover could not finish (the old primary unreachable): the plan allows data loss.
        writes++;
        outcome = await failover(to, target, true);
      }
      const after = await get(to);
      if (role(after) === "Primary") return { writes, detail: `${server(to).name} primary (${writes === 2 ? "forced, data loss allowed" : "planned, no data loss"})` };
      if (outcome === "unknown") return { writes, detail: `failover of ${server(to).name} asked`, pending: `the failover of ${server(to).name} has not finished (it reads ${role(after)})` };
      throw new StepError("mismatch", `${label}: ${server(to).name} reads ${role(after)} after its failover ended Succeeded`);
    },
    async verify({ to }) {
      const target = await get(to);
      const detail = `${server(to).name} ${role(target)}${target.replicationState ? ` (replication ${target.replicationState})` : ""}`;
      return { status: role(target) === "Primary" ? "verified" : "mismatch", detail };
    },
    async readiness() {
      const problems: string[] = [];
      for (const side of ["primary", "secondary"] as const) {
        let group: FailoverGroup;
        try {
          group = await get(side);
        } catch (err) {
          problems.push((err as Error).message);
          continue;
        }
        const partner = server(otherSide(side)).name.toLowerCase();
        if (!(group.partnerServers ?? []).some((p) => p.id.toLowerCase().endsWith(`/servers/${partner}`)))
          problems.push(`${label}: the failover group on ${server(side).name} does not list ${server(otherSide(side)).name} as its partner`);
        if (role(group) === "Primary" && group.replicationState && group.replicationState !== "CATCH_UP")
          problems.push(
            `${label}: replication is ${group.replicationState}, not CATCH_UP: a planned failover waits for it${config.allow_data_loss ? ", a forced one loses what is not replicated" : ""}`,
          );
        const s = server(side);
        problems.push(
          ...(
            await missingPermissions(
              clients,
              calls,
              { subscription: s.subscription, resourceGroup: s.resourceGroup, namespace: "Microsoft.Sql", parentPath: `servers/${s.name}`, type: "failoverGroups", name: config.failover_group },
              config.allow_data_loss ? [FAILOVER, FORCE] : [FAILOVER],
            )
          ).map((p) => `${label}: ${p}`),
        );
      }
      return { ready: problems.length === 0, problems };
    },
  };
}
