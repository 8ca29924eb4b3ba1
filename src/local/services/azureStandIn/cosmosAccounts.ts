import { randomUUID } from "node:crypto";
import { error, last, type Answer } from "./armResources";
import { accepted, operationAnswer, type OperationState } from "./longRunningOperations";

/**
 * Azure Cosmos DB accounts in the stand-in (Microsoft.DocumentDB 2025-10-15,
 * DatabaseAccounts_Get and _FailoverPriorityChange): an account with its regions in failover
 * priority order; the region of priority 0 is its write region (single-region writes). A
 * priority change answers 202 with Azure-AsyncOperation and Location; its operation runs
 * `operationMs`, then the new order applies, or it ends Failed (failNextChange). The request must
 * name every region of the account exactly once, with priorities 0..n-1, as the service demands.
 */

export const COSMOS_API_VERSION = "2025-10-15";

interface Account {
  readonly id: string;
  regions: string[];
  multipleWrites: boolean;
}

interface Operation extends OperationState {
  readonly account: Account;
  readonly regions: string[];
  readonly started: number;
  readonly startTime: string;
}

const key = (region: string) => region.replace(/\s+/g, "").toLowerCase();

export class CosmosAccounts {
  private readonly accounts = new Map<string, Account>();
  private readonly operations = new Map<string, Operation>();
  private readonly failures = new Map<string, { code: string; message: string }>();

  constructor(
    private readonly now: () => number,
    private readonly endpoint: () => string,
    private readonly operationMs: number,
  ) {}

  /** An account whose regions are given in failover priority order (the first one takes the writes). */
  add(accountId: string, regions: readonly string[], options: { multipleWrites?: boolean } = {}): void {
    this.accounts.set(accountId.toLowerCase(), { id: accountId, regions: [...regions], multipleWrites: options.multipleWrites ?? false });
  }

  setMultipleWrites(accountId: string, on: boolean): void {
    const account = this.accounts.get(accountId.toLowerCase());
    if (account) account.multipleWrites = on;
  }

  failNextChange(accountId: string, failure = { code: "InternalServerError", message: "The failover priority change failed." }): void {
    this.failures.set(accountId.toLowerCase(), failure);
  }

  writeRegion(accountId: string): string | undefined {
    this.settle();
    return this.accounts.get(accountId.toLowerCase())?.regions[0];
  }

  settle(): void {
    const now = this.now();
    for (const op of this.operations.values()) {
      if (op.status !== "InProgress" || now < op.started + this.operationMs) continue;
      op.endTime = new Date(op.started + this.operationMs).toISOString();
      if (op.fails) op.status = "Failed";
      else {
        op.status = "Succeeded";
        op.account.regions = op.regions;
      }
    }
  }

  private view(a: Account): Record<string, unknown> {
    const locations = a.regions.map((locationName, failoverPriority) => ({ id: `${last(a.id)}-${key(locationName)}`, locationName, failoverPriority, provisioningState: "Succeeded" }));
    return {
      id: a.id,
      name: last(a.id),
      type: "Microsoft.DocumentDB/databaseAccounts",
      location: a.regions[0],
      kind: "GlobalDocumentDB",
      properties: {
        provisioningState: "Succeeded",
        databaseAccountOfferType: "Standard",
        enableMultipleWriteLocations: a.multipleWrites,
        enableAutomaticFailover: false,
        writeLocations: a.multipleWrites ? locations : locations.slice(0, 1),
        readLocations: locations,
        locations,
        failoverPolicies: a.regions.map((locationName, failoverPriority) => ({ id: `${last(a.id)}-${key(locationName)}`, locationName, failoverPriority })),
      },
    };
  }

  get(accountPath: string): Answer {
    this.settle();
    const account = this.accounts.get(accountPath.toLowerCase());
    if (!account) return error(404, "ResourceNotFound", `The Resource 'Microsoft.DocumentDB/databaseAccounts/${last(accountPath)}' was not found.`);
    return { status: 200, body: this.view(account) };
  }

  change(accountPath: string, body: unknown): Answer {
    this.settle();
    const account = this.accounts.get(accountPath.toLowerCase());
    if (!account) return error(404, "ResourceNotFound", `The Resource 'Microsoft.DocumentDB/databaseAccounts/${last(accountPath)}' was not found.`);
    const policies = (body as { failoverPolicies?: Array<{ locationName?: unknown; failoverPriority?: unknown }> } | undefined)?.failoverPolicies;
    if (!Array.isArray(policies)) return error(400, "BadRequest", "The request must have failoverPolicies.");
    const ordered = [...policies].sort((x, y) => Number(x.failoverPriority) - Number(y.failoverPriority));
    const names = ordered.map((p) => String(p.locationName ?? ""));
    const complete = names.length === account.regions.length && account.regions.every((r) => names.filter((n) => key(n) === key(r)).length === 1);
    const priorities = ordered.every((p, i) => p.failoverPriority === i);
    if (!complete || !priorities) return error(400, "BadRequest", "Failover priorities must name every region of the account once, with priorities 0 to n-1.");
    if ([...this.operations.values()].some((op) => op.account === account && op.status === "InProgress")) return error(409, "Conflict", "Another operation is in progress on the account.");
    const id = randomUUID();
    const fails = this.failures.get(accountPath.toLowerCase());
    this.failures.delete(accountPath.toLowerCase());
    const now = this.now();
    this.operations.set(id, {
      account,
      regions: names.map((n) => account.regions.find((r) => key(r) === key(n))!),
      started: now,
      startTime: new Date(now).toISOString(),
      ...(fails ? { fails } : {}),
      status: "InProgress",
    });
    const subscription = accountPath.split("/")[2];
    return accepted(
      `${this.endpoint()}/subscriptions/${subscription}/providers/Microsoft.DocumentDB/locations/${key(account.regions[0])}`,
      "operationsStatus",
      "operationResults",
      id,
      COSMOS_API_VERSION,
    );
  }

  operation(path: string): Answer {
    this.settle();
    return operationAnswer(path, /operationresults/i.test(path), this.operations.get(last(path)), this.endpoint(), COSMOS_API_VERSION, () => ({ status: 200, body: {} }));
  }
}
