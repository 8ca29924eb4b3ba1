import { randomUUID } from "node:crypto";
import { API_VERSIONS, error, last, type Answer, type Resource } from "./armResources";
import type { ServingLog } from "./servingLog";

/**
 * Front Door origins' long-running updates in the stand-in (Microsoft.Cdn 2024-02-01,
 * AFDOrigins_Update): a PATCH answers 202 with Azure-AsyncOperation, and the origin reads the new
 * values with provisioningState Updating until its operation ends, `operationMs` later.
 * Succeeded: deploymentStatus goes NotStarted -> InProgress -> Succeeded over the deployment
 * time, after which the edge serves the change. Failed (failNextUpdate): the origin's values go
 * back to what they were, provisioningState Failed, nothing is deployed, and the operation's
 * status is Failed with its error, as the async-operations document of ARM describes.
 */

interface Operation {
  readonly resourceId: string;
  readonly startTime: string;
  readonly started: number;
  /** The origin's values and deployment before the write, restored when the operation fails. */
  readonly before: Record<string, unknown>;
  readonly beforeDeployedAt: number | undefined;
  readonly fails?: { readonly code: string; readonly message: string };
  status: "InProgress" | "Succeeded" | "Failed";
  endTime?: string;
}

interface World {
  readonly now: () => number;
  readonly deploymentMs: number;
  readonly operationMs: number;
  readonly endpoint: () => string;
  readonly serving: ServingLog;
  find(id: string): Resource | undefined;
  view(r: Resource): Record<string, unknown>;
  recordServing(r: Resource, at: number): void;
}

export class FrontDoorOrigins {
  private readonly operations = new Map<string, Operation>();
  private readonly failures = new Map<string, { code: string; message: string }>();

  constructor(private readonly world: World) {}

  failNextUpdate(originId: string, failure = { code: "InternalServerError", message: "The origin update failed during deployment." }): void {
    this.failures.set(originId.toLowerCase(), failure);
  }

  deploymentStatus(r: Resource): string {
    if (r.deployedAt === undefined) return "Succeeded";
    const elapsed = this.world.now() - r.deployedAt;
    return elapsed < this.world.deploymentMs / 4 ? "NotStarted" : elapsed < this.world.deploymentMs ? "InProgress" : "Succeeded";
  }

  patch(r: Resource, properties: Record<string, unknown>): Answer {
    const state = properties.enabledState;
    if (state !== undefined && state !== "Enabled" && state !== "Disabled") return error(400, "BadRequest", `The value '${String(state)}' of enabledState is invalid: Enabled or Disabled.`);
    const priority = properties.priority;
    if (priority !== undefined && (typeof priority !== "number" || !Number.isInteger(priority) || priority < 1 || priority > 5))
      return error(400, "BadRequest", "priority must be an integer from 1 to 5.");
    const now = this.world.now();
    const fails = this.failures.get(r.id.toLowerCase());
    this.failures.delete(r.id.toLowerCase());
    const operationId = randomUUID();
    this.operations.set(operationId, {
      resourceId: r.id,
      started: now,
      startTime: new Date(now).toISOString(),
      before: { ...r.properties },
      beforeDeployedAt: r.deployedAt,
      ...(fails ? { fails } : {}),
      status: "InProgress",
    });
    Object.assign(r.properties, properties, { provisioningState: "Updating" });
    r.deployedAt = now;
    this.world.recordServing(r, now);
    const subscription = r.id.split("/")[2];
    const poll = `${this.world.endpoint()}/subscriptions/${subscription}/providers/Microsoft.Cdn/operationresults/${operationId}?api-version=${API_VERSIONS.cdn}`;
    return { status: 202, body: this.world.view(r), headers: { "azure-asyncoperation": poll, location: poll, "retry-after": "1" } };
  }

  /** Ends every operation whose time has come: Succeeded (deployed after the deployment time) or Failed (the origin restored). */
  settle(): void {
    const now = this.world.now();
    for (const operation of this.operations.values()) {
      if (operation.status !== "InProgress" || now < operation.started + this.world.operationMs) continue;
      const at = operation.started + this.world.operationMs;
      operation.status = operation.fails ? "Failed" : "Succeeded";
      operation.endTime = new Date(at).toISOString();
      const r = this.world.find(operation.resourceId);
      if (!r) continue;
      if (operation.fails) {
        r.properties = { ...operation.before, provisioningState: "Failed" };
        r.deployedAt = operation.beforeDeployedAt;
        this.world.recordServing(r, at);
      } else {
        r.properties.provisioningState = "Succeeded";
        this.world.serving.record(operation.started + this.world.deploymentMs, r.id, "deployed", r.properties.enabledState === "Enabled");
      }
    }
  }

  operationResult(path: string): Answer {
    const id = last(path);
    const operation = this.operations.get(id);
    if (!operation) return error(404, "NotFound", `Operation ${id} not found.`);
    const done = operation.status !== "InProgress";
    const failure = operation.status === "Failed" && operation.fails ? { error: { code: operation.fails.code, message: operation.fails.message } } : {};
    return {
      status: 200,
      body: { name: id, status: operation.status, startTime: operation.startTime, ...(operation.endTime ? { endTime: operation.endTime } : {}), ...failure },
      headers: done ? {} : { "retry-after": "1" },
    };
  }
}
