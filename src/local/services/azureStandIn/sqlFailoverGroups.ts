import { randomUUID } from "node:crypto";
import { error, last, type Answer } from "./armResources";
import { accepted, operationAnswer, type OperationState } from "./longRunningOperations";

/**
 * Azure SQL failover groups in the stand-in (Microsoft.Sql 2020-11-01-preview, FailoverGroups_Get,
 * _Failover, _ForceFailoverAllowDataLoss): the group seen from each of its two servers, with the
 * server's replicationRole, the replicationState and the partner. A failover is asked of the
 * server that is to become primary and answers 202 with Azure-AsyncOperation and Location; its
 * operation runs `operationMs`, then the roles swap, or it ends Failed: a planned failover while
 * the current primary is unreachable (as the service refuses to lose data), or after
 * failNextFailover. A forced failover succeeds with the old primary unreachable.
 */

export const SQL_API_VERSION = "2020-11-01-preview";

interface Group {
  readonly name: string;
  /** Lowercased server IDs to their view. */
  readonly servers: Map<string, { id: string; location: string; role: "Primary" | "Secondary" }>;
  replicationState: string;
}

interface Operation extends OperationState {
  readonly group: Group;
  readonly newPrimary: string;
  readonly started: number;
  readonly startTime: string;
  readonly location: string;
  readonly forced: boolean;
}

export class SqlFailoverGroups {
  private readonly groups = new Map<string, Group>();
  private readonly operations = new Map<string, Operation>();
  private readonly unreachable = new Set<string>();
  private readonly failures = new Map<string, { code: string; message: string }>();

  constructor(
    private readonly now: () => number,
    private readonly endpoint: () => string,
    private readonly operationMs: number,
  ) {}

  add(primaryServerId: string, secondaryServerId: string, name: string, locations: { primary: string; secondary: string } = { primary: "eastus", secondary: "westus" }): void {
    const group: Group = {
      name,
      servers: new Map([
        [primaryServerId.toLowerCase(), { id: primaryServerId, location: locations.primary, role: "Primary" }],
        [secondaryServerId.toLowerCase(), { id: secondaryServerId, location: locations.secondary, role: "Secondary" }],
      ]),
      replicationState: "CATCH_UP",
    };
    for (const id of group.servers.keys()) this.groups.set(`${id}/failovergroups/${name}`, group);
  }

  /** The server's region is lost: a planned failover away from it fails; its own view of the group cannot be read. */
  setUnreachable(serverId: string, down = true): void {
    if (down) this.unreachable.add(serverId.toLowerCase());
    else this.unreachable.delete(serverId.toLowerCase());
  }

  setReplicationState(serverId: string, name: string, state: string): void {
    const group = this.groups.get(`${serverId.toLowerCase()}/failovergroups/${name}`);
    if (group) group.replicationState = state;
  }

  /** The next failover asked of this server is accepted, then its operation ends Failed. */
  failNextFailover(serverId: string, failure = { code: "FailoverGroupFailoverFailed", message: "The failover of the failover group failed." }): void {
    this.failures.set(serverId.toLowerCase(), failure);
  }

  /** The group as seen from a server: its role there. */
  role(serverId: string, name: string): string | undefined {
    this.settle();
    return this.groups.get(`${serverId.toLowerCase()}/failovergroups/${name}`)?.servers.get(serverId.toLowerCase())?.role;
  }

  private view(serverId: string, group: Group): Record<string, unknown> {
    const self = group.servers.get(serverId.toLowerCase())!;
    const partners = [...group.servers.values()].filter((s) => s !== self);
    return {
      id: `${self.id}/failoverGroups/${group.name}`,
      name: group.name,
      type: "Microsoft.Sql/servers/failoverGroups",
      location: self.location,
      properties: {
        readWriteEndpoint: { failoverPolicy: "Manual" },
        readOnlyEndpoint: { failoverPolicy: "Disabled" },
        replicationRole: self.role,
        replicationState: group.replicationState,
        partnerServers: partners.map((p) => ({ id: p.id, location: p.location, replicationRole: p.role })),
        databases: [],
      },
    };
  }

  settle(): void {
    const now = this.now();
    for (const op of this.operations.values()) {
      if (op.status !== "InProgress" || now < op.started + this.operationMs) continue;
      op.endTime = new Date(op.started + this.operationMs).toISOString();
      const oldPrimary = [...op.group.servers.keys()].find((id) => id !== op.newPrimary)!;
      if (!op.fails && !op.forced && this.unreachable.has(oldPrimary))
        op.fails = { code: "FailoverGroupFailoverFailed", message: "The planned failover could not reach the current primary server; a forced failover (data loss allowed) is needed." };
      if (op.fails) {
        op.status = "Failed";
        continue;
      }
      op.status = "Succeeded";
      for (const [id, s] of op.group.servers) s.role = id === op.newPrimary ? "Primary" : "Secondary";
    }
  }

  /** GET of a server's view of a group (`serverPath` the server's ID). */
  get(serverPath: string, name: string): Answer {
    this.settle();
    if (this.unreachable.has(serverPath.toLowerCase())) return error(503, "ServiceUnavailable", `The server '${last(serverPath)}' is not reachable.`);
    const group = this.groups.get(`${serverPath.toLowerCase()}/failovergroups/${name.toLowerCase()}`);
    if (!group) return error(404, "ResourceNotFound", `The requested resource of type 'Microsoft.Sql/servers/failoverGroups' with name '${name}' was not found.`);
    return { status: 200, body: this.view(serverPath, group) };
  }

  /** POST failover or forceFailoverAllowDataLoss, asked of the server that is to become primary. */
  failover(serverPath: string, name: string, forced: boolean): Answer {
    this.settle();
    const group = this.groups.get(`${serverPath.toLowerCase()}/failovergroups/${name.toLowerCase()}`);
    if (!group) return error(404, "ResourceNotFound", `The requested resource of type 'Microsoft.Sql/servers/failoverGroups' with name '${name}' was not found.`);
    const self = group.servers.get(serverPath.toLowerCase())!;
    if ([...this.operations.values()].some((op) => op.group === group && op.status === "InProgress"))
      return error(409, "FailoverGroupBusy", `A failover of the failover group '${name}' is already in progress.`);
    const id = randomUUID();
    const fails = this.failures.get(serverPath.toLowerCase());
    this.failures.delete(serverPath.toLowerCase());
    const now = this.now();
    this.operations.set(id, {
      group,
      newPrimary: serverPath.toLowerCase(),
      started: now,
      startTime: new Date(now).toISOString(),
      location: self.location,
      forced,
      ...(fails ? { fails } : {}),
      status: "InProgress",
    });
    const subscription = serverPath.split("/")[2];
    return accepted(
      `${this.endpoint()}/subscriptions/${subscription}/providers/Microsoft.Sql/locations/${self.location}`,
      "failoverGroupAzureAsyncOperation",
      "failoverGroupOperationResults",
      id,
      SQL_API_VERSION,
    );
  }

  /** The operation's status (Azure-AsyncOperation), or its result (Location): the group as the new primary sees it. */
  operation(path: string): Answer {
    this.settle();
    const op = this.operations.get(last(path));
    return operationAnswer(path, /failovergroupoperationresults/i.test(path), op, this.endpoint(), SQL_API_VERSION, () => ({
      status: 200,
      body: this.view(op!.group.servers.get(op!.newPrimary)!.id, op!.group),
    }));
  }
}
