import { ORCHESTRATOR_NAME, WAKE_EVENT, WATCHDOG_PERIOD_SECONDS, instanceIdFor } from "../../core/orchestrationContract";
import { startAzurite, type AzuriteHandle } from "../services/azurite";
import { azureStorageChaos, seededRandom, type ChaosCounters } from "../host/chaos";
import { call } from "./client";
import { startLocalHost, type LocalHost } from "../host/host";
import { VirtualClock } from "../host/hubClock";
import type { ExecutionRecord } from "../host/instances";
import { EventType } from "../host/replayHistory";
import { startSampleBackend, type SampleBackend } from "../services/sampleBackend";

/**
 * The soak: thousands of cycles of the real orchestrator, activities and Azurite through the
 * local host in chaos mode, in virtual time (days of 30 s timers in minutes), with wake events
 * at random times. It looks for what two open upstream issues report for this exact pattern
 * (activity, Task.any(timer, event), cancel, continueAsNew): stale results and loops.
 *
 * Anomalies: an execution without exactly one health check, a failed health check, a cycle
 * that ends before its check is due without a wake (shorter than the interval, except right
 * after a woken cycle, when the next check keeps the pace of the last counted one), an
 * execution that failed or completed, an instance stuck with nothing scheduled, and any line
 * the app logs: among them the watchdog's, which runs every 5 virtual minutes as in Azure and
 * must find every loop alive (no wake, no restart of a healthy loop). Target: 0.
 *
 *   npm run soak                  10,000 cycles
 *   npm run soak -- 500 42        500 cycles, seed 42
 */

export interface SoakOptions {
  readonly cycles: number;
  readonly seed: number;
  readonly intervalSeconds?: number;
  /** Failover groups looping side by side (each its own row and orchestration); cycles count across all. */
  readonly groups?: number;
  /** Probability, per cycle, that a wake event is scheduled at a random moment of the next interval. */
  readonly wakeRate?: number;
  readonly progress?: (cycles: number) => void;
}

export interface SoakResult {
  readonly cycles: number;
  readonly anomalies: string[];
  readonly wakesRaised: number;
  readonly chaos: ChaosCounters;
  readonly virtualHours: number;
  readonly wallSeconds: number;
  readonly watchdogRuns: number;
}

/** Whether an execution was woken by an external wake event. */
export function woken(record: ExecutionRecord): boolean {
  return record.history.some((e) => e.EventType === EventType.EventRaised && e.Name === WAKE_EVENT);
}

/**
 * What is wrong with one execution of the loop, given when the next one started and whether
 * the one before it was woken. A cycle ends when its check is due, never earlier unless a wake
 * event ends it: due one interval after its start, or, right after a woken cycle (checks that
 * a wake starts early are not counted), one interval after the last counted check.
 */
export function executionAnomalies(record: ExecutionRecord, nextStart: number | undefined, intervalSeconds: number, previousWoken = false): string[] {
  const out: string[] = [];
  const started = record.history.find((e) => e.EventType === EventType.ExecutionStarted);
  const where = `execution ${record.executionId}${started ? ` (started ${started.Timestamp})` : ""}`;
  if (record.outcome !== "ContinuedAsNew") out.push(`${where} ended ${record.outcome}`);
  const checks = record.history.filter((e) => e.EventType === EventType.TaskScheduled && e.Name === "health_check");
  if (checks.length !== 1) out.push(`${where} ran ${checks.length} health checks, not 1`);
  let counterDue: number | undefined;
  for (const check of checks) {
    const failed = record.history.find((e) => e.EventType === EventType.TaskFailed && e.TaskScheduledId === check.EventId);
    if (failed) out.push(`${where}: health check failed: ${String(failed.Reason)}`);
    const done = record.history.find((e) => e.EventType === EventType.TaskCompleted && e.TaskScheduledId === check.EventId);
    const next = done ? (JSON.parse(String(done.Result)) as { next_counted_check_utc?: string }).next_counted_check_utc : undefined;
    if (next) counterDue = Date.parse(next);
  }
  if (started && nextStart !== undefined && !woken(record)) {
    const lasted = nextStart - Date.parse(started.Timestamp);
    const due = previousWoken && counterDue !== undefined ? counterDue : Date.parse(started.Timestamp) + intervalSeconds * 1000;
    if (nextStart < due) out.push(`${where} lasted ${lasted / 1000} s without a wake, ending before its check was due (interval ${intervalSeconds} s${previousWoken ? ", after a woken cycle" : ""})`);
  }
  return out;
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const intervalSeconds = options.intervalSeconds ?? 30;
  const wallStart = Date.now();
  const clock = new VirtualClock(new Date("2026-01-01T00:00:00Z"));
  const random = seededRandom(options.seed + 1);
  const records: ExecutionRecord[] = [];
  const anomalies: string[] = [];
  let wakesRaised = 0;
  let azurite: AzuriteHandle | undefined;
  let primary: SampleBackend | undefined;
  let secondary: SampleBackend | undefined;
  let host: LocalHost | undefined;
  try {
    azurite = await startAzurite();
    primary = await startSampleBackend("primary");
    secondary = await startSampleBackend("secondary");
    host = await startLocalHost({
      env: {
        AzureWebJobsStorage: azurite.connectionString,
        PRIMARY_ENDPOINT: primary.url,
        SECONDARY_ENDPOINT: secondary.url,
        CHECK_INTERVAL_SECONDS: String(intervalSeconds),
        EGRESS_ALLOW_PRIVATE: "true",
      },
      timers: false,
      clock,
      chaos: azureStorageChaos(options.seed, WAKE_EVENT),
      onExecution: (record) => records.push(record),
      log: (message) => anomalies.push(`log: ${message}`),
    });
    const groups = Array.from({ length: options.groups ?? 8 }, (_, n) => `soak${n}`);
    for (const group of groups) {
      const init = await call(host.url, "POST", "/api/init", { group, primary_endpoint: primary.url, secondary_endpoint: secondary.url });
      if (init.status !== 201) throw new Error(`POST /api/init answered ${init.status}: ${JSON.stringify(init.body)}`);
      host.taskHub.start(ORCHESTRATOR_NAME, instanceIdFor(group), { group, interval_seconds: intervalSeconds });
    }
    // The watchdog's timer, every WATCHDOG_PERIOD_SECONDS of virtual time; its runs are awaited with the cycles.
    const watchdogRuns: Promise<void>[] = [];
    let watchdogCount = 0;
    const scheduleWatchdog = (): void => {
      clock.schedule(new Date(clock.now().getTime() + WATCHDOG_PERIOD_SECONDS * 1000), () => {
        watchdogCount++;
        watchdogRuns.push(host!.runTimer("watchdog"));
        scheduleWatchdog();
      });
    };
    scheduleWatchdog();
    let reported = 0;
    let nextProgress = 1000;
    let lastCycleAt = clock.now().getTime();
    while (records.length < options.cycles) {
      await host.taskHub.idle();
      await Promise.all(watchdogRuns.splice(0));
      await host.taskHub.idle();
      if (records.length > reported) lastCycleAt = clock.now().getTime();
      else if (clock.now().getTime() - lastCycleAt > 2 * WATCHDOG_PERIOD_SECONDS * 1000) {
        // The watchdog's timer is always scheduled: a loop that stopped shows as time passing without cycles.
        anomalies.push(
          `stuck after ${records.length} cycles: no cycle for ${2 * WATCHDOG_PERIOD_SECONDS} s of virtual time; ${JSON.stringify(groups.map((g) => host!.taskHub.status(instanceIdFor(g))?.runtimeStatus))}`,
        );
        break;
      }
      // Each finished cycle may schedule a wake at a random moment of its group's next interval.
      for (const record of records.slice(reported)) {
        if (random() >= (options.wakeRate ?? 0.1)) continue;
        const at = new Date(clock.now().getTime() + random() * intervalSeconds * 1000);
        clock.schedule(at, () => {
          wakesRaised++;
          host!.taskHub.raiseEvent(record.instanceId, WAKE_EVENT, null);
        });
      }
      reported = records.length;
      if (reported >= nextProgress) {
        options.progress?.(reported);
        nextProgress += 1000;
      }
      // Timers and wakes within 2 s of each other run as one batch (up to 2 s late, as on a
      // queue polled every 2 s), so the groups' activities overlap.
      if (!clock.advance(2_000)) {
        anomalies.push(`stuck after ${records.length} cycles: nothing scheduled; ${JSON.stringify(groups.map((g) => host!.taskHub.status(instanceIdFor(g))?.runtimeStatus))}`);
        break;
      }
    }
    for (const group of groups) {
      const own = records.filter((r) => r.instanceId === instanceIdFor(group));
      const starts = own.map((r) => Date.parse(r.history.find((e) => e.EventType === EventType.ExecutionStarted)?.Timestamp ?? ""));
      own.forEach((record, index) => anomalies.push(...executionAnomalies(record, starts[index + 1], intervalSeconds, index > 0 && woken(own[index - 1]))));
      const status = host.taskHub.status(instanceIdFor(group));
      if (status?.runtimeStatus !== "Running" && status?.runtimeStatus !== "Pending") anomalies.push(`${group}: the loop is ${status?.runtimeStatus ?? "missing"} at the end`);
    }
    return {
      cycles: records.length,
      anomalies,
      wakesRaised,
      chaos: { ...host.taskHub.chaosCounters },
      virtualHours: (clock.now().getTime() - Date.parse("2026-01-01T00:00:00Z")) / 3_600_000,
      wallSeconds: (Date.now() - wallStart) / 1000,
      watchdogRuns: watchdogCount,
    };
  } finally {
    await host?.stop();
    await primary?.close();
    await secondary?.close();
    await azurite?.stop();
  }
}

async function main(): Promise<void> {
  const cycles = Number(process.argv[2] ?? 10_000);
  const seed = Number(process.argv[3] ?? 1);
  if (!Number.isInteger(cycles) || cycles < 1 || !Number.isInteger(seed)) throw new Error("usage: soak [cycles >= 1] [integer seed]");
  console.log(`soak: ${cycles} cycles of 30 s (8 groups side by side) in virtual time, chaos mode, seed ${seed}`);
  const result = await runSoak({ cycles, seed, progress: (n) => console.log(`soak: ${n} cycles`) });
  const c = result.chaos;
  console.log(
    `soak: cycles ${result.cycles}, anomalies ${result.anomalies.length}; ${result.virtualHours.toFixed(1)} h virtual in ${result.wallSeconds.toFixed(1)} s; ` +
      `wakes ${result.wakesRaised} at random + ${c.eventsOnContinueAsNew} during continueAsNew, activities delivered twice ${c.duplicateActivities} ` +
      `(second completions dropped ${c.duplicateCompletionsDropped}), late timers ${c.lateTimers}, watchdog runs ${result.watchdogRuns}`,
  );
  for (const anomaly of result.anomalies.slice(0, 20)) console.log(`soak: ANOMALY ${anomaly}`);
  if (result.anomalies.length > 0 || result.cycles < cycles) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`soak: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  });
}
