import { TableClient } from "@azure/data-tables";
import type { Clock } from "../../../core/clock";
import { loadConfig } from "../../../core/config";
import { createDeps } from "../../../core/deps";
import { bootstrap, switchCycle, switchTarget } from "../../../core/operations";
import { PARTITION_KEY } from "../../../core/state";
import { standInCredential } from "../../services/azureStandIn/credential";
import { SAMPLE_IDS, samplePlan, seedSampleTargets } from "../../services/azureStandIn/sampleTargets";
import { startAzureStandIn, type AzureStandIn } from "../../services/azureStandIn/server";
import { call, eventually } from "../client";
import { startLocalHost } from "../../host/host";
import { startSampleBackend } from "../../services/sampleBackend";

/**
 * What the switch saga does when Azure misbehaves, measured against the local stand-in (numbers
 * only): the longest time a Traffic Manager or Front Door pair had nothing enabled across the
 * fault scenarios (it must be 0), the loop's longest gap between two checks while an ARM write
 * hangs (real orchestration on the local host), the time from the end of a 429 storm to the
 * verified switch, and the write attempts after a permanent error.
 */

const TM_PAIR = ["app-east", "app-west"].map((e) => `${SAMPLE_IDS.trafficManager}/ExternalEndpoints/${e}`);
const FD_PAIR = ["east", "west"].map((o) => `${SAMPLE_IDS.frontDoor}/originGroups/og-app/origins/${o}`);

class StepClock implements Clock {
  constructor(public ms = Date.parse("2026-01-01T00:00:00Z")) {}
  now(): Date {
    return new Date(this.ms);
  }
}

/** A group on Azurite with a plan over the stand-in's sample world, in virtual time, after the plan was adopted. */
async function sagaGroup(connectionString: string, kinds: Array<"traffic_manager" | "front_door">, settings: Record<string, string> = {}, planExtra: Record<string, unknown> = {}) {
  const clock = new StepClock();
  const standIn = await startAzureStandIn({ now: () => clock.ms, frontDoorDeploymentMs: 600_000 });
  seedSampleTargets(standIn);
  const suffix = Math.random().toString(36).slice(2, 8);
  const deps = createDeps(
    loadConfig({
      AzureWebJobsStorage: connectionString,
      FAILOVER_TABLE: `benchfaults${suffix}`,
      FAILOVER_HISTORY_TABLE: `benchfaulthist${suffix}`,
      PRIMARY_ENDPOINT: "http://127.0.0.1:9/primary",
      SECONDARY_ENDPOINT: "http://127.0.0.1:9/secondary",
      EGRESS_ALLOW_PRIVATE: "true",
      DRIFT_CHECK_EVERY: "0",
      SWITCH_PLAN: JSON.stringify({ ...planExtra, ...samplePlan(standIn, kinds) }),
      ...standIn.appSettings(),
      ...settings,
    }),
    { clock, credential: standInCredential },
  );
  await bootstrap(deps, { group: "state" });
  await switchCycle(deps, "state");
  const failover = () => switchTarget(deps, "state", { force: true, expected_from: "primary", reason: "bench" });
  /** Cycles every `step` virtual seconds until the switch is verified (or `limit` cycles); answers the virtual time it took. */
  const untilVerified = async (step = 5, limit = 400): Promise<number> => {
    const start = clock.ms;
    for (let i = 0; i < limit; i++) {
      if ((await switchCycle(deps, "state")).switch_state === "verified") return clock.ms - start;
      clock.ms += step * 1000;
    }
    throw new Error("the switch did not verify");
  };
  return { clock, standIn, deps, failover, untilVerified };
}

function unserved(standIn: AzureStandIn, ids: readonly string[], until: number): number {
  return Math.max(standIn.resources.serving.longestUnserved(ids, "control", until).ms, standIn.resources.serving.longestUnserved(ids, "deployed", until).ms);
}

/** `hungCalls`: how many ARM writes of the real loop never answer (each costs a deadline and a backoff). */
export async function benchSwitchFaults(connectionString: string, hungCalls = 2): Promise<void> {
  // 1. Longest window with nothing enabled, across the Front Door and Traffic Manager fault scenarios.
  const windows: Array<[string, number]> = [];
  {
    const g = await sagaGroup(connectionString, ["front_door"]);
    g.standIn.resources.failNextUpdate(FD_PAIR[1]);
    g.standIn.inject({ method: "GET", pathIncludes: "/operationresults/", status: 500 });
    await g.failover();
    await g.untilVerified(30);
    windows.push(["Front Door: update Failed after a status poll error", unserved(g.standIn, FD_PAIR, g.clock.ms)]);
    await g.standIn.stop();
  }
  {
    const g = await sagaGroup(connectionString, ["traffic_manager"], { SWITCH_CALL_TIMEOUT_SECONDS: "1" });
    g.standIn.inject({ method: "PATCH", pathIncludes: "app-east", hang: true });
    await g.failover();
    await g.untilVerified();
    windows.push(["Traffic Manager: disabling the old endpoint hangs", unserved(g.standIn, TM_PAIR, g.clock.ms)]);
    await g.standIn.stop();
  }
  for (const onFailure of ["hold", "compensate"]) {
    const g = await sagaGroup(connectionString, ["traffic_manager", "front_door"], {}, { on_failure: onFailure });
    g.standIn.lock(SAMPLE_IDS.frontDoor);
    await g.failover();
    for (let i = 0; i < 5; i++) {
      await switchCycle(g.deps, "state");
      g.clock.ms += 60_000;
    }
    windows.push([`a lock on Front Door after Traffic Manager moved (on_failure=${onFailure})`, Math.max(unserved(g.standIn, TM_PAIR, g.clock.ms), unserved(g.standIn, FD_PAIR, g.clock.ms))]);
    await g.standIn.stop();
  }
  console.log(`switch faults: longest time a pair had nothing enabled (control plane or edge): ${windows.map(([what, ms]) => `${what} ${ms} ms`).join("; ")}`);

  // 2. A 20 s storm of 429s with Retry-After 5: from the storm's end to the verified switch, in virtual time, cycles every second.
  {
    const g = await sagaGroup(connectionString, ["traffic_manager"]);
    const stormEnds = g.clock.ms + 20_000;
    g.standIn.inject({ pathIncludes: "tm-app", status: 429, retryAfterSeconds: 5, until: stormEnds });
    await g.failover();
    const took = await g.untilVerified(1);
    console.log(
      `switch faults: a 20 s storm of 429s (Retry-After: 5), cycles every 1 s: verified ${((g.clock.ms - stormEnds) / 1000).toFixed(1)} s after the storm ended (${(took / 1000).toFixed(0)} s after the switch)`,
    );
    await g.standIn.stop();
  }

  // 3. A permanent error: how many writes follow the first refused one.
  {
    const g = await sagaGroup(connectionString, ["traffic_manager"]);
    g.standIn.lock(SAMPLE_IDS.trafficManager);
    await g.failover();
    for (let i = 0; i < 10; i++) {
      await switchCycle(g.deps, "state");
      g.clock.ms += 60_000;
    }
    const writes = g.standIn.writes();
    const first = writes.findIndex((w) => w.status === 409);
    const audit = (await g.deps.audit.list("state", 50)).entries.filter((e) => e.kind === "switch_held" || e.kind === "switch_failed").length;
    console.log(
      `switch faults: a resource lock (409 ScopeLocked) over 10 cycles: ${writes.length} write attempt(s), ${writes.length - first - 1} after the first refused one; ${audit} audit entry for the episode; state ${(await g.deps.store.load("state")).state.switch_state}`,
    );
    await g.standIn.stop();
  }

  // 4. The real loop on the local host while an ARM write hangs: the longest gap between two checks.
  await benchHungCall(connectionString, hungCalls);
}

async function benchHungCall(connectionString: string, hungCalls: number): Promise<void> {
  const standIn = await startAzureStandIn();
  seedSampleTargets(standIn);
  const primary = await startSampleBackend("primary");
  const secondary = await startSampleBackend("secondary");
  const suffix = Math.random().toString(36).slice(2, 8);
  const deadline = 2;
  const interval = 1;
  const host = await startLocalHost({
    env: {
      AzureWebJobsStorage: connectionString,
      PRIMARY_ENDPOINT: primary.url,
      SECONDARY_ENDPOINT: secondary.url,
      FAILOVER_TABLE: `benchhang${suffix}`,
      FAILOVER_HISTORY_TABLE: `benchhanghist${suffix}`,
      CHECK_INTERVAL_SECONDS: String(interval),
      FAILURE_THRESHOLD: "2",
      PROBE_TIMEOUT_MS: "500",
      COOLDOWN_SECONDS: "0",
      EGRESS_ALLOW_PRIVATE: "true",
      DRIFT_CHECK_EVERY: "0",
      SWITCH_CALL_TIMEOUT_SECONDS: String(deadline),
      SWITCH_PLAN: JSON.stringify(samplePlan(standIn, ["traffic_manager"])),
      ...standIn.appSettings(),
    },
    timers: false,
    credential: standInCredential,
    log: () => undefined,
  });
  try {
    const table = TableClient.fromConnectionString(connectionString, `benchhang${suffix}`, { allowInsecureConnection: true });
    const row = () => table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state");
    await call(host.url, "POST", "/api/init");
    await call(host.url, "POST", "/api/start");
    await eventually("the plan adopted", async () => ((await row()).switch_state === "verified" ? true : undefined), 30_000);
    standIn.inject({ method: "PATCH", pathIncludes: "app-west", hang: true, times: hungCalls });
    const from = Date.now();
    primary.behave({ kind: "status", status: 503 });
    await eventually("the switch verified", async () => ((await row()).active_target === "secondary" && (await row()).switch_state === "verified" ? true : undefined), 60_000);
    const probes = primary.times.filter((t) => t >= from);
    const gaps = probes.slice(1).map((t, i) => t - probes[i]);
    const hung = standIn.log.filter((r) => r.status === 0).length;
    console.log(
      `switch faults: the real loop while an ARM write never answers (${hung} hung call(s), SWITCH_CALL_TIMEOUT_SECONDS=${deadline}, interval ${interval} s): longest gap between two checks ${(Math.max(...gaps) / 1000).toFixed(2)} s (bound interval + deadline = ${interval + deadline} s); switch verified ${((Date.now() - from) / 1000).toFixed(1)} s after the break`,
    );
  } finally {
    await host.stop();
    await primary.close();
    await secondary.close();
    await standIn.stop();
  }
}
