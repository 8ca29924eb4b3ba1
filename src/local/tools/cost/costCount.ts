import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ORCHESTRATOR_NAME, instanceIdFor } from "../../../core/orchestrationContract";
import { azuriteConnectionString } from "../../services/azurite";
import { call } from "../client";
import type { CostCounts, CountedCycle, Deployment, TableRequests } from "./costModel";
import { startCountingProxy, type StorageRequest } from "../../services/countingProxy";
import { startLocalHost } from "../../host/host";
import { VirtualClock } from "../../host/hubClock";
import type { ExecutionRecord } from "../../host/instances";
import { EventType } from "../../host/replayHistory";
import { startSampleBackend } from "../../services/sampleBackend";

/**
 * Counts the app's own storage requests on Azurite, through the counting proxy, with the real
 * code on the local host: per healthy cycle, per failing cycle, per failover and per watchdog
 * run. The local host's task hub is in memory, so none of this is the Durable extension's
 * traffic (that is the formula in costModel.ts). Cycles run in virtual time.
 */

const ROOT = join(__dirname, "..", "..", "..", "..");
/** The committed counts the README's cost table is computed from. */
export const COUNTS_FILE = join(ROOT, "docs", "cost-counts.json");

/** Classifies one Table service request by what it bills as. */
export function requestKind(r: StorageRequest): keyof Omit<TableRequests, "failed"> {
  const last = r.path.split("/").filter(Boolean).at(-1) ?? "";
  if (last === "$batch") return "batch";
  if (/^Tables(\(|$)/.test(last)) return "table";
  if (r.method === "GET") return /\(.+\)$/.test(last) ? "read" : "query";
  return "write";
}

export function classify(requests: readonly StorageRequest[]): TableRequests {
  const out = { read: 0, query: 0, write: 0, batch: 0, table: 0, failed: 0 };
  for (const r of requests) {
    out[requestKind(r)]++;
    if (r.status >= 400 || r.status === 0) out.failed++;
  }
  return out;
}

function average(all: TableRequests[]): TableRequests {
  const round = (x: number) => Math.round((x / all.length) * 100) / 100;
  const sum = (k: keyof TableRequests) => round(all.reduce((a, r) => a + r[k], 0));
  return { read: sum("read"), query: sum("query"), write: sum("write"), batch: sum("batch"), table: sum("table"), failed: sum("failed") };
}

function difference(a: TableRequests, b: TableRequests, per: number): TableRequests {
  const d = (k: keyof TableRequests) => Math.round(((a[k] - b[k]) / per) * 100) / 100;
  return { read: d("read"), query: d("query"), write: d("write"), batch: d("batch"), table: d("table"), failed: d("failed") };
}

function durableActions(record: ExecutionRecord): { activities: number; timers: number } {
  return {
    activities: record.history.filter((e) => e.EventType === EventType.TaskScheduled).length,
    timers: record.history.filter((e) => e.EventType === EventType.TimerCreated).length,
  };
}

/** main.bicep's defaults the bill depends on: the Durable backend, the instance memory and the always-ready count. */
export function bicepDefaults(): Pick<Deployment, "backend" | "memoryMb" | "alwaysReadyInstances"> {
  const main = readFileSync(join(ROOT, "bicep", "main.bicep"), "utf8");
  const param = (name: string, type: string) => {
    const m = new RegExp(`^param ${name} ${type} = '?([\\w]+)'?$`, "m").exec(main);
    if (!m) throw new Error(`bicep/main.bicep has no "param ${name} ${type} = ..." default`);
    return m[1];
  };
  const backend = param("durableBackend", "string");
  if (backend !== "azureStorage" && backend !== "durableTaskScheduler") throw new Error(`bicep/main.bicep's durableBackend default "${backend}" is not one the cost model knows`);
  return { backend, memoryMb: Number(param("instanceMemoryMB", "int")), alwaysReadyInstances: Number(param("durableAlwaysReadyInstances", "int")) };
}

/** The deployment this tree configures: host.json's provider settings, main.bicep's defaults and the watchdog's schedule. */
export function currentDeployment(watchdogSchedule: string): Deployment {
  const host = JSON.parse(readFileSync(join(ROOT, "host.json"), "utf8")) as { extensions: { durableTask: { storageProvider: { partitionCount?: number; maxQueuePollingInterval?: string } } } };
  const provider = host.extensions.durableTask.storageProvider;
  const [h, m, s] = String(provider.maxQueuePollingInterval ?? "00:00:30")
    .split(":")
    .map(Number);
  const minutes = /^0 \*\/(\d+) \* \* \* \*$/.exec(watchdogSchedule);
  if (!minutes) throw new Error(`the watchdog's schedule "${watchdogSchedule}" is not "0 */N * * * *"`);
  const partitionCount = provider.partitionCount ?? 4;
  const maxQueuePollingSeconds = h * 3600 + m * 60 + s;
  return {
    label: `now (${partitionCount} partition${partitionCount === 1 ? "" : "s"}, ${maxQueuePollingSeconds} s polling, watchdog every ${minutes[1]} min)`,
    ...bicepDefaults(),
    partitionCount,
    maxQueuePollingSeconds,
    watchdogEveryMinutes: Number(minutes[1]),
    watchdogFailingCallsPerRun: 0,
  };
}

export function readCounts(): CostCounts {
  return JSON.parse(readFileSync(COUNTS_FILE, "utf8")) as CostCounts;
}

/** Runs the app on the local host against the Azurite behind `tableEndpoint` and counts. */
export async function countStorageRequests(tableEndpoint: string, cycles = 5): Promise<Omit<CostCounts, "vantageCycle">> {
  const proxy = await startCountingProxy(tableEndpoint);
  const primary = await startSampleBackend("primary");
  const secondary = await startSampleBackend("secondary");
  // A fixed start: the local host gives the app this clock too, so the watchdog judges the loops on it.
  const clock = new VirtualClock(new Date("2026-01-01T00:00:00Z"));
  const records: ExecutionRecord[] = [];
  const suffix = Math.random().toString(36).slice(2, 8);
  const host = await startLocalHost({
    env: {
      AzureWebJobsStorage: azuriteConnectionString(proxy.endpoint),
      PRIMARY_ENDPOINT: primary.url,
      SECONDARY_ENDPOINT: secondary.url,
      FAILOVER_TABLE: `coststate${suffix}`,
      FAILOVER_HISTORY_TABLE: `costhistory${suffix}`,
      CHECK_INTERVAL_SECONDS: "30",
      FAILURE_THRESHOLD: "3",
      EGRESS_ALLOW_PRIVATE: "true",
    },
    timers: false,
    clock,
    onExecution: (record) => records.push(record),
  });
  try {
    const hub = host.taskHub;
    const id = instanceIdFor("state");
    /** Runs the next cycle (the timer fires, continueAsNew, the new execution's check) and counts it. */
    const nextCycle = async (): Promise<{ requests: StorageRequest[]; record: ExecutionRecord }> => {
      await hub.idle();
      const from = proxy.requests.length;
      const seen = records.length;
      if (!clock.advance()) throw new Error("the loop has nothing scheduled");
      await hub.idle();
      if (records.length !== seen + 1) throw new Error(`expected one finished execution, got ${records.length - seen}`);
      return { requests: proxy.requests.slice(from), record: records.at(-1)! };
    };
    const measure = async (n: number): Promise<CountedCycle[]> => {
      const out: CountedCycle[] = [];
      // The counted requests of a cycle belong to the execution that starts in it: its actions are the next record's.
      let previous = await nextCycle();
      for (let i = 0; i < n; i++) {
        const next = await nextCycle();
        out.push({ requests: classify(previous.requests), ...durableActions(next.record) });
        previous = next;
      }
      return out;
    };
    const summarise = (list: CountedCycle[]): CountedCycle => ({
      requests: average(list.map((c) => c.requests)),
      activities: list.reduce((a, c) => a + c.activities, 0) / list.length,
      timers: list.reduce((a, c) => a + c.timers, 0) / list.length,
    });

    const init = await call(host.url, "POST", "/api/init", { group: "state" });
    if (init.status !== 201 && init.status !== 200) throw new Error(`POST /api/init answered ${init.status}: ${JSON.stringify(init.body)}`);
    hub.start(ORCHESTRATOR_NAME, id, { group: "state", interval_seconds: 30 });
    await measure(2); // warm up: tables known, the loop in its steady state
    const healthyCycle = summarise(await measure(cycles));

    // The primary breaks: threshold - 1 failing cycles, then the cycle that fails over.
    primary.behave({ kind: "status", status: 503 });
    const failing: CountedCycle[] = [];
    let failoverCycle: CountedCycle | undefined;
    let previous = await nextCycle();
    for (let i = 0; i < 10 && !failoverCycle; i++) {
      const next = await nextCycle();
      const cycle: CountedCycle = { requests: classify(previous.requests), ...durableActions(next.record) };
      if (next.record.history.some((e) => e.EventType === EventType.TaskScheduled && e.Name === "do_failover")) failoverCycle = cycle;
      else failing.push(cycle);
      previous = next;
    }
    if (!failoverCycle) throw new Error("no failover within 10 cycles");
    if (failing.length === 0) throw new Error("no failing cycle before the failover");

    // Watchdog runs with one group, then with three: the difference is what each group adds.
    await hub.idle();
    const watchdog = async (): Promise<TableRequests> => {
      const runs: TableRequests[] = [];
      for (let i = 0; i < 3; i++) {
        const from = proxy.requests.length;
        await host.runTimer("watchdog");
        runs.push(classify(proxy.requests.slice(from)));
      }
      return average(runs.slice(1));
    };
    await host.runTimer("watchdog");
    await hub.idle();
    const one = await watchdog();
    for (const group of ["costb", "costc"]) {
      const created = await call(host.url, "POST", "/api/init", { group, primary_endpoint: primary.url, secondary_endpoint: secondary.url });
      if (created.status !== 201) throw new Error(`POST /api/init ${group} answered ${created.status}: ${JSON.stringify(created.body)}`);
    }
    await host.runTimer("watchdog"); // starts the two new loops
    await hub.idle();
    const three = await watchdog();
    const perGroup = difference(three, one, 2);
    const fixed = difference(one, perGroup, 1);
    return { healthyCycle, failingCycle: summarise(failing), failoverCycle, watchdogRun: { fixed, perGroup } };
  } finally {
    await host.stop();
    await primary.close();
    await secondary.close();
    await proxy.close();
  }
}
