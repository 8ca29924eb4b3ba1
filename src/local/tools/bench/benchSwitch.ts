import { loadConfig } from "../../../core/config";
import { createDeps } from "../../../core/deps";
import { bootstrap, switchCycle, switchTarget } from "../../../core/operations";
import { parsePlan } from "../../../core/switch/plan";
import { applyPlan, buildRunners } from "../../../core/switch/runPlan";
import { SwitchSession } from "../../../core/switch/session";
import { standInCredential } from "../../services/azureStandIn/credential";
import { samplePlan, seedSampleTargets } from "../../services/azureStandIn/sampleTargets";
import { startAzureStandIn } from "../../services/azureStandIn/server";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * What a Traffic Manager + DNS switch plan adds to a failover, against the local stand-in of
 * Azure's API: the switch cycle (apply, verify, the row's result write and the audit entries),
 * timed per switch, and the requests it sends. Numbers only; nothing passes or fails.
 */
export async function benchSwitchPlan(connectionString: string, stats: (samples: number[]) => string, switches = 60): Promise<void> {
  const standIn = await startAzureStandIn();
  try {
    seedSampleTargets(standIn);
    const config = loadConfig({
      AzureWebJobsStorage: connectionString,
      FAILOVER_TABLE: "benchswitchstate",
      FAILOVER_HISTORY_TABLE: "benchswitchhistory",
      PRIMARY_ENDPOINT: "http://127.0.0.1:9/primary",
      SECONDARY_ENDPOINT: "http://127.0.0.1:9/secondary",
      COOLDOWN_SECONDS: "0",
      // The bench's endpoints are on loopback, which the egress policy refuses by default.
      EGRESS_ALLOW_PRIVATE: "true",
      SWITCH_PLAN: JSON.stringify(samplePlan(standIn, ["traffic_manager", "dns"])),
      ...standIn.appSettings(),
    });
    const deps = createDeps(config, { credential: standInCredential });
    await bootstrap(deps, { group: "state" });
    await switchCycle(deps, "state"); // adopt the plan (verify only), and warm the clients
    const added: number[] = [];
    const reads: number[] = [];
    const writes: number[] = [];
    for (let i = 0; i < switches; i++) {
      const from = (await deps.store.load("state")).state.active_target;
      await switchTarget(deps, "state", { force: true, expected_from: from, reason: "bench" });
      const before = standIn.log.length;
      const t0 = performance.now();
      const result = await switchCycle(deps, "state");
      added.push(performance.now() - t0);
      if (result.switch_state !== "verified") throw new Error(`switch ${i} ended ${result.switch_state}: ${result.error}`);
      const requests = standIn.log.slice(before);
      reads.push(requests.filter((r) => r.method === "GET").length);
      writes.push(requests.filter((r) => r.method !== "GET").length);
    }
    // An activity delivered twice: the plan applied again for the side already active.
    const state = (await deps.store.load("state")).state;
    // Outside a cycle: a session whose fence always passes (nothing else changes the row here).
    const session = new SwitchSession({ callTimeoutMs: config.controlPlane.callTimeoutMs, budgetMs: config.controlPlane.cycleBudgetMs, fence: async () => undefined });
    session.applying = true;
    const runners = buildRunners(parsePlan(config.switchPlan!, "SWITCH_PLAN"), deps.switchClients(), session);
    const mark = standIn.log.length;
    const again = await applyPlan(runners, { group: "state", failoverCount: state.failover_count, from: state.active_target === "primary" ? "secondary" : "primary", to: state.active_target });
    if (again.outcome !== "applied") throw new Error(`repeat failed: ${again.error}`);
    session.close();
    const repeat = standIn.log.slice(mark);
    // The drift check of a verified switch, every cycle by default: it must only read.
    const driftMark = standIn.log.length;
    const drift: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      const result = await switchCycle(deps, "state");
      drift.push(performance.now() - t0);
      if (result.drift) throw new Error(`drift found in the bench: ${result.drift}`);
    }
    const driftRequests = standIn.log.slice(driftMark);
    const avg = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(1);
    console.log(`switch plan traffic_manager + dns, time the switch cycle adds to a failover (apply + verify + row write + audit): ${stats(added.slice(switches > 10 ? 5 : 0))}`);
    console.log(`  requests per switch: ${avg(reads)} reads, ${avg(writes)} writes (apply: one read and one write per side per step; verify: one read per side per step)`);
    console.log(
      `  the plan applied again for the side already active (an activity run twice): ${repeat.filter((r) => r.method === "GET").length} reads, ${repeat.filter((r) => r.method !== "GET").length} writes`,
    );
    console.log(
      `  a drift check with nothing drifted (switch_cycle on a verified switch): ${stats(drift.slice(5))}; per check ${(driftRequests.filter((r) => r.method === "GET").length / drift.length).toFixed(1)} reads, ${driftRequests.filter((r) => r.method !== "GET").length} writes`,
    );
  } finally {
    await standIn.stop();
  }
}

/** The step a stand-in request belongs to, by its path. */
function stepOfRequest(path: string): string {
  if (/trafficmanagerprofiles/i.test(path)) return "traffic_manager";
  if (/dnszones/i.test(path)) return "dns";
  if (/\/kv\//i.test(path)) return "app_configuration";
  if (/microsoft\.sql/i.test(path)) return "sql_failover_group";
  if (/microsoft\.documentdb/i.test(path)) return "cosmos_db";
  return /permissions/i.test(path) ? "permissions" : "other";
}

/**
 * A plan of six steps in three stages against the stand-in (the data tier: an Azure SQL failover group and a Cosmos DB account | the
 * configuration: App Configuration | the traffic: Traffic Manager, DNS and a signed webhook to a
 * local receiver, in parallel): from the decision (the switch written to the row) to every step
 * verified, and the reads and writes of each step per switch.
 */
export async function benchStagedPlan(connectionString: string, stats: (samples: number[]) => string, switches = 40): Promise<void> {
  const standIn = await startAzureStandIn();
  let webhookCalls = 0;
  const receiver = createServer((req, res) => {
    webhookCalls++;
    req.resume();
    req.on("end", () => res.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  try {
    seedSampleTargets(standIn);
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/switch`;
    const [sql, cosmos, appConfiguration, trafficManager, dns, webhook] = samplePlan(
      standIn,
      ["sql_failover_group", "cosmos_db", "app_configuration", "traffic_manager", "dns", "webhook"],
      url,
      "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    ).steps;
    const plan = {
      stages: [
        { name: "data tier", steps: [sql, cosmos] },
        { name: "configuration", steps: [appConfiguration] },
        { name: "traffic", steps: [trafficManager, dns, webhook] },
      ],
    };
    const config = loadConfig({
      AzureWebJobsStorage: connectionString,
      FAILOVER_TABLE: "benchstagedstate",
      FAILOVER_HISTORY_TABLE: "benchstagedhistory",
      PRIMARY_ENDPOINT: "http://127.0.0.1:9/primary",
      SECONDARY_ENDPOINT: "http://127.0.0.1:9/secondary",
      COOLDOWN_SECONDS: "0",
      EGRESS_ALLOW_PRIVATE: "true",
      SWITCH_PLAN: JSON.stringify(plan),
      ...standIn.appSettings(),
    });
    const deps = createDeps(config, { credential: standInCredential });
    await bootstrap(deps, { group: "state" });
    await switchCycle(deps, "state");
    const decisionToVerified: number[] = [];
    const perStep = new Map<string, { reads: number; writes: number }>();
    const hooksBefore = webhookCalls;
    for (let i = 0; i < switches; i++) {
      const from = (await deps.store.load("state")).state.active_target;
      const before = standIn.log.length;
      const t0 = performance.now();
      await switchTarget(deps, "state", { force: true, expected_from: from, reason: "bench" });
      const result = await switchCycle(deps, "state");
      decisionToVerified.push(performance.now() - t0);
      if (result.switch_state !== "verified") throw new Error(`staged switch ${i} ended ${result.switch_state}: ${result.error}`);
      for (const r of standIn.log.slice(before)) {
        const step = stepOfRequest(r.path);
        const counts = perStep.get(step) ?? { reads: 0, writes: 0 };
        if (r.method === "GET") counts.reads++;
        else counts.writes++;
        perStep.set(step, counts);
      }
    }
    const per = (step: string) => {
      const c = perStep.get(step) ?? { reads: 0, writes: 0 };
      return `${step} ${(c.reads / switches).toFixed(1)} reads ${(c.writes / switches).toFixed(1)} writes`;
    };
    console.log(
      `staged plan sql_failover_group + cosmos_db | app_configuration | traffic_manager + dns + webhook, decision to verified (row write + apply stage by stage + verify + audit): ${stats(decisionToVerified.slice(switches > 10 ? 5 : 0))}`,
    );
    console.log(
      `  per switch: ${["sql_failover_group", "cosmos_db", "app_configuration", "traffic_manager", "dns"].map(per).join("; ")}; webhook ${((webhookCalls - hooksBefore) / switches).toFixed(1)} POST`,
    );
  } finally {
    receiver.close();
    await standIn.stop();
  }
}
