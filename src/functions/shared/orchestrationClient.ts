import type { DurableClient } from "durable-functions";
import { ORCHESTRATOR_NAME, instanceIdFor, shouldStart } from "../../core/orchestrationContract";

/** Durable client helpers shared by the start and status endpoints and the watchdog. Not an entry point. */

export interface InstanceInfo {
  readonly instance_id: string;
  readonly runtime_status?: string;
  readonly custom_status?: unknown;
  readonly created_time?: string;
  readonly last_updated_time?: string;
}

/** The instance's status, or undefined when it does not exist (v3 getStatus throws on 404). */
export async function instanceStatus(client: DurableClient, group: string): Promise<InstanceInfo> {
  const instanceId = instanceIdFor(group);
  try {
    const status = await client.getStatus(instanceId);
    return {
      instance_id: instanceId,
      runtime_status: status.runtimeStatus,
      custom_status: status.customStatus,
      created_time: status.createdTime.toISOString(),
      last_updated_time: status.lastUpdatedTime.toISOString(),
    };
  } catch (err) {
    if (err instanceof Error && /HTTP 404/.test(err.message)) return { instance_id: instanceId };
    throw err;
  }
}

/** Starts the group's singleton unless it is alive; returns whether it started one. */
export async function ensureOrchestration(client: DurableClient, group: string, intervalSeconds: number): Promise<{ started: boolean; instance: InstanceInfo }> {
  const instance = await instanceStatus(client, group);
  if (!shouldStart(instance.runtime_status)) return { started: false, instance };
  await client.startNew(ORCHESTRATOR_NAME, { instanceId: instance.instance_id, input: { group, interval_seconds: intervalSeconds } });
  return { started: true, instance };
}
