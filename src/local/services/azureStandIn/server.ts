import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { createTestCertificates } from "./certificates";
import { handleAppConfiguration, type KeyValue } from "./appConfiguration";
import { ArmResources, type ArmRequest, type Answer } from "./armResources";
import { CUSTOM_ENDPOINT_WRITER, ROLES, assignmentsGrant, type RoleAssignment } from "./roles";

/**
 * A local stand-in of the parts of Azure Resource Manager and of App Configuration that the
 * switch steps use, served over HTTPS on 127.0.0.1 with a test CA. It follows the REST
 * specifications of exactly those operations (see armResources.ts and appConfiguration.ts):
 * api-versions, shapes, ETags and 412, Front Door's long-running update (which can end Failed),
 * 403 AuthorizationFailed from role assignments (the permissions API included), 409
 * ScopeLocked from resource locks, 404, and, through fault injection, 429 with Retry-After,
 * 5xx, and calls that never answer. It logs every request so tests can assert order, count and
 * idempotency.
 */

export interface LoggedRequest {
  /** When the request arrived (ms since the epoch). */
  readonly at: number;
  readonly method: string;
  /** Path without the query, as sent. */
  readonly path: string;
  readonly apiVersion: string | null;
  readonly ifMatch: string | null;
  readonly body: unknown;
  readonly status: number;
}

export interface Fault {
  readonly method?: string;
  /** Case-insensitive substring of the path. */
  readonly pathIncludes?: string;
  /** The answer's status; ignored with `hang`. */
  readonly status?: number;
  /** Never answer: the request is held open until the stand-in stops (a call that hangs). */
  readonly hang?: boolean;
  /** Active until this time (ms since the epoch, on the stand-in's clock), however many matches: a storm. */
  readonly until?: number;
  readonly code?: string;
  readonly message?: string;
  readonly retryAfterSeconds?: number;
  /** How many matching requests fail (default 1). */
  times?: number;
  /** How many matching requests pass before the fault starts (default 0). */
  skip?: number;
}

export interface StandInOptions {
  /** Time source for Front Door deployments (virtual time in tests); Date.now by default. */
  readonly now?: () => number;
  /** How long a Front Door origin write stays deploying (deploymentStatus), default 3000 ms. */
  readonly frontDoorDeploymentMs?: number;
  /** How long a Front Door origin update's long-running operation runs before it ends, default 0 (at the first look). */
  readonly frontDoorOperationMs?: number;
  /** The App Configuration store's resource ID, the scope of its data actions. */
  readonly appConfigurationStoreId?: string;
}

export const STAND_IN_PRINCIPAL = "00000000-0000-0000-0000-0000000000a1";

export class AzureStandIn {
  readonly log: LoggedRequest[] = [];
  readonly faults: Fault[] = [];
  readonly roleAssignments: RoleAssignment[] = [];
  /** Scopes with a resource lock (CanNotDelete or ReadOnly): a write under one answers 409 ScopeLocked. */
  readonly locks = new Set<string>();
  /** Awaited before a request is answered: lets a test change the world (or the row) while a call is in flight. */
  onRequest?: (method: string, path: string) => Promise<void>;
  readonly keyValues = new Map<string, KeyValue>();
  readonly resources: ArmResources;
  private server?: Server;
  private url = "";
  caPem = "";

  constructor(private readonly options: StandInOptions = {}) {
    this.resources = new ArmResources(options.now ?? Date.now, options.frontDoorDeploymentMs ?? 3000, () => this.url, options.frontDoorOperationMs ?? 0);
  }

  get endpoint(): string {
    return this.url;
  }

  /** The app settings that point the switch steps at this stand-in: ARM endpoint and audience, its CA, its App Configuration host. */
  appSettings(): Record<string, string> {
    return { ARM_ENDPOINT: this.url, ARM_AUDIENCE: `${this.url}/.default`, SWITCH_EXTRA_CA_PEM: this.caPem, APP_CONFIGURATION_ALLOWED_HOSTS: new URL(this.url).host };
  }

  get appConfigurationStoreId(): string {
    return this.options.appConfigurationStoreId ?? "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.AppConfiguration/configurationStores/standin";
  }

  /** Grants every built-in role the steps need at the subscription scope (what a deployment would do). */
  grantAll(scope = "/subscriptions"): void {
    for (const roleDefinitionId of Object.keys(ROLES)) if (roleDefinitionId !== CUSTOM_ENDPOINT_WRITER) this.roleAssignments.push({ roleDefinitionId, scope });
  }

  revoke(roleDefinitionId: string): void {
    for (let i = this.roleAssignments.length - 1; i >= 0; i--) if (this.roleAssignments[i].roleDefinitionId === roleDefinitionId) this.roleAssignments.splice(i, 1);
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault, times: fault.until !== undefined ? Number.MAX_SAFE_INTEGER : (fault.times ?? 1) });
  }

  /** Puts a resource lock on a scope: every write to it or below it answers 409 ScopeLocked, as ARM does. */
  lock(scope: string): void {
    this.locks.add(scope.toLowerCase());
  }

  unlock(scope: string): void {
    this.locks.delete(scope.toLowerCase());
  }

  /** Logged writes (PUT, PATCH, POST, DELETE), in order. */
  writes(): LoggedRequest[] {
    return this.log.filter((r) => r.method !== "GET" && r.method !== "HEAD");
  }

  async start(): Promise<void> {
    const certs = createTestCertificates();
    this.caPem = certs.caPem;
    const server = createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const arrived = Date.now();
        // The test's hook runs first (it may hold the request); a hook that throws is ignored.
        const hook = this.onRequest?.(req.method ?? "GET", new URL(req.url ?? "/", "https://127.0.0.1").pathname).catch(() => undefined) ?? Promise.resolve();
        void hook.then(() => {
          const answer = this.handle(arrived, req.method ?? "GET", req.url ?? "/", req.headers as Record<string, string | undefined>, Buffer.concat(chunks).toString("utf8"));
          if (answer === "hang") return; // held open: closed when the stand-in stops
          res.writeHead(answer.status, { "content-type": "application/json; charset=utf-8", "x-ms-request-id": randomUUID(), ...answer.headers });
          res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
        });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    this.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(arrived: number, method: string, rawUrl: string, headers: Record<string, string | undefined>, text: string): Answer | "hang" {
    const url = new URL(rawUrl, "https://127.0.0.1");
    let body: unknown = undefined;
    let answer: Answer | "hang";
    try {
      body = text ? JSON.parse(text) : undefined;
      // An empty path segment is not a resource path: the client must send the canonical ID.
      answer = url.pathname.includes("//")
        ? armError(400, "InvalidRequestUri", `The request URI '${url.pathname}' has an empty segment.`)
        : this.answer({ method, path: decodeURIComponent(url.pathname), query: url.searchParams, headers, body });
    } catch (err) {
      answer =
        err instanceof SyntaxError
          ? armError(400, "InvalidRequestContent", `The request content was invalid and could not be deserialized: ${err.message}`)
          : armError(500, "InternalServerError", String(err));
    }
    this.log.push({
      at: arrived,
      method,
      path: url.pathname,
      apiVersion: url.searchParams.get("api-version"),
      ifMatch: headers["if-match"] ?? null,
      body,
      status: answer === "hang" ? 0 : answer.status,
    });
    return answer;
  }

  private answer(request: ArmRequest): Answer | "hang" {
    const now = (this.options.now ?? Date.now)();
    let fault = this.faults.find(
      (f) =>
        (!f.method || f.method === request.method) &&
        (!f.pathIncludes || request.path.toLowerCase().includes(f.pathIncludes.toLowerCase())) &&
        (f.times ?? 0) > 0 &&
        (f.until === undefined || now < f.until),
    );
    if (fault && (fault.skip ?? 0) > 0) {
      fault.skip = fault.skip! - 1;
      fault = undefined;
    }
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.hang) return "hang";
      const status = fault.status ?? 500;
      const answer = armError(status, fault.code ?? defaultCode(status), fault.message ?? `Injected fault: ${status}`);
      return fault.retryAfterSeconds === undefined ? answer : { ...answer, headers: { ...answer.headers, "retry-after": String(fault.retryAfterSeconds) } };
    }
    const auth = request.headers.authorization ?? "";
    if (!/^Bearer \S+$/.test(auth)) {
      return {
        ...armError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing or not a Bearer token."),
        headers: { "www-authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", error="invalid_token"' },
      };
    }
    const authorize = (resourceId: string, action: string, data = false): Answer | undefined =>
      assignmentsGrant(this.roleAssignments, resourceId, action, data)
        ? undefined
        : armError(
            403,
            "AuthorizationFailed",
            `The client '${STAND_IN_PRINCIPAL}' with object id '${STAND_IN_PRINCIPAL}' does not have authorization to perform action '${action}' over scope '${resourceId}' or the scope is invalid. If access was recently granted, please refresh your credentials.`,
          );
    if (request.path.startsWith("/kv/") || request.path === "/kv") {
      return handleAppConfiguration(request, this.keyValues, (action) => authorize(this.appConfigurationStoreId, action, true));
    }
    return this.resources.handle(request, (resourceId, action) => authorize(resourceId, action), this.roleAssignments, this.locks);
  }
}

function defaultCode(status: number): string {
  if (status === 429) return "TooManyRequests";
  if (status === 503) return "ServiceUnavailable";
  if (status >= 500) return "InternalServerError";
  return "BadRequest";
}

export function armError(status: number, code: string, message: string): Answer {
  return { status, body: { error: { code, message } } };
}

/** Starts a stand-in with every role granted. */
export async function startAzureStandIn(options: StandInOptions = {}): Promise<AzureStandIn> {
  const standIn = new AzureStandIn(options);
  standIn.grantAll();
  await standIn.start();
  return standIn;
}
