import { randomUUID } from "node:crypto";
import { scopeContains, ROLES, type RoleAssignment } from "./roles";
import { FrontDoorOrigins } from "./frontDoorOrigins";
import { ServingLog } from "./servingLog";
import { SQL_API_VERSION, SqlFailoverGroups } from "./sqlFailoverGroups";
import { COSMOS_API_VERSION, CosmosAccounts } from "./cosmosAccounts";
import { STORAGE_API_VERSION, StorageAccounts } from "./storageAccounts";

/**
 * The ARM resources of the stand-in and their REST operations, as the specifications in
 * azure-rest-api-specs describe them:
 * - Traffic Manager (Microsoft.Network, 2022-04-01): GET profile, GET and PATCH endpoint.
 * - Azure DNS (Microsoft.Network, 2018-05-01): GET zone, GET and PUT record set (A, CNAME) with
 *   If-Match / If-None-Match and 412 PreconditionFailed. A PUT replaces the whole record set
 *   (TTL, metadata, every record, targetResource) with what it carries, as the service does; an
 *   alias record set (targetResource) holds no records of its own.
 * - Front Door Standard/Premium (Microsoft.Cdn, 2024-02-01): GET profile, GET origin, PATCH
 *   origin as a long-running operation that can end Failed (frontDoorOrigins.ts).
 * - Azure SQL failover groups (Microsoft.Sql, 2020-11-01-preview): GET of a server's view of a
 *   group, POST failover and forceFailoverAllowDataLoss as long-running operations that can end
 *   Failed (sqlFailoverGroups.ts).
 * - Azure Cosmos DB accounts (Microsoft.DocumentDB, 2025-10-15): GET account, POST
 *   failoverPriorityChange as a long-running operation that can end Failed (cosmosAccounts.ts).
 * - Azure Storage accounts (Microsoft.Storage, 2024-01-01): GET with geoReplicationStats, POST
 *   failover (planned or unplanned) as a long-running operation that can end Failed (storageAccounts.ts).
 * - Permissions (Microsoft.Authorization, 2022-04-01): GET {scope}/providers/Microsoft.Authorization/permissions,
 *   which itself needs Microsoft.Authorization/permissions/read on the scope.
 * - Resource locks: a write under a locked scope answers 409 ScopeLocked (after authorization).
 * Paths compare case-insensitively, as ARM does.
 */

export interface ArmRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: Record<string, string | undefined>;
  readonly body: unknown;
}

export interface Answer {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

type Authorize = (resourceId: string, action: string) => Answer | undefined;

export interface Resource {
  id: string;
  name: string;
  type: string;
  etag?: string;
  properties: Record<string, unknown>;
  /** Front Door: when the last successful write was made (deploymentStatus follows from it). */
  deployedAt?: number;
}

export const API_VERSIONS = {
  network: "2022-04-01",
  dns: "2018-05-01",
  cdn: "2024-02-01",
  authorization: "2022-04-01",
  sql: SQL_API_VERSION,
  cosmos: COSMOS_API_VERSION,
  storage: STORAGE_API_VERSION,
} as const;
const RG = "/subscriptions/[^/]+/resourcegroups/[^/]+/providers";
const ROUTES: ReadonlyArray<{ kind: string; pattern: RegExp; api: string }> = [
  { kind: "permissions", pattern: /^(.*)\/providers\/microsoft\.authorization\/permissions$/i, api: API_VERSIONS.authorization },
  { kind: "tmProfile", pattern: new RegExp(`^${RG}/microsoft\\.network/trafficmanagerprofiles/[^/]+$`, "i"), api: API_VERSIONS.network },
  { kind: "tmEndpoint", pattern: new RegExp(`^${RG}/microsoft\\.network/trafficmanagerprofiles/[^/]+/(azureendpoints|externalendpoints|nestedendpoints)/[^/]+$`, "i"), api: API_VERSIONS.network },
  { kind: "dnsZone", pattern: new RegExp(`^${RG}/microsoft\\.network/dnszones/[^/]+$`, "i"), api: API_VERSIONS.dns },
  { kind: "dnsRecordSet", pattern: new RegExp(`^${RG}/microsoft\\.network/dnszones/[^/]+/(a|cname)/[^/]+$`, "i"), api: API_VERSIONS.dns },
  { kind: "afdProfile", pattern: new RegExp(`^${RG}/microsoft\\.cdn/profiles/[^/]+$`, "i"), api: API_VERSIONS.cdn },
  { kind: "afdOrigin", pattern: new RegExp(`^${RG}/microsoft\\.cdn/profiles/[^/]+/origingroups/[^/]+/origins/[^/]+$`, "i"), api: API_VERSIONS.cdn },
  { kind: "afdOperation", pattern: /^\/subscriptions\/[^/]+\/providers\/microsoft\.cdn\/operationresults\/[^/]+$/i, api: API_VERSIONS.cdn },
  { kind: "sqlFailoverGroup", pattern: new RegExp(`^${RG}/microsoft\\.sql/servers/[^/]+/failovergroups/[^/]+$`, "i"), api: API_VERSIONS.sql },
  { kind: "sqlFailover", pattern: new RegExp(`^${RG}/microsoft\\.sql/servers/[^/]+/failovergroups/[^/]+/(failover|forcefailoverallowdataloss)$`, "i"), api: API_VERSIONS.sql },
  { kind: "cosmosAccount", pattern: new RegExp(`^${RG}/microsoft\\.documentdb/databaseaccounts/[^/]+$`, "i"), api: API_VERSIONS.cosmos },
  { kind: "cosmosChange", pattern: new RegExp(`^${RG}/microsoft\\.documentdb/databaseaccounts/[^/]+/failoverprioritychange$`, "i"), api: API_VERSIONS.cosmos },
  { kind: "cosmosOperation", pattern: /^\/subscriptions\/[^/]+\/providers\/microsoft\.documentdb\/locations\/[^/]+\/(operationsstatus|operationresults)\/[^/]+$/i, api: API_VERSIONS.cosmos },
  { kind: "storageAccount", pattern: new RegExp(`^${RG}/microsoft\\.storage/storageaccounts/[^/]+$`, "i"), api: API_VERSIONS.storage },
  { kind: "storageFailover", pattern: new RegExp(`^${RG}/microsoft\\.storage/storageaccounts/[^/]+/failover$`, "i"), api: API_VERSIONS.storage },
  { kind: "storageOperation", pattern: /^\/subscriptions\/[^/]+\/providers\/microsoft\.storage\/locations\/[^/]+\/(asyncoperations|operationresults)\/[^/]+$/i, api: API_VERSIONS.storage },
  {
    kind: "sqlOperation",
    pattern: /^\/subscriptions\/[^/]+\/providers\/microsoft\.sql\/locations\/[^/]+\/(failovergroupazureasyncoperation|failovergroupoperationresults)\/[^/]+$/i,
    api: API_VERSIONS.sql,
  },
];

export function error(status: number, code: string, message: string): Answer {
  return { status, body: { error: { code, message } } };
}

export function last(id: string): string {
  return id.slice(id.lastIndexOf("/") + 1);
}

export class ArmResources {
  private readonly resources = new Map<string, Resource>();
  readonly serving = new ServingLog();
  private readonly frontDoor: FrontDoorOrigins;
  /** Azure SQL failover groups, as each of their servers sees them. */
  readonly sql: SqlFailoverGroups;
  /** Azure Cosmos DB accounts and their write region. */
  readonly cosmos: CosmosAccounts;
  /** Azure Storage accounts and their primary location. */
  readonly storage: StorageAccounts;

  constructor(
    private readonly now: () => number,
    deploymentMs: number,
    endpoint: () => string,
    /** How long a Front Door origin update's operation runs before it ends. */
    operationMs = 0,
  ) {
    this.sql = new SqlFailoverGroups(now, endpoint, operationMs);
    this.cosmos = new CosmosAccounts(now, endpoint, operationMs);
    this.storage = new StorageAccounts(now, endpoint, operationMs);
    this.frontDoor = new FrontDoorOrigins({
      now,
      deploymentMs,
      operationMs,
      endpoint,
      serving: this.serving,
      find: (id) => this.resources.get(id.toLowerCase()),
      view: (r) => this.view(r),
      recordServing: (r, at) => this.recordServing(r, at),
    });
  }

  /** The next update of this Front Door origin is accepted (202), then its operation ends Failed and the origin is left as it was. */
  failNextUpdate(originId: string, failure?: { code: string; message: string }): void {
    this.frontDoor.failNextUpdate(originId, failure);
  }

  // ---- seeding, for tests and the demo ----

  addTrafficManagerProfile(
    profileId: string,
    options: { ttl?: number; endpoints: ReadonlyArray<{ type?: string; name: string; target: string; status: "Enabled" | "Disabled"; priority: number }> },
  ): void {
    this.put({
      id: profileId,
      name: last(profileId),
      type: "Microsoft.Network/trafficManagerProfiles",
      properties: {
        profileStatus: "Enabled",
        trafficRoutingMethod: "Priority",
        dnsConfig: { relativeName: last(profileId), fqdn: `${last(profileId)}.trafficmanager.net`, ttl: options.ttl ?? 60 },
        monitorConfig: { protocol: "HTTPS", port: 443, path: "/health", intervalInSeconds: 30, timeoutInSeconds: 10, toleratedNumberOfFailures: 3 },
      },
    });
    for (const e of options.endpoints) {
      const type = e.type ?? "ExternalEndpoints";
      const id = `${profileId}/${type}/${e.name}`;
      this.put({
        id,
        name: e.name,
        type: `Microsoft.Network/trafficManagerProfiles/${type[0].toLowerCase()}${type.slice(1)}`,
        properties: { target: e.target, endpointStatus: e.status, endpointMonitorStatus: e.status === "Enabled" ? "Online" : "Disabled", priority: e.priority, weight: 1, alwaysServe: "Disabled" },
      });
      this.serving.record(this.now(), id, "control", e.status === "Enabled");
    }
  }

  addDnsZone(zoneId: string, nameServers = ["ns1-01.azure-dns.com.", "ns2-01.azure-dns.net."]): void {
    this.put({
      id: zoneId,
      name: last(zoneId),
      type: "Microsoft.Network/dnszones",
      etag: randomUUID(),
      properties: { maxNumberOfRecordSets: 10000, numberOfRecordSets: 2, nameServers, zoneType: "Public" },
    });
  }

  /** A record set: one value, or for A several addresses; optionally metadata, or an alias (targetResource) with no records. */
  addRecordSet(zoneId: string, type: "A" | "CNAME", name: string, ttl: number, value: string | readonly string[], options: { metadata?: Record<string, string>; targetResource?: string } = {}): void {
    const values = typeof value === "string" ? [value] : value;
    const record = options.targetResource ? {} : type === "CNAME" ? { CNAMERecord: { cname: values[0] } } : { ARecords: values.map((ipv4Address) => ({ ipv4Address })) };
    this.put({
      id: `${zoneId}/${type}/${name}`,
      name,
      type: `Microsoft.Network/dnszones/${type}`,
      etag: randomUUID(),
      properties: {
        TTL: ttl,
        fqdn: `${name}.${last(zoneId)}.`,
        provisioningState: "Succeeded",
        ...(options.metadata ? { metadata: options.metadata } : {}),
        ...(options.targetResource ? { targetResource: { id: options.targetResource } } : {}),
        ...record,
      },
    });
  }

  addFrontDoorOrigin(profileId: string, originGroup: string, name: string, options: { hostName: string; enabledState: "Enabled" | "Disabled"; priority: number }): void {
    this.put({ id: profileId, name: last(profileId), type: "Microsoft.Cdn/profiles", properties: { provisioningState: "Succeeded", resourceState: "Active" } });
    const id = `${profileId}/originGroups/${originGroup}/origins/${name}`;
    this.put({
      id,
      name,
      type: "Microsoft.Cdn/profiles/origingroups/origins",
      properties: {
        originGroupName: originGroup,
        hostName: options.hostName,
        httpPort: 80,
        httpsPort: 443,
        originHostHeader: options.hostName,
        priority: options.priority,
        weight: 1000,
        enabledState: options.enabledState,
        enforceCertificateNameCheck: true,
        provisioningState: "Succeeded",
      },
    });
    this.serving.record(this.now(), id, "control", options.enabledState === "Enabled");
    this.serving.record(this.now(), id, "deployed", options.enabledState === "Enabled");
  }

  /** The resource as a GET would answer it, or undefined. */
  get(id: string): Record<string, unknown> | undefined {
    this.frontDoor.settle();
    const r = this.resources.get(id.toLowerCase());
    return r ? this.view(r) : undefined;
  }

  /** Changes a resource's properties behind the controller's back (drift by hand). */
  edit(id: string, properties: Record<string, unknown>): void {
    const r = this.resources.get(id.toLowerCase());
    if (!r) throw new Error(`stand-in: no resource ${id}`);
    Object.assign(r.properties, properties);
    if (r.etag) r.etag = randomUUID();
    this.recordServing(r, this.now());
  }

  private recordServing(r: Resource, at: number): void {
    if (r.type.startsWith("Microsoft.Network/trafficManagerProfiles/")) this.serving.record(at, r.id, "control", r.properties.endpointStatus === "Enabled");
    if (r.type === "Microsoft.Cdn/profiles/origingroups/origins") this.serving.record(at, r.id, "control", r.properties.enabledState === "Enabled");
  }

  private put(resource: Resource): void {
    this.resources.set(resource.id.toLowerCase(), resource);
  }

  private view(r: Resource): Record<string, unknown> {
    const properties = { ...r.properties };
    if (r.type === "Microsoft.Network/trafficManagerProfiles") {
      properties.endpoints = [...this.resources.values()].filter((e) => e.id.toLowerCase().startsWith(`${r.id.toLowerCase()}/`)).map((e) => this.view(e));
    }
    if (r.type === "Microsoft.Cdn/profiles/origingroups/origins") properties.deploymentStatus = this.frontDoor.deploymentStatus(r);
    return {
      id: r.id,
      name: r.name,
      type: r.type,
      ...(r.etag ? { etag: r.etag } : {}),
      ...(r.type.includes("trafficManagerProfiles") && !r.type.includes("/") ? { location: "global" } : {}),
      properties,
    };
  }

  // ---- REST ----

  handle(request: ArmRequest, authorize: Authorize, assignments: readonly RoleAssignment[], locks: ReadonlySet<string>): Answer {
    const route = ROUTES.find((r) => r.pattern.test(request.path));
    if (!route) return error(404, "InvalidResourceType", `The resource type could not be found for path '${request.path}'.`);
    const apiVersion = request.query.get("api-version");
    if (apiVersion === null) return error(400, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.");
    if (apiVersion !== route.api) return error(400, "InvalidApiVersionParameter", `The api-version '${apiVersion}' is invalid. The supported versions are '${route.api}'.`);
    this.frontDoor.settle();
    if (route.kind === "permissions") {
      const scope = route.pattern.exec(request.path)![1];
      if (request.method !== "GET") return error(405, "MethodNotAllowed", "Only GET is supported.");
      const refused = authorize(scope, "Microsoft.Authorization/permissions/read");
      if (refused) return refused;
      const value = assignments
        .filter((a) => scopeContains(a.scope, scope) && ROLES[a.roleDefinitionId])
        .map((a) => ({ actions: ROLES[a.roleDefinitionId].actions, notActions: [], dataActions: ROLES[a.roleDefinitionId].dataActions, notDataActions: [] }));
      return { status: 200, body: { value } };
    }
    if (route.kind === "afdOperation") return this.frontDoor.operationResult(request.path);
    if (route.kind === "sqlOperation") return this.sql.operation(request.path);
    if (route.kind === "cosmosOperation") return this.cosmos.operation(request.path);
    if (route.kind === "storageOperation") return this.storage.operation(request.path);
    const resource = this.resources.get(request.path.toLowerCase());
    const action = `${resourceType(request.path)}/${request.method === "GET" ? "read" : request.method === "POST" ? "action" : "write"}`;
    const denied = authorize(request.path, action);
    if (denied) return denied;
    const lock = request.method !== "GET" ? [...locks].find((scope) => scopeContains(scope, request.path)) : undefined;
    if (lock)
      return error(
        409,
        "ScopeLocked",
        `The scope '${request.path}' cannot perform ${request.method === "DELETE" ? "delete" : "write"} operation because following scope(s) are locked: '${lock}'. Please remove the lock and try again.`,
      );
    if (route.kind === "storageAccount")
      return request.method === "GET"
        ? this.storage.get(request.path, request.query.get("$expand") === "geoReplicationStats")
        : error(405, "MethodNotAllowed", `${request.method} is not supported here by the stand-in.`);
    if (route.kind === "storageFailover")
      return request.method === "POST"
        ? this.storage.failover(request.path.split("/").slice(0, 9).join("/"), request.query.get("failoverType"))
        : error(405, "MethodNotAllowed", "Only POST is supported.");
    if (route.kind === "cosmosAccount") return request.method === "GET" ? this.cosmos.get(request.path) : error(405, "MethodNotAllowed", `${request.method} is not supported here by the stand-in.`);
    if (route.kind === "cosmosChange")
      return request.method === "POST" ? this.cosmos.change(request.path.split("/").slice(0, 9).join("/"), request.body) : error(405, "MethodNotAllowed", "Only POST is supported.");
    if (route.kind === "sqlFailoverGroup" || route.kind === "sqlFailover") {
      const segments = request.path.split("/");
      const serverPath = segments.slice(0, 9).join("/");
      if (route.kind === "sqlFailoverGroup")
        return request.method === "GET" ? this.sql.get(serverPath, segments[10]) : error(405, "MethodNotAllowed", `${request.method} is not supported here by the stand-in.`);
      return request.method === "POST" ? this.sql.failover(serverPath, segments[10], /force/i.test(segments[11])) : error(405, "MethodNotAllowed", "Only POST is supported.");
    }
    const zoneId = request.path.split("/").slice(0, 9).join("/");
    if (route.kind === "dnsRecordSet" && !this.resources.has(zoneId.toLowerCase()))
      return error(404, "ParentResourceNotFound", `Can not perform requested operation on nested resource. Parent resource '${last(zoneId)}' not found.`);
    if (request.method === "GET") return resource ? { status: 200, body: this.view(resource) } : notFound(route.kind, request.path);
    if (route.kind === "dnsRecordSet" && request.method === "PUT") return this.putRecordSet(request, resource);
    if (request.method !== "PATCH" || !(route.kind === "tmEndpoint" || route.kind === "afdOrigin")) return error(405, "MethodNotAllowed", `${request.method} is not supported here by the stand-in.`);
    if (!resource) return notFound(route.kind, request.path);
    const properties = (request.body as { properties?: Record<string, unknown> } | undefined)?.properties;
    if (!properties || typeof properties !== "object") return error(400, "BadRequest", "The request body must have a 'properties' object.");
    return route.kind === "tmEndpoint" ? this.patchEndpoint(resource, properties) : this.frontDoor.patch(resource, properties);
  }

  private patchEndpoint(r: Resource, properties: Record<string, unknown>): Answer {
    const status = properties.endpointStatus;
    if (status !== undefined && status !== "Enabled" && status !== "Disabled") return error(400, "BadRequest", `The value '${String(status)}' of endpointStatus is invalid: Enabled or Disabled.`);
    Object.assign(r.properties, properties);
    this.recordServing(r, this.now());
    if (status !== undefined) r.properties.endpointMonitorStatus = status === "Enabled" ? "CheckingEndpoint" : "Disabled";
    const answer = { status: 200, body: this.view(r) };
    // Probing finds the endpoint up on its next interval; the stand-in answers Online from the next read.
    if (status === "Enabled") r.properties.endpointMonitorStatus = "Online";
    return answer;
  }

  private putRecordSet(request: ArmRequest, existing: Resource | undefined): Answer {
    const ifMatch = request.headers["if-match"];
    const ifNoneMatch = request.headers["if-none-match"];
    if (ifMatch !== undefined && ifMatch !== "*" && ifMatch !== existing?.etag) {
      return error(412, "PreconditionFailed", `The condition '${ifMatch}' in the If-Match header was not satisfied. The current was '${existing?.etag ?? "n/a"}'.`);
    }
    if (ifMatch === "*" && !existing) return error(412, "PreconditionFailed", "The record set does not exist and If-Match '*' was given.");
    if (ifNoneMatch === "*" && existing) return error(412, "PreconditionFailed", "The record set already exists and If-None-Match '*' was given.");
    const zoneId = request.path.split("/").slice(0, 9).join("/");
    const p = (request.body as { properties?: Record<string, unknown> } | undefined)?.properties;
    const type = request.path.split("/")[9].toUpperCase();
    const name = last(request.path);
    if (!p || typeof p.TTL !== "number") return error(400, "BadRequest", "The record set must have properties.TTL.");
    const alias = (p.targetResource as { id?: string } | undefined)?.id;
    const hasRecords = type === "CNAME" ? Boolean((p.CNAMERecord as { cname?: string } | undefined)?.cname) : Array.isArray(p.ARecords) && p.ARecords.length > 0;
    // An alias record set takes its value from the target resource and holds no records of its own.
    if (alias && hasRecords) return error(400, "BadRequest", `The ${type} record set cannot have both a targetResource and records.`);
    if (!alias && (type === "CNAME" ? !hasRecords : !Array.isArray(p.ARecords)))
      return error(400, "BadRequest", `The ${type} record set has no ${type === "CNAME" ? "CNAMERecord.cname" : "ARecords"}.`);
    const record = alias ? { targetResource: { id: alias } } : type === "CNAME" ? { CNAMERecord: p.CNAMERecord } : { ARecords: p.ARecords };
    // A PUT replaces the whole record set: what it does not carry is gone.
    const metadata = p.metadata && typeof p.metadata === "object" ? { metadata: p.metadata } : {};
    const r: Resource = {
      id: existing?.id ?? request.path,
      name,
      type: `Microsoft.Network/dnszones/${type}`,
      etag: randomUUID(),
      properties: { TTL: p.TTL, fqdn: `${name}.${last(zoneId)}.`, provisioningState: "Succeeded", ...metadata, ...record },
    };
    this.put(r);
    return { status: existing ? 200 : 201, body: this.view(r), headers: { etag: r.etag! } };
  }
}

/** The resource type of an ID, as actions name it: namespace and every type segment. */
function resourceType(id: string): string {
  const [namespace, ...rest] = id.slice(id.lastIndexOf("/providers/") + "/providers/".length).split("/");
  return [namespace, ...rest.filter((_, i) => i % 2 === 0)].join("/");
}

function notFound(kind: string, path: string): Answer {
  if (kind === "dnsRecordSet") return error(404, "NotFound", `The resource record '${last(path)}' does not exist in resource group of subscription.`);
  return error(
    404,
    "ResourceNotFound",
    `The Resource '${path.split("/providers/")[1] ?? path}' under resource group '${path.split("/")[4] ?? ""}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
  );
}
