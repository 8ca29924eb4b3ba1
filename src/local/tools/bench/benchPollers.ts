import { TableClient } from "@azure/data-tables";
import { PARTITION_KEY } from "../../../core/state";
import { call, eventually } from "../client";
import { startLocalHost } from "../../host/host";
import type { ExecutionRecord } from "../../host/instances";
import { EventType } from "../../host/replayHistory";
import { startSampleBackend } from "../../services/sampleBackend";

/**
 * The readers benchmark (issue 9): N clients poll GET /api/health_check and GET /api/status as
 * fast as they can while the primary breaks. Readers never write, so the loop should fail over
 * within its bound, as it does with no pollers, and lose no cycle to a write conflict.
 */

export interface PollerSettings {
  readonly intervalSeconds: number;
  readonly failureThreshold: number;
  readonly probeTimeoutMs: number;
}

export interface PollerResult {
  readonly pollers: number;
  readonly polls: number;
  /** Polls answered with anything but 200. */
  readonly pollErrors: number;
  readonly pollLatenciesMs: number[];
  /** From the break to the row's active_target moving to the secondary. */
  readonly detectionSeconds: number;
  /** interval x threshold + probe timeout. */
  readonly boundSeconds: number;
  /** Loop executions from the break to the switch, the switching one included: the threshold, or one more when the break lands while a check is in flight. */
  readonly cycles: number;
  /** Executions since the loop started whose check did not land (failed activity, recorded error, conflict). */
  readonly lostCycles: number;
}

export const POLLER_SETTINGS: PollerSettings = { intervalSeconds: 1, failureThreshold: 3, probeTimeoutMs: 1000 };

function lost(record: ExecutionRecord): boolean {
  return record.history.some((e) => e.EventType === EventType.TaskFailed || (e.EventType === EventType.TaskScheduled && e.Name === "record_check_error"));
}

export async function benchPollers(connectionString: string, pollers: number, settings: PollerSettings = POLLER_SETTINGS): Promise<PollerResult> {
  const primary = await startSampleBackend("primary");
  const secondary = await startSampleBackend("secondary");
  const suffix = Math.random().toString(36).slice(2, 8);
  const tableName = `benchstate${suffix}`;
  const records: ExecutionRecord[] = [];
  const logs: string[] = [];
  const host = await startLocalHost({
    env: {
      AzureWebJobsStorage: connectionString,
      PRIMARY_ENDPOINT: primary.url,
      SECONDARY_ENDPOINT: secondary.url,
      FAILOVER_TABLE: tableName,
      FAILOVER_HISTORY_TABLE: `benchhistory${suffix}`,
      CHECK_INTERVAL_SECONDS: String(settings.intervalSeconds),
      FAILURE_THRESHOLD: String(settings.failureThreshold),
      PROBE_TIMEOUT_MS: String(settings.probeTimeoutMs),
      COOLDOWN_SECONDS: "600",
      EGRESS_ALLOW_PRIVATE: "true",
    },
    timers: false,
    onExecution: (record) => records.push(record),
    log: (message) => logs.push(message),
  });
  let polling = true;
  let polls = 0;
  let pollErrors = 0;
  const pollLatenciesMs: number[] = [];
  const clients: Promise<void>[] = [];
  try {
    const table = TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });
    const row = () => table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state");
    for (const [method, path] of [
      ["POST", "/api/init"],
      ["POST", "/api/start"],
    ] as const) {
      const answer = await call(host.url, method, path);
      if (answer.status >= 300) throw new Error(`${method} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    await eventually("two counted checks", async () => (Number((await row()).consecutive_successes) >= 2 ? true : undefined), 30_000);
    for (let i = 0; i < pollers; i++) {
      const path = i % 2 === 0 ? "/api/health_check" : "/api/status";
      clients.push(
        (async () => {
          while (polling) {
            const started = performance.now();
            try {
              const response = await fetch(`${host.url}${path}`);
              await response.arrayBuffer();
              if (response.status !== 200) pollErrors++;
            } catch {
              pollErrors++;
            }
            pollLatenciesMs.push(performance.now() - started);
            polls++;
          }
        })(),
      );
    }
    // The pollers are at full speed before the break, however slow the machine.
    if (pollers > 0) await eventually("100 polls answered", async () => (polls >= 100 ? true : undefined), 30_000);
    const atBreak = records.length;
    const brokenAt = performance.now();
    primary.behave({ kind: "status", status: 503 });
    await eventually("the failover", async () => ((await row()).active_target === "secondary" ? true : undefined), 60_000, 20);
    const detectionSeconds = (performance.now() - brokenAt) / 1000;
    // The execution that switched finishes when its timer fires.
    const switchedAt = await eventually(
      "the switching execution's end",
      async () => {
        const index = records.slice(atBreak).findIndex((r) => r.history.some((e) => e.EventType === EventType.TaskScheduled && e.Name === "do_failover"));
        return index >= 0 ? index : undefined;
      },
      30_000,
    );
    const cycles = switchedAt + 1;
    polling = false;
    await Promise.all(clients);
    const conflicts = logs.filter((l) => /conflict|changed under|CHECK_ERROR/i.test(l)).length;
    return {
      pollers,
      polls,
      pollErrors,
      pollLatenciesMs,
      detectionSeconds,
      boundSeconds: settings.intervalSeconds * settings.failureThreshold + settings.probeTimeoutMs / 1000,
      cycles,
      lostCycles: records.filter(lost).length + conflicts,
    };
  } finally {
    polling = false;
    await Promise.all(clients);
    await host.stop();
    await primary.close();
    await secondary.close();
  }
}
