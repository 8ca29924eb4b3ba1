import { randomUUID } from "node:crypto";
import { error, last, type Answer } from "./armResources";
import { accepted, operationAnswer, type OperationState } from "./longRunningOperations";

/**
 * Azure Storage accounts in the stand-in (Microsoft.Storage 2024-01-01, StorageAccounts_GetProperties
 * with $expand=geoReplicationStats, and _Failover): a geo-redundant account with a primary and a
 * secondary location. A failover answers 202 with Azure-AsyncOperation and Location; its
 * operation runs `operationMs`, then a planned one (failoverType=Planned) swaps the locations and
 * keeps the account geo-redundant, an unplanned one makes the secondary primary and leaves the
 * account locally redundant (no secondary), as the service does; or it ends Failed
 * (failNextFailover). A failover while the secondary cannot take over (canFailover false) is a 409.
 */

export const STORAGE_API_VERSION = "2024-01-01";

interface Account {
  readonly id: string;
  primary: string;
  secondary?: string;
  status: "Live" | "Bootstrap" | "Unavailable";
  lastSyncTime: string;
  failingOver: boolean;
}

interface Operation extends OperationState {
  readonly account: Account;
  readonly planned: boolean;
  readonly started: number;
  readonly startTime: string;
}

export class StorageAccounts {
  private readonly accounts = new Map<string, Account>();
  private readonly operations = new Map<string, Operation>();
  private readonly failures = new Map<string, { code: string; message: string }>();

  constructor(
    private readonly now: () => number,
    private readonly endpoint: () => string,
    private readonly operationMs: number,
  ) {}

  add(accountId: string, primary: string, secondary: string): void {
    this.accounts.set(accountId.toLowerCase(), { id: accountId, primary, secondary, status: "Live", lastSyncTime: new Date(this.now()).toISOString(), failingOver: false });
  }

  setSecondaryStatus(accountId: string, status: Account["status"]): void {
    const account = this.accounts.get(accountId.toLowerCase());
    if (account) account.status = status;
  }

  failNextFailover(accountId: string, failure = { code: "InternalError", message: "The failover of the storage account failed." }): void {
    this.failures.set(accountId.toLowerCase(), failure);
  }

  locations(accountId: string): { primary?: string; secondary?: string } {
    this.settle();
    const a = this.accounts.get(accountId.toLowerCase());
    return a ? { primary: a.primary, ...(a.secondary ? { secondary: a.secondary } : {}) } : {};
  }

  settle(): void {
    const now = this.now();
    for (const op of this.operations.values()) {
      if (op.status !== "InProgress" || now < op.started + this.operationMs) continue;
      op.endTime = new Date(op.started + this.operationMs).toISOString();
      op.account.failingOver = false;
      if (op.fails) {
        op.status = "Failed";
        continue;
      }
      op.status = "Succeeded";
      const old = op.account.primary;
      op.account.primary = op.account.secondary!;
      // Planned: the locations swap. Unplanned: the account is locally redundant afterwards.
      if (op.planned) op.account.secondary = old;
      else delete op.account.secondary;
    }
  }

  private view(a: Account, expand: boolean): Record<string, unknown> {
    const canFailover = a.secondary !== undefined && a.status === "Live" && !a.failingOver;
    return {
      id: a.id,
      name: last(a.id),
      type: "Microsoft.Storage/storageAccounts",
      location: a.primary,
      kind: "StorageV2",
      sku: { name: a.secondary ? "Standard_GRS" : "Standard_LRS", tier: "Standard" },
      properties: {
        provisioningState: "Succeeded",
        primaryLocation: a.primary,
        statusOfPrimary: "available",
        ...(a.secondary ? { secondaryLocation: a.secondary, statusOfSecondary: a.status === "Live" ? "available" : "unavailable" } : {}),
        ...(a.failingOver ? { failoverInProgress: true } : {}),
        ...(expand && a.secondary ? { geoReplicationStats: { status: a.status, lastSyncTime: a.lastSyncTime, canFailover, canPlannedFailover: canFailover } } : {}),
      },
    };
  }

  get(accountPath: string, expand: boolean): Answer {
    this.settle();
    const account = this.accounts.get(accountPath.toLowerCase());
    if (!account) return error(404, "ResourceNotFound", `The Resource 'Microsoft.Storage/storageAccounts/${last(accountPath)}' was not found.`);
    return { status: 200, body: this.view(account, expand) };
  }

  failover(accountPath: string, failoverType: string | null): Answer {
    this.settle();
    const account = this.accounts.get(accountPath.toLowerCase());
    if (!account) return error(404, "ResourceNotFound", `The Resource 'Microsoft.Storage/storageAccounts/${last(accountPath)}' was not found.`);
    if (failoverType !== null && failoverType !== "Planned") return error(400, "InvalidFailoverType", `The failover type '${failoverType}' is invalid: Planned, or none for an unplanned failover.`);
    if (!account.secondary || account.status !== "Live" || account.failingOver)
      return error(
        409,
        "FailoverNotAllowed",
        `The account cannot fail over now: ${account.failingOver ? "a failover is in progress" : account.secondary ? `its secondary is ${account.status}` : "it is not geo-redundant"}.`,
      );
    const id = randomUUID();
    const fails = this.failures.get(accountPath.toLowerCase());
    this.failures.delete(accountPath.toLowerCase());
    const now = this.now();
    account.failingOver = true;
    this.operations.set(id, { account, planned: failoverType === "Planned", started: now, startTime: new Date(now).toISOString(), ...(fails ? { fails } : {}), status: "InProgress" });
    const subscription = accountPath.split("/")[2];
    return accepted(`${this.endpoint()}/subscriptions/${subscription}/providers/Microsoft.Storage/locations/${account.primary}`, "asyncoperations", "operationResults", id, STORAGE_API_VERSION);
  }

  operation(path: string): Answer {
    this.settle();
    return operationAnswer(path, /operationresults/i.test(path), this.operations.get(last(path)), this.endpoint(), STORAGE_API_VERSION, () => ({ status: 200, body: {} }));
  }
}
