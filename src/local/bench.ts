import { InvocationContext } from "@azure/functions";
import { loadConfig } from "../core/config";
import { createDeps } from "../core/deps";
import { bootstrap, switchTarget, healthCheck } from "../core/operations";
import { ORCHESTRATOR_NAME } from "../core/orchestrationContract";
import { startAzurite } from "./azurite";
import { benchSwitchPlan } from "./benchSwitch";
import { installFunctionsCore, registeredFunctions } from "./functionsCore";
import { history, orchestrationTriggerInput } from "./replayHistory";
import { startSampleBackend } from "./sampleBackend";

/**
 * Benchmarks that print numbers (no pass/fail): the operations on Azurite, the contention
 * path, and the cost of replaying one cycle through the durable-functions replay engine.
 */

function stats(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const pick = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  return `n=${samples.length} mean=${mean.toFixed(2)} p50=${pick(0.5).toFixed(2)} p95=${pick(0.95).toFixed(2)} max=${sorted.at(-1)!.toFixed(2)} ms`;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

async function main(): Promise<void> {
  console.log("starting Azurite and two sample backends ...");
  const azurite = await startAzurite();
  const primary = await startSampleBackend("primary");
  const secondary = await startSampleBackend("secondary");
  try {
    const config = loadConfig({ AzureWebJobsStorage: azurite.connectionString, PRIMARY_ENDPOINT: primary.url, SECONDARY_ENDPOINT: secondary.url, COOLDOWN_SECONDS: "0", EGRESS_ALLOW_PRIVATE: "true" });
    const deps = createDeps(config);
    await bootstrap(deps, { group: "state" });

    const checks: number[] = [];
    for (let i = 0; i < 300; i++) checks.push(await timed(() => healthCheck(deps, "state", `bench-${i}`)));
    console.log(`health_check (read + probe + conditional write) ${stats(checks.slice(20))}`);

    const switches: number[] = [];
    for (let i = 0; i < 100; i++) switches.push(await timed(async () => switchTarget(deps, "state", { expected_from: (await deps.store.load("state")).state.active_target })));
    console.log(`do_failover (read + standby probe + conditional write + audit) ${stats(switches.slice(10))}`);

    for (const n of [10, 20, 50]) {
      const rounds: number[] = [];
      for (let r = 0; r < 5; r++) {
        const from = (await deps.store.load("state")).state.active_target;
        rounds.push(
          await timed(async () => {
            const results = await Promise.all(Array.from({ length: n }, () => switchTarget(deps, "state", { expected_from: from })));
            if (results.filter((x) => x.changed).length !== 1) throw new Error(`expected exactly one switch out of ${n}`);
          }),
        );
      }
      console.log(`${n} concurrent do_failover, exactly one switch: ${stats(rounds)} per round`);
    }

    installFunctionsCore();
    require("../functions/failoverOrchestrator");
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
    for (let i = 0; i < 2000; i++) replays.push(await timed(async () => handler(orchestrationTriggerInput("failover-state", input, cycle), new InvocationContext())));
    console.log(`replay of one full cycle (${cycle.length} events) through the replay engine ${stats(replays.slice(200))}`);

    await benchSwitchPlan(azurite.connectionString, stats);
  } finally {
    await primary.close();
    await secondary.close();
    await azurite.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
