import { TableClient, type TransactionAction } from "@azure/data-tables";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { DO_FAILOVER_ACTIVITY, HEALTH_CHECK_ACTIVITY, ORCHESTRATOR_NAME, RECORD_ERROR_ACTIVITY, instanceIdFor } from "../../../core/orchestrationContract";
import { PARTITION_KEY, initialState, toRowProperties } from "../../../core/state";
import { startLocalHost } from "../../host/host";
import type { ExecutionRecord } from "../../host/instances";
import { EventType, type HistoryEvent } from "../../host/replayHistory";
import { startAzurite } from "../../services/azurite";

/**
 * The scale run (issue 23): N groups, each with its eternal loop at a 1 s interval, on the local
 * host (the durable-functions replay engine, the in-memory task hub, the activities, Azurite),
 * probing real HTTP backends (served by a child process, so their CPU is not the app's). After
 * a warm-up it measures a window: how many checks landed against N x window / interval, the
 * event-loop delay, the RSS and the process CPU per check. Then it breaks 40 % of the primaries
 * at once and measures each one's detection-to-switch against the bound (interval x threshold +
 * probe timeout). Numbers only; nothing passes or fails.
 */

export const SCALE_SETTINGS = { intervalSeconds: 1, failureThreshold: 3, probeTimeoutMs: 1000 } as const;

export interface ScaleOptions {
  readonly groups: number;
  /** Seconds of warm-up after the last loop started, then of the measured window. */
  readonly warmupSeconds: number;
  readonly windowSeconds: number;
  /** Process id of the Azurite the run uses, to report its CPU beside the app's. */
  readonly azuritePid?: number;
  /** Share of the groups whose primary breaks after the window. */
  readonly breakShare?: number;
  /** Progress lines (stderr by default). */
  readonly progress?: (message: string) => void;
}

export interface ScaleResult {
  readonly groups: number;
  readonly windowSeconds: number;
  /** Checks whose cycle started in the window (counted: the check landed, no error recorded). */
  readonly checks: number;
  /** groups x window / interval. */
  readonly expectedChecks: number;
  /** Groups with at least 0.99 of their own expected checks in the window. */
  readonly groupsAtRate: number;
  /** Checks in the window that failed or recorded an error. */
  readonly failedChecks: number;
  /** Per broken group, seconds from the break to its do_failover's completion (changed). */
  readonly detectionSeconds: number[];
  /** Per broken group, seconds from the break to the completion of the check that decided the failover. */
  readonly decidedSeconds: number[];
  /** Per broken group, seconds from the break to the replay that scheduled its do_failover. */
  readonly scheduledSeconds: number[];
  readonly broken: number;
  readonly boundSeconds: number;
  readonly eventLoopDelayP99Ms: number;
  readonly maxRssBytes: number;
  /** Process CPU (user + system) over the window, in ms. */
  readonly cpuMs: number;
  /** CPU over the window of Azurite and of the backends' process, in ms (Linux /proc; undefined elsewhere). */
  readonly azuriteCpuMs: number | undefined;
  readonly backendsCpuMs: number | undefined;
  readonly loadAverage: readonly number[];
}

/**
 * Health endpoints in a child process: GET /primary/<i> and /secondary/<i> answer 200, and
 * /primary/<i> 503 once POST /break?below=<n> has been called for an i below n.
 */
const BACKENDS_SCRIPT = `
const http = require("node:http");
let below = -1;
const server = http.createServer((req, res) => {
  const url = new URL(req.url, "http://x");
  if (req.method === "POST" && url.pathname === "/break") { below = Number(url.searchParams.get("below")); res.end("ok"); return; }
  const m = /^\\/(primary|secondary)\\/(\\d+)$/.exec(url.pathname);
  if (!m) { res.writeHead(404).end(); return; }
  const down = m[1] === "primary" && Number(m[2]) < below;
  res.writeHead(down ? 503 : 200, { "content-type": "application/json" }).end(down ? '{"status":"down"}' : '{"status":"healthy"}');
});
server.keepAliveTimeout = 65000;
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
`;

async function startBackends(): Promise<{ origin: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ["-e", BACKENDS_SCRIPT], { stdio: ["ignore", "pipe", "inherit"] });
  const port = await new Promise<string>((resolve, reject) => {
    child.once("exit", (code) => reject(new Error(`the bench backends exited (${code})`)));
    child.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
  });
  return { origin: `http://127.0.0.1:${port}`, child };
}

/** The group rows, as POST /api/init writes them (without the group registry, which the loops never read), 100 per transaction. */
async function createRows(connectionString: string, tableName: string, groups: readonly string[], origin: string): Promise<void> {
  const table = TableClient.fromConnectionString(connectionString, tableName, { allowInsecureConnection: true });
  await table.createTable();
  for (let i = 0; i < groups.length; i += 100) {
    const actions: TransactionAction[] = groups
      .slice(i, i + 100)
      .map((group, j) => ["create", { ...toRowProperties(initialState(`${origin}/primary/${i + j}`, `${origin}/secondary/${i + j}`)), partitionKey: PARTITION_KEY, rowKey: group }]);
    await table.submitTransaction(actions);
  }
}

function taskResult(history: readonly HistoryEvent[], name: string): { completedAt: number; result: unknown } | undefined {
  const scheduled = history.find((e) => e.EventType === EventType.TaskScheduled && e.Name === name);
  const completed = scheduled && history.find((e) => e.EventType === EventType.TaskCompleted && e.TaskScheduledId === scheduled.EventId);
  return completed ? { completedAt: Date.parse(completed.Timestamp), result: JSON.parse(String(completed.Result)) } : undefined;
}

/** CPU (user + system) a process has used, in ms, from Linux's /proc (clock ticks of 10 ms); undefined where unreadable. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // Fields after the command name (which may hold spaces, inside parentheses): utime and stime are the 12th and 13th.
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runScale(connectionString: string, options: ScaleOptions): Promise<ScaleResult> {
  const { groups: n, windowSeconds } = options;
  const progress = options.progress ?? ((m: string) => console.error(m));
  const { intervalSeconds, failureThreshold, probeTimeoutMs } = SCALE_SETTINGS;
  const suffix = Math.random().toString(36).slice(2, 8);
  const tableName = `scalestate${suffix}`;
  const names = Array.from({ length: n }, (_, i) => `g${i}`);
  const index = new Map(names.map((g, i) => [instanceIdFor(g), i]));
  const broken = Math.round(n * (options.breakShare ?? 0.4));
  const backends = await startBackends();
  let window: { from: number; to: number } | undefined;
  let brokenAt: number | undefined;
  const perGroup = new Uint32Array(n);
  let failedChecks = 0;
  const detected = new Map<number, number>();
  const decided = new Map<number, number>();
  const scheduled = new Map<number, number>();
  const onExecution = (record: ExecutionRecord) => {
    const i = index.get(record.instanceId);
    if (i === undefined) return;
    const started = Date.parse(record.history[0]?.Timestamp ?? "");
    if (window && started >= window.from && started < window.to) {
      const failed = record.history.some((e) => e.EventType === EventType.TaskFailed || (e.EventType === EventType.TaskScheduled && e.Name === RECORD_ERROR_ACTIVITY));
      if (failed || !taskResult(record.history, HEALTH_CHECK_ACTIVITY)) failedChecks++;
      else perGroup[i]++;
    }
    if (brokenAt !== undefined && i < broken && !detected.has(i)) {
      const switched = taskResult(record.history, DO_FAILOVER_ACTIVITY);
      if (switched && (switched.result as { changed?: boolean }).changed) {
        detected.set(i, (switched.completedAt - brokenAt) / 1000);
        const check = taskResult(record.history, HEALTH_CHECK_ACTIVITY);
        if (check) decided.set(i, (check.completedAt - brokenAt) / 1000);
        const request = record.history.find((e) => e.EventType === EventType.TaskScheduled && e.Name === DO_FAILOVER_ACTIVITY);
        if (request) scheduled.set(i, (Date.parse(request.Timestamp) - brokenAt) / 1000);
      }
    }
  };
  const logs: string[] = [];
  try {
    progress(`scale ${n} groups: creating ${n} rows in Azurite ...`);
    await createRows(connectionString, tableName, names, backends.origin);
    const host = await startLocalHost({
      env: {
        AzureWebJobsStorage: connectionString,
        FAILOVER_TABLE: tableName,
        FAILOVER_HISTORY_TABLE: `scalehistory${suffix}`,
        CHECK_INTERVAL_SECONDS: String(intervalSeconds),
        FAILURE_THRESHOLD: String(failureThreshold),
        PROBE_TIMEOUT_MS: String(probeTimeoutMs),
        COOLDOWN_SECONDS: "600",
        EGRESS_ALLOW_PRIVATE: "true",
        // The default (the standby probed every cycle) unless the caller's environment sets it.
        STANDBY_CHECK_EVERY: process.env.STANDBY_CHECK_EVERY ?? "1",
      },
      timers: false,
      onExecution,
      log: (message) => void (logs.length < 100 && logs.push(message)),
    });
    try {
      // The loops start spread over one interval, as loops started one by one (by the watchdog or
      // POST /api/start) are; each keeps its phase, one interval after its last counted check.
      progress(`scale ${n} groups: starting ${n} loops, ${options.warmupSeconds} s warm-up ...`);
      for (const [i, group] of names.entries()) {
        host.taskHub.start(ORCHESTRATOR_NAME, instanceIdFor(group), { group, interval_seconds: intervalSeconds });
        if ((i + 1) % Math.max(1, Math.floor(n / 20)) === 0) await sleep((intervalSeconds * 1000) / 20);
      }
      await sleep(options.warmupSeconds * 1000);

      progress(`scale ${n} groups: measuring a ${windowSeconds} s window ...`);
      const delay = monitorEventLoopDelay({ resolution: 10 });
      let maxRss = 0;
      const sampleRss = setInterval(() => (maxRss = Math.max(maxRss, process.memoryUsage().rss)), 500);
      const cpu0 = process.cpuUsage();
      const others0 = [processCpuMs(options.azuritePid), processCpuMs(backends.child.pid)];
      window = { from: Date.now(), to: Date.now() + windowSeconds * 1000 };
      delay.enable();
      await sleep(windowSeconds * 1000);
      delay.disable();
      const cpu = process.cpuUsage(cpu0);
      const [azuriteCpuMs, backendsCpuMs] = [processCpuMs(options.azuritePid), processCpuMs(backends.child.pid)].map((after, k) =>
        after === undefined || others0[k] === undefined ? undefined : after - others0[k],
      );
      clearInterval(sampleRss);
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
      const loadAverage = loadavg();

      const bound = intervalSeconds * failureThreshold + probeTimeoutMs / 1000;
      progress(`scale ${n} groups: breaking ${broken} primaries, waiting for their switches ...`);
      brokenAt = Date.now();
      await fetch(`${backends.origin}/break?below=${broken}`, { method: "POST" }).then((r) => r.text());
      // Every broken group switched and its execution ended, or 10 bounds have passed.
      for (const deadline = Date.now() + bound * 10_000; detected.size < broken && Date.now() < deadline;) await sleep(200);
      const checks = perGroup.reduce((a, b) => a + b, 0);
      const expectedPerGroup = windowSeconds / intervalSeconds;
      return {
        groups: n,
        windowSeconds,
        checks,
        expectedChecks: n * expectedPerGroup,
        groupsAtRate: perGroup.filter((c) => c >= 0.99 * expectedPerGroup).length,
        failedChecks,
        detectionSeconds: [...detected.values()],
        decidedSeconds: [...decided.values()],
        scheduledSeconds: [...scheduled.values()],
        broken,
        boundSeconds: bound,
        eventLoopDelayP99Ms: delay.percentile(99) / 1e6,
        maxRssBytes: maxRss,
        cpuMs: (cpu.user + cpu.system) / 1000,
        azuriteCpuMs,
        backendsCpuMs,
        loadAverage,
      };
    } finally {
      await host.stop();
    }
  } finally {
    backends.child.kill();
  }
}

/** The scale run's lines, one per figure. */
export function scaleLines(r: ScaleResult): string[] {
  const head = `scale ${r.groups} groups at ${SCALE_SETTINGS.intervalSeconds} s`;
  const ratios = r.detectionSeconds.map((s) => s / r.boundSeconds).sort((a, b) => a - b);
  const pick = (q: number) => ratios[Math.min(ratios.length - 1, Math.floor(q * ratios.length))] ?? NaN;
  const within = ratios.filter((x) => x <= 1).length;
  const seconds = (xs: readonly number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return sorted.length === 0 ? "none" : `p50 ${sorted[Math.floor(sorted.length / 2)].toFixed(2)} s, max ${sorted.at(-1)!.toFixed(2)} s`;
  };
  const cores = (ms: number | undefined) => (ms === undefined ? "n/a" : (ms / 1000 / r.windowSeconds).toFixed(2));
  const missed = r.broken - ratios.length;
  return [
    `${head}: checked at ${(r.checks / r.expectedChecks).toFixed(2)} of the full rate (${r.checks} of ${r.expectedChecks} checks in ${r.windowSeconds} s); ${r.groupsAtRate} of ${r.groups} groups at 0.99 of it or more; ${r.failedChecks} failed checks`,
    `${head}: detection-to-switch / bound (${r.boundSeconds} s) over ${r.broken} broken primaries: max ${pick(1).toFixed(2)}, p95 ${pick(0.95).toFixed(2)}; ${within} of ${r.broken} within the bound${missed > 0 ? `; ${missed} not switched within 10 bounds` : ""}`,
    `${head}: from the break to the check that decided: ${seconds(r.decidedSeconds)}; to the switch scheduled: ${seconds(r.scheduledSeconds)}; to the switch done: ${seconds(r.detectionSeconds)}`,
    `${head}: event-loop delay p99 ${r.eventLoopDelayP99Ms.toFixed(0)} ms`,
    `${head}: RSS ${(r.maxRssBytes / 2 ** 20).toFixed(0)} MB`,
    `${head}: app CPU per check ${(r.cpuMs / Math.max(1, r.checks)).toFixed(2)} ms (process CPU over the window / checks; the local host and the replay engine included)`,
    `${head}: cores busy over the window: app ${cores(r.cpuMs)}, Azurite ${cores(r.azuriteCpuMs)}, backends ${cores(r.backendsCpuMs)} (of ${availableParallelism()})`,
    `${head}: load average ${r.loadAverage.map((x) => x.toFixed(2)).join(" ")} (at the end of the window)`,
  ];
}

/**
 * `node dist/local/tools/bench/benchScale.js <groups> [window seconds]`: one scale run in this
 * process (what `npm run bench` starts for each N, so each has a process of its own); with
 * AZURITE_CONNECTION_STRING it uses that Azurite, otherwise it starts one; STANDBY_CHECK_EVERY=0
 * measures the loops without their standby probes.
 */
async function main(): Promise<void> {
  const groups = Number(process.argv[2] ?? 1000);
  const windowSeconds = Number(process.argv[3] ?? 30);
  const given = process.env.AZURITE_CONNECTION_STRING;
  const azurite = given ? undefined : await startAzurite();
  try {
    const azuritePid = given ? Number(process.env.AZURITE_PID) || undefined : azurite!.pid;
    const result = await runScale(given ?? azurite!.connectionString, { groups, warmupSeconds: 10, windowSeconds, ...(azuritePid ? { azuritePid } : {}) });
    for (const line of scaleLines(result)) console.log(line);
  } finally {
    await azurite?.stop();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
