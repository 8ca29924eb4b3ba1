import { InvocationContext } from "@azure/functions";
import { loadConfig } from "../../../core/config";
import { createDeps } from "../../../core/deps";
import { bootstrap, switchTarget, healthCheck } from "../../../core/operations";
import { ORCHESTRATOR_NAME } from "../../../core/orchestrationContract";
import { startAzurite } from "../../services/azurite";
import { POLLER_SETTINGS, benchPollers } from "./benchPollers";
import { benchStagedPlan, benchSwitchPlan } from "./benchSwitch";
import { benchSwitchFaults } from "./benchSwitchFaults";
import { installFunctionsCore, registeredFunctions } from "../../host/functionsCore";
import { history, orchestrationTriggerInput } from "../../host/replayHistory";
import { startSampleBackend } from "../../services/sampleBackend";
import { coldStart, coldStartLine } from "./benchColdStart";
import { runScale, scaleLines } from "./benchScale";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

/**
 * Benchmarks that print numbers (no pass/fail): the operations on Azurite, the contention
 * path, the cost of replaying one cycle through the durable-functions replay engine, a switch
 * plan, and readers polling at full speed while the primary breaks.
 *
 * BENCH_QUICK=1 runs every part with a handful of iterations (the smoke test's run).
 * Arguments choose parts: `ops` (everything above), `scale` (the scale run, issue 23), `cold`
 * (cold start, issue 23); none runs all three.
 */

export type BenchPart = "ops" | "scale" | "cold";
export const BENCH_PARTS: readonly BenchPart[] = ["ops", "scale", "cold"];

/** Groups of the scale run; quick: a handful, in this process. */
const SCALE_GROUPS = [500, 1000, 1500];

/** One scale run per N, each in a process of its own (its RSS, CPU and event loop are that N's alone). */
async function scaleInChild(connectionString: string, azuritePid: number | undefined, groups: number): Promise<void> {
  const child = spawn(process.execPath, [join(__dirname, "benchScale.js"), String(groups), "30"], {
    env: { ...process.env, AZURITE_CONNECTION_STRING: connectionString, ...(azuritePid ? { AZURITE_PID: String(azuritePid) } : {}) },
    stdio: ["ignore", "inherit", "inherit"],
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  if (code !== 0) throw new Error(`the scale run of ${groups} groups exited with ${code}`);
}

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return `n=${samples.length} mean=${mean.toFixed(2)} p50=${pick(0.5).toFixed(2)} p95=${pick(0.95).toFixed(2)} max=${sorted.at(-1)!.toFixed(2)} ms`;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Runs every benchmark and prints its lines; `quick` runs each with a handful of iterations. */
export async function runBench(options: { quick?: boolean; parts?: readonly BenchPart[]; dist?: string } = {}): Promise<void> {
  const QUICK = options.quick === true;
  const parts = new Set(options.parts ?? BENCH_PARTS);
  /** `full` iterations, or a handful when quick. */
  const n = (full: number, quick: number) => (QUICK ? quick : full);
  if (parts.has("cold")) {
    // The compiled entry points: dist/ when this runs compiled, or the build the caller names.
    const dist = options.dist ?? join(__dirname, "..", "..", "..");
    if (!existsSync(join(dist, "functions", "healthCheckActivity.js"))) throw new Error(`no compiled entry points in ${dist}/functions: build first`);
    const rows = coldStart(dist, { repeats: n(3, 1), ...(QUICK ? { only: ["healthCheckActivity.js"] } : {}), progress: (m) => console.error(m) });
    for (const row of rows) console.log(coldStartLine(row));
  }
  if (!parts.has("ops") && !parts.has("scale")) return;
  console.log("starting Azurite and two sample backends ...");
  const azurite = await startAzurite();
  const primary = await startSampleBackend("primary");
  const secondary = await startSampleBackend("secondary");
  try {
    if (parts.has("scale")) {
      for (const groups of QUICK ? [10] : SCALE_GROUPS) {
        if (QUICK)
          for (const line of scaleLines(
            await runScale(azurite.connectionString, { groups, warmupSeconds: 2, windowSeconds: 3, ...(azurite.pid ? { azuritePid: azurite.pid } : {}), progress: (m) => console.error(m) }),
          ))
            console.log(line);
        else await scaleInChild(azurite.connectionString, azurite.pid, groups);
      }
    }
    if (!parts.has("ops")) return;
    const settings = { AzureWebJobsStorage: azurite.connectionString, PRIMARY_ENDPOINT: primary.url, SECONDARY_ENDPOINT: secondary.url, COOLDOWN_SECONDS: "0", EGRESS_ALLOW_PRIVATE: "true" };
    const config = loadConfig(settings);
    const deps = createDeps(config);
    await bootstrap(deps, { group: "state" });

    // Checks one interval apart in virtual time, so each is a counted one and the standby is due
    // (every interval by default); then the same with STANDBY_CHECK_EVERY=0: the standby probe's cost.
    for (const standbyEvery of ["1", "0"]) {
      let virtual = Date.now();
      const group = `standby${standbyEvery}`;
      const stepped = createDeps(loadConfig({ ...settings, FAILOVER_GROUP: group, STANDBY_CHECK_EVERY: standbyEvery }), { clock: { now: () => new Date(virtual) } });
      await bootstrap(stepped, { group });
      const checks: number[] = [];
      for (let i = 0; i < n(300, 5); i++) {
        virtual += stepped.config.policy.check_interval_seconds * 1000;
        checks.push(await timed(() => healthCheck(stepped, group, new Date(virtual).toISOString())));
      }
      const what = standbyEvery === "1" ? "probes of the active endpoint and the standby in parallel" : "the active endpoint only (STANDBY_CHECK_EVERY=0)";
      console.log(`health_check (one conditional write; ${what}) ${stats(checks.slice(n(20, 1)))}`);
    }

    const switches: number[] = [];
    for (let i = 0; i < n(100, 5); i++) switches.push(await timed(async () => switchTarget(deps, "state", { expected_from: (await deps.store.load("state")).state.active_target })));
    console.log(`do_failover (read + standby probe + conditional write + audit) ${stats(switches.slice(n(10, 1)))}`);

    for (const concurrent of QUICK ? [10] : [10, 20, 50]) {
      const rounds: number[] = [];
      for (let r = 0; r < n(5, 2); r++) {
        const from = (await deps.store.load("state")).state.active_target;
        rounds.push(
          await timed(async () => {
            const results = await Promise.all(Array.from({ length: concurrent }, () => switchTarget(deps, "state", { expected_from: from })));
            if (results.filter((x) => x.changed).length !== 1) throw new Error(`expected exactly one switch out of ${concurrent}`);
          }),
        );
      }
      console.log(`${concurrent} concurrent do_failover, exactly one switch: ${stats(rounds)} per round`);
    }

    // Readers never write: pollers at full speed must not delay the failover or cost a cycle.
    for (const pollers of [0, 60]) {
      const r = await benchPollers(azurite.connectionString, pollers);
      const verdict = r.detectionSeconds <= r.boundSeconds ? "within the bound" : "OVER the bound";
      console.log(
        `readers: ${pollers} clients polling health_check and status: detection-to-switch ${r.detectionSeconds.toFixed(2)} s, bound ${r.boundSeconds} s (interval x threshold + probe timeout): ${verdict}; ` +
          `lost cycles ${r.lostCycles}; ${r.cycles} cycles from the break to the switch (threshold ${POLLER_SETTINGS.failureThreshold})` +
          (pollers > 0 ? `; ${r.polls} polls, ${r.pollErrors} not 200, latency ${stats(r.pollLatenciesMs)}` : ""),
      );
    }

    // The local host above loaded every function module; the replay needs only the orchestrator's registration.
    installFunctionsCore();
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading it registers the orchestrator
    require("../../../functions/failoverOrchestrator");
    const handler = registeredFunctions().get(ORCHESTRATOR_NAME)!.handler;
    const t0 = new Date("2026-01-01T00:00:00Z");
    const input = { group: "state", interval_seconds: 30 };
    const cycle = [
      history.orchestratorStarted(t0),
      history.executionStarted(t0, ORCHESTRATOR_NAME, input),
      history.taskScheduled(t0, 0, "health_check", { group: "state" }),
      history.orchestratorCompleted(t0),
      history.orchestratorStarted(t0),
      history.taskCompleted(t0, 0, { healthy: true, active_target: "primary", recommendation: "none", check_interval_seconds: 30, last_status: "OK" }),
      history.timerCreated(t0, 1, new Date(t0.getTime() + 30000)),
      history.orchestratorCompleted(t0),
      history.orchestratorStarted(t0),
      history.timerFired(t0, 1, new Date(t0.getTime() + 30000)),
    ];
    const replays: number[] = [];
    for (let i = 0; i < n(2000, 20); i++) replays.push(await timed(async () => handler(orchestrationTriggerInput("failover-state", input, cycle), new InvocationContext())));
    console.log(`replay of one full cycle (${cycle.length} events) through the replay engine ${stats(replays.slice(n(200, 2)))}`);

    await benchSwitchPlan(azurite.connectionString, stats, n(60, 3));
    await benchStagedPlan(azurite.connectionString, stats, n(40, 3));
    await benchSwitchFaults(azurite.connectionString, n(2, 1));
  } finally {
    await primary.close();
    await secondary.close();
    await azurite.stop();
  }
}

if (require.main === module) {
  const parts = process.argv.slice(2) as BenchPart[];
  const unknown = parts.filter((p) => !BENCH_PARTS.includes(p));
  if (unknown.length > 0) throw new Error(`unknown bench part(s) ${unknown.join(", ")}: choose among ${BENCH_PARTS.join(", ")}`);
  runBench({ quick: process.env.BENCH_QUICK === "1", ...(parts.length > 0 ? { parts } : {}) }).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
