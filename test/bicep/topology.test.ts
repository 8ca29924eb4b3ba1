import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { BICEP_SCRIPT, ROOT, bicep, buildMainTemplate, deployMain, mainParameterOf, makeTempDir, moduleDeployment, readJson, type Json } from "./arm";
import { flatten, type Expanded } from "./armEval";

/**
 * The deployment's side of "a topology no single region can blind" (docs/policy.md, "Vantages and
 * quorum"): the controller learns where the default group's primary and secondary run
 * (PRIMARY_REGION, SECONDARY_REGION, from the primaryRegion and secondaryRegion parameters) and
 * where its state storage account is (STATE_STORAGE_REGION, the account's own location), so that
 * readiness can report a controller or state storage in the primary's region. Checked in the ARM
 * the real Bicep CLI compiles, and expanded for given parameters the way Resource Manager would.
 */

let main: Json;

beforeAll(() => {
  main = buildMainTemplate();
}, 300_000);

const SETTINGS = ["PRIMARY_REGION", "SECONDARY_REGION", "STATE_STORAGE_REGION"] as const;

/** The controller's function app as compiled: its resource and the module template declaring it. */
function compiledController(): { template: Json; site: Json } {
  const template = moduleDeployment(main, "functionApp").properties.template;
  const site = Object.values<Json>(template.resources).find((r) => r.type === "Microsoft.Web/sites" && r.existing !== true);
  return { template, site };
}

function compiledSetting(name: string): string {
  const found = (compiledController().site.properties.siteConfig.appSettings as { name: string; value: string }[]).filter((s) => s.name === name);
  expect([name, found.length]).toEqual([name, 1]);
  return found[0].value;
}

/** The controller's app settings once main.bicep is deployed with these parameters. */
function deployedSettings(params: Record<string, Json>): Map<string, unknown> {
  const resources: Expanded[] = deployMain(main, params).filter((r) => r.symbol === "functionApp");
  const sites = flatten(resources).filter((r) => r.type === "Microsoft.Web/sites");
  expect(sites).toHaveLength(1);
  return new Map((sites[0].resource.properties.siteConfig.appSettings as { name: string; value: unknown }[]).map((s) => [s.name, s.value]));
}

const valuesOf = (settings: Map<string, unknown>) => SETTINGS.map((name) => settings.get(name));

describe("the regions of the topology check", () => {
  test("primaryRegion and secondaryRegion are optional strings, empty by default, whose descriptions say what readiness checks", () => {
    expect(main.parameters.primaryRegion).toMatchObject({ type: "string", defaultValue: "" });
    expect(main.parameters.secondaryRegion).toMatchObject({ type: "string", defaultValue: "" });
    const primary: string = main.parameters.primaryRegion.metadata.description;
    expect(primary).toMatch(/^PRIMARY_REGION: /);
    expect(primary).toMatch(/GET \/api\/readiness/);
    expect(primary).toMatch(/controller or its state storage \(location\) is in the primary's region/);
    expect(primary).toMatch(/Empty: not declared\.$/);
    expect(main.parameters.secondaryRegion.metadata.description).toMatch(/^SECONDARY_REGION: .*Empty: not declared\.$/);
  });

  test("PRIMARY_REGION and SECONDARY_REGION are wired from those parameters through the failover settings", () => {
    expect(mainParameterOf(main, "functionApp", compiledSetting("PRIMARY_REGION"))).toBe("primaryRegion");
    expect(mainParameterOf(main, "functionApp", compiledSetting("SECONDARY_REGION"))).toBe("secondaryRegion");
    expect(main.variables.failover).toMatchObject({ primaryRegion: "[parameters('primaryRegion')]", secondaryRegion: "[parameters('secondaryRegion')]" });
  });

  test("STATE_STORAGE_REGION is the state storage account's own location, as Resource Manager reports it, not a parameter", () => {
    const value = compiledSetting("STATE_STORAGE_REGION");
    const ref = /reference\('(\w+)', '[^']+', 'full'\)\.location/.exec(value);
    expect(ref).not.toBeNull();
    expect(value).not.toMatch(/parameters\(/);
    // The reference is the module's `existing` storage account, named by what main passes ...
    const { template } = compiledController();
    const account = template.resources[ref![1]];
    expect(account).toMatchObject({ existing: true, type: "Microsoft.Storage/storageAccounts", name: "[parameters('storageAccountName')]" });
    expect(moduleDeployment(main, "functionApp").properties.parameters.storageAccountName.value).toBe("[variables('names').storage]");
    // ... which is the account the storage module creates, the one that holds the state table.
    const storage = moduleDeployment(main, "storage");
    expect(storage.properties.parameters.name.value).toBe("[variables('names').storage]");
    expect(storage.properties.parameters.stateTableName.value).toBe("[parameters('failoverTable')]");
  });

  test("deployed: empty regions by default; declared ones written as short names; the storage region read from the account", () => {
    expect(valuesOf(deployedSettings({}))).toEqual(["", "", "reference(storage).location"]);
    expect(valuesOf(deployedSettings({ primaryRegion: "westeurope", secondaryRegion: "northeurope" }))).toEqual(["westeurope", "northeurope", "reference(storage).location"]);
    // A display name, as the portal shows it, becomes the short name REGION_NAME uses.
    expect(valuesOf(deployedSettings({ primaryRegion: "West Europe", secondaryRegion: "East US 2" })).slice(0, 2)).toEqual(["westeurope", "eastus2"]);
  });

  test("regionName, evaluated by the real Bicep evaluator: short names kept, display names made short, empty kept empty", () => {
    const source = readFileSync(path.join(ROOT, "bicep", "modules", "functionapp.bicep"), "utf8");
    const definition = source.split("\n").find((line) => line.startsWith("func regionName("));
    expect(definition).toBeDefined();
    const names = ["westeurope", "West Europe", "East US 2", "SWEDENCENTRAL", ""];
    const input = [definition, ...names.map((n) => `regionName('${n}')`)].join("\n") + "\n";
    const result = spawnSync("bash", [BICEP_SCRIPT, "console"], { cwd: ROOT, input, encoding: "utf8" });
    expect(result.status).toBe(0);
    const answers = result.stdout
      .split("\n")
      .filter((line) => line.startsWith("'"))
      .map((line) => line.slice(1, -1));
    expect(answers).toEqual(["westeurope", "westeurope", "eastus2", "swedencentral", ""]);
  });

  test("main.bicepparam reads PRIMARY_REGION and SECONDARY_REGION, empty when unset", () => {
    const dir = makeTempDir("bicep-topology-params-");
    try {
      const on = path.join(dir, "on.json");
      expect(bicep(["build-params", "bicep/main.bicepparam", "--outfile", on], { PRIMARY_REGION: "westeurope", SECONDARY_REGION: "northeurope" }).status).toBe(0);
      expect(readJson<Json>(on).parameters).toMatchObject({ primaryRegion: { value: "westeurope" }, secondaryRegion: { value: "northeurope" } });
      const off = path.join(dir, "off.json");
      expect(bicep(["build-params", "bicep/main.bicepparam", "--outfile", off], { PRIMARY_REGION: undefined, SECONDARY_REGION: undefined }).status).toBe(0);
      expect(readJson<Json>(off).parameters).toMatchObject({ primaryRegion: { value: "" }, secondaryRegion: { value: "" } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
