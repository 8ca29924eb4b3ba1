import { loadConfig } from "../../src/core/config";
import { createDeps, type FailoverDeps } from "../../src/core/deps";
import { bootstrap, getPlan, removePlan, setPlan } from "../../src/core/operations";
import { standInCredential } from "../../src/local/services/azureStandIn/credential";
import { samplePlan, seedSampleTargets } from "../../src/local/services/azureStandIn/sampleTargets";
import { startAzureStandIn, type AzureStandIn } from "../../src/local/services/azureStandIn/server";
import { testEnv } from "../helpers/env";

/** A group's switch plan through the core operations behind GET, PUT and DELETE /api/plan, on Azurite and the Azure stand-in. */
describe("switch plans through the API's operations", () => {
  let standIn: AzureStandIn;
  let deps: FailoverDeps;
  const TM_ROLE = "a4b10055-b0c7-44c2-b00f-c7b5b3550cf7";

  beforeEach(async () => {
    standIn = await startAzureStandIn();
    seedSampleTargets(standIn);
    const settings = { PRIMARY_ENDPOINT: "http://127.0.0.1:9/p", SECONDARY_ENDPOINT: "http://127.0.0.1:9/s", SWITCH_PLAN: JSON.stringify(samplePlan(standIn, ["dns"])), ...standIn.appSettings() };
    deps = createDeps(loadConfig(testEnv(settings)), { credential: standInCredential });
    await bootstrap(deps, { group: "state" });
    await bootstrap(deps, { group: "payments", primary_endpoint: "http://127.0.0.1:9/p2", secondary_endpoint: "http://127.0.0.1:9/s2" });
  });
  afterEach(() => standIn.stop());

  const history = async (group: string) => (await deps.audit.list(group, 20)).entries;

  test("a group without a plan reads none; the default group reads SWITCH_PLAN; a plan set on a group is validated, checked for readiness, written on the row with an audit entry; the same plan again changes nothing", async () => {
    expect(await getPlan(deps, "payments")).toMatchObject({ group: "payments", plan: null, source: "none", etag: expect.any(String) });
    expect(await getPlan(deps, "state")).toMatchObject({ source: "SWITCH_PLAN", plan: { steps: [{ kind: "dns" }], generation: expect.stringMatching(/^[0-9a-f]{12}$/) } });

    const plan = samplePlan(standIn, ["traffic_manager", "dns"]);
    const set = await setPlan(deps, "payments", plan, { actor: "ops", reason: "go live" });
    expect(set).toMatchObject({ changed: true, source: "switch_plan", plan: { steps: [{ kind: "traffic_manager" }, { kind: "dns" }] }, readiness: { ready: true, problems: [] } });
    expect((await deps.store.load("payments")).state).toMatchObject({ readiness_ready: true });
    expect(await history("payments")).toEqual([
      expect.objectContaining({ kind: "plan_changed", actor: "ops", reason: expect.stringMatching(/^switch plan set \(generation [0-9a-f]{12}, 2 step\(s\), ready\): go live$/) }),
    ]);
    expect(await getPlan(deps, "payments")).toMatchObject({ source: "switch_plan", plan: { generation: set.plan!.generation } });
    expect(await setPlan(deps, "payments", plan)).toMatchObject({ changed: false });
    expect(await history("payments")).toHaveLength(1);
    expect(standIn.writes()).toEqual([]);
  });

  test("a plan that is not ready is still set, with every problem named; a malformed one is refused naming the step and field, the row untouched", async () => {
    standIn.revoke(TM_ROLE);
    const notReady = await setPlan(deps, "payments", samplePlan(standIn, ["traffic_manager"]));
    expect(notReady.readiness).toMatchObject({ ready: false, problems: [expect.stringContaining("grant Traffic Manager Contributor")] });
    const before = (await deps.store.load("payments")).etag;
    const bad = samplePlan(standIn, ["dns"]);
    bad.steps[0].zone_id = "/not/a/zone";
    await expect(setPlan(deps, "payments", bad)).rejects.toMatchObject({
      code: "invalid_request",
      issues: [{ path: "plan", message: expect.stringContaining("step 0 (dns): zone_id: must be a resource ID") }],
    });
    await expect(setPlan(deps, "payments", { steps: [{ ...samplePlan(standIn, ["app_configuration"]).steps[0], endpoint: "https://169.254.169.254" }] })).rejects.toMatchObject({
      code: "invalid_request",
      message: expect.stringContaining("is not an App Configuration store of this cloud"),
    });
    expect((await deps.store.load("payments")).etag).toBe(before);
  });

  test("If-Match: a change against a row that changed since it was read is refused (precondition_failed); the current ETag works", async () => {
    const read = await getPlan(deps, "payments");
    await setPlan(deps, "payments", samplePlan(standIn, ["dns"]), { ifMatch: read.etag });
    await expect(setPlan(deps, "payments", samplePlan(standIn, ["traffic_manager"]), { ifMatch: read.etag })).rejects.toMatchObject({
      code: "precondition_failed",
      message: expect.stringContaining("changed since you read it"),
    });
    await expect(removePlan(deps, "payments", { ifMatch: read.etag })).rejects.toMatchObject({ code: "precondition_failed" });
    const now = await getPlan(deps, "payments");
    expect(await removePlan(deps, "payments", { ifMatch: now.etag, actor: "ops" })).toMatchObject({ changed: true, source: "none", plan: null });
    expect((await history("payments"))[0]).toMatchObject({ kind: "plan_changed", reason: "switch plan removed from the row" });
    expect(await removePlan(deps, "payments")).toMatchObject({ changed: false });
  });

  test("removing the default group's own plan falls back to SWITCH_PLAN", async () => {
    await setPlan(deps, "state", samplePlan(standIn, ["traffic_manager"]));
    expect(await getPlan(deps, "state")).toMatchObject({ source: "switch_plan", plan: { steps: [{ kind: "traffic_manager" }] } });
    expect(await removePlan(deps, "state")).toMatchObject({ changed: true, source: "SWITCH_PLAN", plan: { steps: [{ kind: "dns" }] } });
  });
});
