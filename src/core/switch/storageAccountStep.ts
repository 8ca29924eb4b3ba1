import type { StorageAccount } from "@azure/arm-storage";
import type { SwitchClients } from "./clients";
import { longRunningWrite } from "./longRunningWrite";
import { missingPermissions } from "./permissionsCheck";
import { RESOURCE_ID, parseResourceId, regionKey, type SwitchStepConfig } from "./plan";
import type { StepCalls } from "./session";
import type { Side, SwitchStepRunner } from "./step";
import { StepError } from "./stepErrors";

type Config = Extract<SwitchStepConfig, { kind: "storage_account" }>;

const FAILOVER = "Microsoft.Storage/storageAccounts/failover/action";
/** The Microsoft.Storage api-version of the unplanned failover's request (the SDK's own for the rest). */
const STORAGE_API_VERSION = "2024-01-01";

/**
 * Azure Storage account, customer-managed failover: the side's location is made the account's
 * primary location by ARM's failover action (a long-running operation). Planned: the primary
 * and secondary swap, nothing is lost and the account stays geo-redundant. Unplanned: the
 * secondary takes over with what it had at its last sync time and the account becomes locally
 * redundant, so a switch back is refused until someone enables geo-redundancy again. Until the
 * operation has ended and the account reads the side's location as primary the step is pending;
 * an operation that ended Failed is a transient error; an account that cannot fail over now
 * (`canFailover` or `canPlannedFailover` false, no secondary) is refused, naming why.
 */
export function storageAccountStep(config: Config, clients: SwitchClients, calls: StepCalls): SwitchStepRunner {
  const account = parseResourceId(RESOURCE_ID.storageAccount, config.account_id);
  const client = () => clients.storage(account.subscription).storageAccounts;
  const label = calls.label;
  const planned = config.failover_type === "planned";
  const location = (side: Side) => (side === "primary" ? config.primary_location : config.secondary_location);
  const get = (): Promise<StorageAccount> =>
    calls.read("read the account", (abortSignal) => client().getProperties(account.resourceGroup, account.name, { expand: "geoReplicationStats", abortSignal }));
  const primaryIn = (a: StorageAccount, side: Side) => regionKey(a.primaryLocation ?? "") === regionKey(location(side));
  const stats = (a: StorageAccount) => a.geoReplicationStats;
  /** Why the account cannot fail over now, or undefined. */
  const cannot = (a: StorageAccount, to: Side): string | undefined => {
    if (!a.secondaryLocation) return `the account has no secondary location (not geo-redundant, as after an unplanned failover): enable geo-redundancy again, then retry_switch`;
    if (regionKey(a.secondaryLocation) !== regionKey(location(to))) return `its secondary location is ${a.secondaryLocation}, not ${location(to)}`;
    const s = stats(a);
    if (planned && s?.canPlannedFailover === false) return `a planned failover is not possible now (secondary ${s.status ?? "?"})`;
    if (!planned && s?.canFailover === false) return `a failover is not possible now (secondary ${s.status ?? "?"})`;
    return undefined;
  };

  /**
   * The unplanned failover: the SDK sends failoverType=Planned on every failover (a constant in
   * it), so this one is the bare POST the API defines, through the same pipeline. Its operation
   * is not polled: the account reads failoverInProgress until it ends, and the next cycles read
   * it (pending until then).
   */
  async function unplanned(before: StorageAccount, to: Side): Promise<"unknown"> {
    await calls.write(
      { method: "POST", resource: `storageAccounts/${account.name}/failover`, before: `primary ${before.primaryLocation ?? "?"}`, after: `primary ${location(to)}` },
      (abortSignal) => clients.armPost(`${config.account_id}/failover?api-version=${STORAGE_API_VERSION}`, abortSignal),
      { result: (status) => `accepted ${status}` },
    );
    return "unknown";
  }

  function failover(before: StorageAccount, to: Side): Promise<"succeeded" | "unknown"> {
    if (!planned) return unplanned(before, to);
    return longRunningWrite(
      calls,
      { method: "POST", resource: `storageAccounts/${account.name}/failover (Planned)`, before: `primary ${before.primaryLocation ?? "?"}`, after: `primary ${location(to)}` },
      (abortSignal) => client().beginFailover(account.resourceGroup, account.name, { abortSignal, updateIntervalInMs: clients.settings.pollIntervalMs }),
      `wait for the failover to ${location(to)}`,
      (message) => new StepError("server_error", `${label}: the planned failover to ${location(to)} ended Failed (${message}); ${before.primaryLocation ?? "?"} stays primary`),
    );
  }

  return {
    kind: "storage_account",
    label,
    async actual() {
      const a = await get();
      return {
        side: primaryIn(a, "primary") ? "primary" : primaryIn(a, "secondary") ? "secondary" : "none",
        detail: `primary ${a.primaryLocation ?? "?"}, secondary ${a.secondaryLocation ?? "none"}`,
      };
    },
    async apply({ to }) {
      const before = await get();
      if (primaryIn(before, to)) return { writes: 0, detail: `already primary in ${location(to)}` };
      if (before.failoverInProgress) return { writes: 0, detail: "a failover is in progress", pending: `the account's failover is still in progress (primary ${before.primaryLocation ?? "?"})` };
      const why = cannot(before, to);
      if (why) throw new StepError("refused", `${label}: cannot fail over to ${location(to)}: ${why}`);
      const outcome = await failover(before, to);
      const after = await get();
      if (primaryIn(after, to))
        return {
          writes: 1,
          detail: `primary in ${location(to)} (${config.failover_type}${planned ? ", nothing lost" : `, data after ${stats(before)?.lastSyncTime?.toISOString() ?? "the last sync"} lost`})`,
        };
      if (outcome === "unknown" || after.failoverInProgress)
        return { writes: 1, detail: `failover to ${location(to)} asked`, pending: `the account's primary is still ${after.primaryLocation ?? "?"}` };
      throw new StepError("mismatch", `${label}: the account's primary is ${after.primaryLocation ?? "?"} after its failover to ${location(to)} ended Succeeded`);
    },
    async verify({ to }) {
      const a = await get();
      return { status: primaryIn(a, to) ? "verified" : "mismatch", detail: `primary ${a.primaryLocation ?? "?"}, secondary ${a.secondaryLocation ?? "none"}` };
    },
    async readiness() {
      let a: StorageAccount;
      try {
        a = await get();
      } catch (err) {
        return { ready: false, problems: [(err as Error).message] };
      }
      const problems: string[] = [];
      const active: Side = primaryIn(a, "secondary") ? "secondary" : "primary";
      const to: Side = active === "primary" ? "secondary" : "primary";
      if (!primaryIn(a, active)) problems.push(`${label}: the account's primary location ${a.primaryLocation ?? "?"} is neither ${config.primary_location} nor ${config.secondary_location}`);
      const why = cannot(a, to);
      if (why) problems.push(`${label}: ${why}`);
      const s = stats(a);
      if (s?.lastSyncTime) problems.push(...(s.status !== "Live" ? [`${label}: the secondary is ${s.status ?? "?"} (last sync ${s.lastSyncTime.toISOString()})`] : []));
      problems.push(
        ...(
          await missingPermissions(
            clients,
            calls,
            { subscription: account.subscription, resourceGroup: account.resourceGroup, namespace: "Microsoft.Storage", parentPath: "", type: "storageAccounts", name: account.name },
            [FAILOVER],
          )
        ).map((p) => `${label}: ${p}`),
      );
      return { ready: problems.length === 0, problems };
    },
  };
}
