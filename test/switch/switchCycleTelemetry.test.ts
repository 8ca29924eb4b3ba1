import type { Histogram } from "@opentelemetry/sdk-metrics";
import { loadConfig } from "../../src/core/config";
import { createDeps } from "../../src/core/deps";
import { bootstrap, switchCycle, switchTarget } from "../../src/core/operations";
import { ATTR, METRICS } from "../../src/core/telemetry";
import { standInCredential } from "../../src/local/services/azureStandIn/credential";
import { samplePlan, seedSampleTargets } from "../../src/local/services/azureStandIn/sampleTargets";
import { startAzureStandIn, type AzureStandIn } from "../../src/local/services/azureStandIn/server";
import { ManualClock, testEnv } from "../helpers/env";
import { captureTelemetry, points, type CapturedTelemetry } from "../helpers/telemetry";

/**
 * The switch cycle's step metrics, on Azurite and the local Azure stand-in with the real SDK
 * clients, in virtual time: what the "switch failed" alert counts and what the apply and verify
 * histograms hold, read back through the OpenTelemetry SDK.
 */
describe("switch_cycle feeds the switch-step metrics", () => {
  let standIn: AzureStandIn;
  let telemetry: CapturedTelemetry;
  const clock = new ManualClock();

  beforeEach(async () => {
    standIn = await startAzureStandIn({ now: () => clock.now().getTime(), frontDoorDeploymentMs: 20_000 });
    seedSampleTargets(standIn);
    telemetry = captureTelemetry();
  });
  afterEach(async () => {
    await telemetry.stop();
    await standIn.stop();
  });

  test("adoption records nothing; a failed apply counts the failing step by phase and error class; the retried switch records every step's apply, and its verification once the plan verified", async () => {
    const env = testEnv({
      PRIMARY_ENDPOINT: "http://127.0.0.1:9/health",
      SECONDARY_ENDPOINT: "http://127.0.0.1:10/health",
      SWITCH_PLAN: JSON.stringify(samplePlan(standIn, ["traffic_manager", "dns", "front_door"])),
      ...standIn.appSettings(),
    });
    const deps = createDeps(loadConfig(env), { clock, credential: standInCredential });
    await bootstrap(deps, { group: "state" });
    const group = { [ATTR.group]: "state" };
    const metric = async (name: string) => points((await telemetry.collect()).get(name), group);
    const byKind = (ps: Awaited<ReturnType<typeof metric>>) => ps.map((p) => [p.attributes[ATTR.stepKind], p.attributes[ATTR.errorType], (p.value as Histogram).count]).sort();

    // Adopting the plan: the world already matches the row; verification alone is no switch.
    expect(await switchCycle(deps, "state")).toMatchObject({ action: "verify", switch_state: "verified" });
    expect(await metric(METRICS.switchApplyDuration)).toEqual([]);
    expect(await metric(METRICS.switchVerifyDuration)).toEqual([]);

    expect(await switchTarget(deps, "state", { force: true, expected_from: "primary", reason: "drill" })).toMatchObject({ changed: true });
    standIn.inject({ method: "PUT", pathIncludes: "/CNAME/www", status: 500, message: "Internal Server Error" });
    expect(await switchCycle(deps, "state")).toMatchObject({ action: "apply", switch_state: "failed", error_class: "server_error" });
    expect(byKind(await metric(METRICS.switchApplyDuration))).toEqual([
      ["dns", "server_error", 1],
      ["traffic_manager", undefined, 1],
    ]);
    const failures = (await metric(METRICS.switchStepFailures)).map((p) => [p.attributes[ATTR.stepKind], p.attributes[ATTR.switchPhase], p.attributes[ATTR.errorType], p.value]);
    expect(failures).toEqual([["dns", "apply", "server_error", 1]]);

    // After the backoff: Front Door's new origin is enabled and deploys for 20 s; the old one waits for it (pending).
    clock.advance(60);
    expect(await switchCycle(deps, "state")).toMatchObject({ action: "apply", switch_state: "applying" });
    expect(byKind(await metric(METRICS.switchApplyDuration))).toEqual([
      ["dns", undefined, 1],
      ["dns", "server_error", 1],
      ["front_door", undefined, 1],
      ["traffic_manager", undefined, 2],
    ]);
    // Deployed: the old origin is disabled, and deploys in turn, so the plan is propagating.
    clock.advance(20);
    expect(await switchCycle(deps, "state")).toMatchObject({ action: "apply", switch_state: "propagating" });
    expect(await metric(METRICS.switchVerifyDuration)).toEqual([]);

    clock.advance(30);
    expect(await switchCycle(deps, "state")).toMatchObject({ action: "verify", switch_state: "verified" });
    const verify = (await metric(METRICS.switchVerifyDuration)).map((p) => [p.attributes[ATTR.stepKind], (p.value as Histogram).count, (p.value as Histogram).sum]);
    expect(verify.sort()).toEqual([
      ["dns", 1, 30],
      ["front_door", 1, 30],
      ["traffic_manager", 1, 30],
    ]);
    // Settled: a later cycle records nothing more.
    clock.advance(30);
    expect(await switchCycle(deps, "state")).toMatchObject({ action: "settled" });
    expect((await metric(METRICS.switchVerifyDuration)).map((p) => (p.value as Histogram).count)).toEqual([1, 1, 1]);
    expect((await metric(METRICS.switchStepFailures)).map((p) => p.value)).toEqual([1]);
  });
});
