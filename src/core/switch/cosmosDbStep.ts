import type { DatabaseAccountGetResults, FailoverPolicy } from "@azure/arm-cosmosdb";
import type { SwitchClients } from "./clients";
import { longRunningWrite } from "./longRunningWrite";
import { missingPermissions } from "./permissionsCheck";
import { RESOURCE_ID, parseResourceId, regionKey, type SwitchStepConfig } from "./plan";
import type { StepCalls } from "./session";
import type { Side, SwitchStepRunner } from "./step";
import { StepError } from "./stepErrors";

type Config = Extract<SwitchStepConfig, { kind: "cosmos_db" }>;

const CHANGE = "Microsoft.DocumentDB/databaseAccounts/failoverPriorityChange/action";

/**
 * Azure Cosmos DB account with a single write region: the side's region is made the write
 * region by a failover priority change (ARM's failoverPriorityChange, a long-running operation):
 * it gets priority 0, the other side's region 1, any other region keeps its order after them.
 * The service keeps one write region at any time, so the change is make-before-break by itself.
 * Until the operation has ended and the account reads the side's region as its write region the
 * step is pending; an operation that ended Failed is a transient error. An account with
 * multi-region writes is refused: a priority change does not move its writes.
 */
export function cosmosDbStep(config: Config, clients: SwitchClients, calls: StepCalls): SwitchStepRunner {
  const account = parseResourceId(RESOURCE_ID.cosmosAccount, config.account_id);
  const client = () => clients.cosmos(account.subscription).databaseAccounts;
  const label = calls.label;
  const region = (side: Side) => (side === "primary" ? config.primary_region : config.secondary_region);
  const get = (): Promise<DatabaseAccountGetResults> => calls.read("read the account", (abortSignal) => client().get(account.resourceGroup, account.name, { abortSignal }));
  const writeRegion = (a: DatabaseAccountGetResults) => a.writeLocations?.[0]?.locationName ?? "unknown";
  const writesIn = (a: DatabaseAccountGetResults, side: Side) => regionKey(writeRegion(a)) === regionKey(region(side));
  const refuseMultiWrite = (a: DatabaseAccountGetResults) => {
    if (a.enableMultipleWriteLocations) throw new StepError("refused", `${label}: the account writes in several regions; a failover priority change does not move its writes`);
  };

  /** The account's regions in the new order: `side`'s first, the other side's next, the rest as they were. */
  function policies(a: DatabaseAccountGetResults, side: Side): FailoverPolicy[] {
    const first = [region(side), region(side === "primary" ? "secondary" : "primary")];
    const rest = [...(a.failoverPolicies ?? [])]
      .sort((x, y) => (x.failoverPriority ?? 0) - (y.failoverPriority ?? 0))
      .map((p) => p.locationName ?? "")
      .filter((name) => name && !first.some((f) => regionKey(f) === regionKey(name)));
    return [...first, ...rest].map((locationName, failoverPriority) => ({ locationName, failoverPriority }));
  }

  function change(side: Side, before: DatabaseAccountGetResults): Promise<"succeeded" | "unknown"> {
    return longRunningWrite(
      calls,
      { method: "POST", resource: `databaseAccounts/${account.name}/failoverPriorityChange`, before: `writes in ${writeRegion(before)}`, after: `writes in ${region(side)}` },
      (abortSignal) =>
        client().beginFailoverPriorityChange(account.resourceGroup, account.name, { failoverPolicies: policies(before, side) }, { abortSignal, updateIntervalInMs: clients.settings.pollIntervalMs }),
      `wait for the failover priority change to ${region(side)}`,
      (message) => new StepError("server_error", `${label}: the failover priority change to ${region(side)} ended Failed (${message}); ${writeRegion(before)} keeps the writes`),
    );
  }

  return {
    kind: "cosmos_db",
    label,
    async actual() {
      const a = await get();
      return { side: writesIn(a, "primary") ? "primary" : writesIn(a, "secondary") ? "secondary" : "none", detail: `writes in ${writeRegion(a)}` };
    },
    async apply({ to }) {
      const before = await get();
      refuseMultiWrite(before);
      if (writesIn(before, to)) return { writes: 0, detail: `already writes in ${region(to)}` };
      const outcome = await change(to, before);
      const after = await get();
      if (writesIn(after, to)) return { writes: 1, detail: `writes in ${region(to)}` };
      if (outcome === "unknown") return { writes: 1, detail: `failover priority change to ${region(to)} asked`, pending: `the account still writes in ${writeRegion(after)}` };
      throw new StepError("mismatch", `${label}: the account writes in ${writeRegion(after)} after its failover priority change to ${region(to)} ended Succeeded`);
    },
    async verify({ to }) {
      const a = await get();
      return { status: writesIn(a, to) ? "verified" : "mismatch", detail: `writes in ${writeRegion(a)}` };
    },
    async readiness() {
      const problems: string[] = [];
      let a: DatabaseAccountGetResults;
      try {
        a = await get();
      } catch (err) {
        return { ready: false, problems: [(err as Error).message] };
      }
      if (a.enableMultipleWriteLocations) problems.push(`${label}: the account writes in several regions; a failover priority change does not move its writes`);
      const regions = (a.failoverPolicies ?? []).map((p) => regionKey(p.locationName ?? ""));
      for (const side of ["primary", "secondary"] as const)
        if (!regions.includes(regionKey(region(side))))
          problems.push(`${label}: the ${side} region ${region(side)} is not one of the account's regions (${(a.failoverPolicies ?? []).map((p) => p.locationName).join(", ")})`);
      problems.push(
        ...(
          await missingPermissions(
            clients,
            calls,
            { subscription: account.subscription, resourceGroup: account.resourceGroup, namespace: "Microsoft.DocumentDB", parentPath: "", type: "databaseAccounts", name: account.name },
            [CHANGE],
          )
        ).map((p) => `${label}: ${p}`),
      );
      return { ready: problems.length === 0, problems };
    },
  };
}
