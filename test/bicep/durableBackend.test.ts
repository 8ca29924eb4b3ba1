import { readFileSync } from "node:fs";
import path from "node:path";
import { bicepDefaults } from "../../src/local/tools/cost/costCount";
import { ROOT, buildMainTemplate, deployMain, moduleDeployment, type Json } from "./arm";
import { flatten, type Expanded } from "./armEval";

/**
 * The Durable backend choice (main.bicep durableBackend), as compiled by the real Bicep CLI and
 * expanded the way Resource Manager would for each choice: the scheduler, its task hub and the
 * identity's role exist only with the Durable Task Scheduler, scoped to that task hub; the app's
 * settings point the Durable extension at the right provider and connection. The scheduler's
 * emulator is a container image and cannot run here, so this is what can be checked.
 */

const DATA_CONTRIBUTOR = "0ad04412-c4d5-4796-b79c-f76d14c8d402";
const SETTING = (key: string) => `AzureFunctionsJobHost__extensions__durableTask__storageProvider__${key}`;

let main: Json;
beforeAll(() => {
  main = buildMainTemplate();
}, 300_000);

const deploy = (params: Record<string, Json> = {}) => flatten(deployMain(main, params));
const ofType = (resources: Expanded[], type: string) => resources.filter((r) => r.type === type);
function settings(resources: Expanded[]): Map<string, string> {
  const [site] = ofType(resources, "Microsoft.Web/sites");
  return new Map((site.resource.properties.siteConfig.appSettings as { name: string; value: string }[]).map((s) => [s.name, s.value]));
}

describe("durableBackend: Azure Storage (the default) or the Durable Task Scheduler", () => {
  test("a parameter with the two choices, Azure Storage by default; main.bicepparam reads DURABLE_BACKEND", () => {
    expect(main.parameters.durableBackend).toMatchObject({ type: "string", defaultValue: "azureStorage", allowedValues: ["azureStorage", "durableTaskScheduler"] });
    expect(readFileSync(path.join(ROOT, "bicep", "main.bicepparam"), "utf8")).toContain("param durableBackend = readEnvironmentVariable('DURABLE_BACKEND', 'azureStorage')");
  });

  test("Azure Storage: no scheduler, no task hub, no scheduler role; the app keeps the storage provider", () => {
    const resources = deploy();
    expect(resources.filter((r) => r.type.startsWith("Microsoft.DurableTask/"))).toEqual([]);
    expect(ofType(resources, "Microsoft.Authorization/roleAssignments").filter((a) => String(a.resource.properties.roleDefinitionId).endsWith(DATA_CONTRIBUTOR))).toEqual([]);
    const s = settings(resources);
    expect([s.get(SETTING("type")), s.get(SETTING("connectionName"))]).toEqual(["AzureStorage", "AzureWebJobsStorage"]);
    expect(s.get("DURABLE_TASK_SCHEDULER_CONNECTION_STRING")).toBe("");
    expect(s.get("TASK_HUB_NAME")).toBe("FailoverHubP1");
  });

  test("the scheduler: Consumption SKU (no capacity), every address allowed (RBAC decides), tagged, in the app's region; its task hub is TASK_HUB_NAME", () => {
    const resources = deploy({ durableBackend: "durableTaskScheduler" });
    const [scheduler, ...others] = ofType(resources, "Microsoft.DurableTask/schedulers");
    expect(others).toEqual([]);
    expect(scheduler.resource.apiVersion).toBe("2026-02-01");
    expect(main.variables.names.scheduler).toBe("[format('dts-{0}', variables('resourceToken'))]");
    expect(scheduler.resource.properties).toEqual({ ipAllowlist: ["0.0.0.0/0"], sku: { name: "Consumption" } });
    expect(scheduler.resource.location).toBe(ofType(resources, "Microsoft.Web/sites")[0].resource.location);
    expect(scheduler.resource.tags).toMatchObject({ application: "failover-orchestrator" });
    const hubs = ofType(resources, "Microsoft.DurableTask/schedulers/taskHubs");
    expect(hubs.map((h) => h.name)).toEqual([`${scheduler.name}/${settings(resources).get("TASK_HUB_NAME")}`]);
  });

  test("the app identity gets Durable Task Data Contributor on the task hub only, as a service principal", () => {
    const resources = deploy({ durableBackend: "durableTaskScheduler" });
    const hub = ofType(resources, "Microsoft.DurableTask/schedulers/taskHubs")[0];
    const assignments = ofType(resources, "Microsoft.Authorization/roleAssignments").filter((a) => String(a.resource.properties.roleDefinitionId).endsWith(DATA_CONTRIBUTOR));
    expect(assignments).toHaveLength(1);
    const [a] = assignments;
    const at = a.at!;
    const cut = hub.name.lastIndexOf("/");
    const hubId = `/subscriptions/${at.subscriptionId}/resourceGroups/${at.resourceGroup}/providers/Microsoft.DurableTask/schedulers/${hub.name.slice(0, cut)}/taskHubs/${hub.name.slice(cut + 1)}`;
    expect(a.resource.scope).toBe(hubId);
    expect(a.resource.properties).toEqual({
      roleDefinitionId: `/subscriptions/${at.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${DATA_CONTRIBUTOR}`,
      principalId: "reference(identity).principalId",
      principalType: "ServicePrincipal",
    });
    expect(a.name).toMatch(new RegExp(`^guid\\(${hubId.replace(/[().]/g, "\\$&")}, .*userAssignedIdentities/.*, ${DATA_CONTRIBUTOR}\\)$`));
    // The module's `identity` is the app's: main passes it the identity's name.
    expect(moduleDeployment(main, "scheduler").properties.parameters.identityName.value).toBe("[variables('names').identity]");
    // The app starts only once the scheduler module (and so the role) is deployed.
    expect(moduleDeployment(main, "functionApp").dependsOn).toContain("scheduler");
  });

  test("the app's settings: the azureManaged provider, pointed at its connection setting (also the name it reads by default), identity-based", () => {
    const s = settings(deploy({ durableBackend: "durableTaskScheduler" }));
    expect([s.get(SETTING("type")), s.get(SETTING("connectionName"))]).toEqual(["azureManaged", "DURABLE_TASK_SCHEDULER_CONNECTION_STRING"]);
    expect(s.get("DURABLE_TASK_SCHEDULER_CONNECTION_STRING")).toMatch(/^Endpoint=reference\(scheduler\)\.outputs\.endpoint;Authentication=ManagedIdentity;ClientID=reference\(identity\)\.clientId$/);
    expect(s.get("DURABLE_TASK_SCHEDULER_CONNECTION_STRING")).not.toMatch(/AccountKey|SharedAccess/);
    // Every connection key host.json's storage provider sets is overridden, else the scheduler's provider would read it.
    const host = JSON.parse(readFileSync(path.join(ROOT, "host.json"), "utf8"));
    const connectionKeys = Object.keys(host.extensions.durableTask.storageProvider).filter((k) => /^connection/.test(k));
    expect(connectionKeys.length).toBeGreaterThan(0);
    for (const key of connectionKeys) expect([key, s.get(SETTING(key))]).toEqual([key, "DURABLE_TASK_SCHEDULER_CONNECTION_STRING"]);
  });
});

describe("an in-place upgrade does not silently keep 4 partitions", () => {
  test("the default task hub names host.json's partitionCount, so changing one without the other is caught here", () => {
    const host = JSON.parse(readFileSync(path.join(ROOT, "host.json"), "utf8"));
    expect(main.parameters.taskHubName.defaultValue).toBe(`FailoverHubP${host.extensions.durableTask.storageProvider.partitionCount}`);
  });

  test("on Azure Storage the hub earlier deployments created with 4 partitions is refused with the reason; the scheduler has no partitions and takes the name", () => {
    for (const name of ["FailoverHub", "failoverhub", "FAILOVERHUB"]) {
      expect(() => deploy({ taskHubName: name })).toThrow(/fail\(\): taskHubName "\w+" is the task hub earlier deployments created with 4 partitions, which it keeps whatever host.json says: use a new name/);
    }
    expect(settings(deploy({ taskHubName: "FailoverHub", durableBackend: "durableTaskScheduler" })).get("TASK_HUB_NAME")).toBe("FailoverHub");
    expect(settings(deploy({ taskHubName: "FailoverHub2" })).get("TASK_HUB_NAME")).toBe("FailoverHub2");
    expect(() => deploy({ taskHubName: "failover-hub" })).toThrow(/must hold only letters and digits \(the Durable Azure Storage provider refuses it\)/);
  });
});

describe("the cost model's deployment", () => {
  test("reads main.bicep's defaults: the backend, the instance memory and the always-ready count", () => {
    expect(bicepDefaults()).toEqual({
      backend: main.parameters.durableBackend.defaultValue,
      memoryMb: main.parameters.instanceMemoryMB.defaultValue,
      alwaysReadyInstances: main.parameters.durableAlwaysReadyInstances.defaultValue,
    });
  });
});
