import type { DurableClient } from "durable-functions";
import { ORCHESTRATOR_NAME, instanceIdFor, shouldResume, shouldStart, type InstanceInfo } from "../../core/orchestrationContract";

/** Durable client helpers shared by the start and status endpoints and the watchdog. Not an entry point. */

/** The instance's status; only `instance_id` when it does not exist (v3 getStatus throws on 404). */
export async function instanceStatus(client: DurableClient, group: string): Promise<InstanceInfo> {
  const instanceId = instanceIdFor(group);
  try {
    const status = await client.getStatus(instanceId);
    const cycle = (status.customStatus ?? {}) as { checked_at?: unknown; next_check_utc?: unknown };
    return {
      instance_id: instanceId,
      runtime_status: status.runtimeStatus,
      custom_status: status.customStatus,
      ...(typeof cycle.checked_at === "string" ? { last_cycle_utc: cycle.checked_at } : {}),
      ...(typeof cycle.next_check_utc === "string" ? { next_check_utc: cycle.next_check_utc } : {}),
      last_updated_time: status.lastUpdatedTime.toISOString(),
    };
  } catch (err) {
    if (err instanceof Error && /HTTP 404/.test(err.message)) return { instance_id: instanceId };
    throw err;
  }
}

/** Resumes the group's singleton when it is Suspended; returns whether it did. */
export async function resumeIfSuspended(client: DurableClient, instance: InstanceInfo, reason: string): Promise<boolean> {
  if (!shouldResume(instance.runtime_status)) return false;
  await client.resume(instance.instance_id, encodeURIComponent(reason));
  return true;
}

/**
 * Replaces a loop that is stuck: terminates it, waits (at most 15 s) until the extension has
 * ended it, and starts it again. A termination still pending after that is left to the next
 * watchdog run, which starts the loop once it has ended.
 */
export async function restartLoop(client: DurableClient, group: string, intervalSeconds: number, reason: string): Promise<boolean> {
  const instanceId = instanceIdFor(group);
  await client.terminate(instanceId, reason);
  for (let waited = 0; waited < 15_000; waited += 250) {
    if (shouldStart((await instanceStatus(client, group)).runtime_status)) return (await ensureOrchestration(client, group, intervalSeconds)).started;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

/**
 * Starts the group's singleton unless it is alive; returns whether it started one. Two callers
 * (the watchdog and POST /api/start) may both find it missing: the extension then refuses the
 * second start of the now-running instance (a 500 from its HTTP API). That is success here:
 * exactly one instance runs.
 */
export async function ensureOrchestration(client: DurableClient, group: string, intervalSeconds: number): Promise<{ started: boolean; instance: InstanceInfo }> {
  const instance = await instanceStatus(client, group);
  if (!shouldStart(instance.runtime_status)) return { started: false, instance };
  try {
    await client.startNew(ORCHESTRATOR_NAME, { instanceId: instance.instance_id, input: { group, interval_seconds: intervalSeconds } });
  } catch (err) {
    const now = await instanceStatus(client, group);
    if (!shouldStart(now.runtime_status)) return { started: false, instance: now };
    throw err;
  }
  return { started: true, instance };
}
