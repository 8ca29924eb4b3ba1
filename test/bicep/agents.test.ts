import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { APP_AT, BICEP_SCRIPT, MAIN_REQUIRED, ROOT, bicep, buildMainTemplate, deployMain, makeTempDir, moduleDeployment, readJson, type Json } from "./arm";
import { evaluate, flatten, parameterValues, variableValues, type At, type Expanded } from "./armEval";

/**
 * Vantage agents (bicep/modules/agent.bicep), as compiled by the real Bicep CLI and expanded for
 * given parameters the way Resource Manager would: one small Flex Consumption app per region of
 * agentRegions, reading the controller's state table with a read-only role, behind App Service
 * Authentication that accepts the controller's identity only; the controller learns their URLs
 * (VANTAGE_AGENTS) and the token audience (VANTAGE_AGENT_AUDIENCE). None by default.
 */

let main: Json;

beforeAll(() => {
  main = buildMainTemplate();
}, 300_000);

const AGENT_CLIENT_ID = "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f";
const TENANT_ID = "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a";
const AT: At = { ...APP_AT, tenantId: TENANT_ID };
const REGIONS = ["westeurope", "eastus"];

const ROLE = {
  blobDataOwner: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
  tableDataContributor: "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
  tableDataReader: "76199698-9eea-4c19-bc75-cec21354c6b6",
  metricsPublisher: "3913510d-42f4-4e42-8a64-420c390055eb",
};

function deploy(params: Record<string, Json>): Expanded[] {
  return deployMain(main, params, { at: AT });
}

const withAgents = (extra: Record<string, Json> = {}) => deploy({ agentRegions: REGIONS, agentAuthClientId: AGENT_CLIENT_ID, ...extra });

/** The expanded module deployments of the agents, in agentRegions order. */
const agentModules = (resources: Expanded[]) => resources.filter((r) => r.symbol === "agents");
const ofType = (resources: readonly Expanded[], type: string) => flatten(resources).filter((r) => r.type === type);
const one = (resources: readonly Expanded[], type: string) => {
  const found = ofType(resources, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0];
};
const settingsOf = (site: Expanded) => new Map((site.resource.properties.siteConfig.appSettings as { name: string; value: unknown }[]).map((s) => [s.name, s.value]));
const controllerSite = (resources: Expanded[]) => one(resources.filter((r) => r.symbol === "functionApp"), "Microsoft.Web/sites");
const controllerStorageName = (resources: Expanded[]) => one(resources.filter((r) => r.symbol === "storage"), "Microsoft.Storage/storageAccounts").name;
const roleId = (id: string) => `/subscriptions/${AT.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${id}`;

/** A main.bicep output for these parameters (copy loops expanded; module outputs read as placeholders). */
function outputOf(name: string, params: Record<string, Json>): Json {
  const parameters = parameterValues(main, { ...MAIN_REQUIRED, ...params }, { at: AT });
  const variables = variableValues(main, parameters, { at: AT });
  const output = main.outputs[name];
  const scope = { parameters, variables, options: { at: AT } };
  if (!output.copy) return evaluate(output.value, scope);
  const count = evaluate(output.copy.count, scope) as number;
  return Array.from({ length: count }, (_, i) => evaluate(output.copy.input, { ...scope, copyIndex: i }));
}

describe("vantage agents: none by default", () => {
  test("agentRegions and agentAuthClientId default to empty; agentRegions holds at most 16 (the app's limit)", () => {
    expect(main.parameters.agentRegions).toMatchObject({ type: "array", defaultValue: [], maxLength: 16, items: { type: "string" } });
    expect(main.parameters.agentAuthClientId).toMatchObject({ type: "string", defaultValue: "" });
    for (const name of ["agentRegions", "agentAuthClientId"]) expect(main.parameters[name].metadata.description.length).toBeGreaterThan(100);
    // The recommended topology is in the descriptions.
    expect(main.parameters.agentRegions.metadata.description).toMatch(/3 or more regions, not all in one geography.*third region/);
    expect(main.parameters.location.metadata.description).toMatch(/third region, neither the primary's nor the secondary's/);
  });

  test("without agents: no agent resource, one function app, VANTAGE_AGENTS and VANTAGE_AGENT_AUDIENCE empty, no key, empty outputs", () => {
    const resources = deploy({});
    expect(agentModules(resources)).toEqual([]);
    expect(ofType(resources, "Microsoft.Web/sites")).toHaveLength(1);
    expect(ofType(resources, "Microsoft.Storage/storageAccounts")).toHaveLength(1);
    const settings = settingsOf(controllerSite(resources));
    expect(settings.get("VANTAGE_AGENTS")).toBe("");
    expect(settings.get("VANTAGE_AGENT_AUDIENCE")).toBe("");
    expect(settings.has("VANTAGE_AGENT_KEY")).toBe(false);
    expect(outputOf("agentUrls", {})).toEqual([]);
    expect(outputOf("agentAppNames", {})).toEqual([]);
    // A client ID alone deploys nothing either.
    expect(agentModules(deploy({ agentAuthClientId: AGENT_CLIENT_ID }))).toEqual([]);
  });
});

describe("vantage agents in westeurope and eastus", () => {
  test("one agent module per region, in agentRegions order, each with its own identity, storage account, FC1 plan and app in its region", () => {
    const modules = agentModules(withAgents());
    expect(modules.map((m) => m.name)).toEqual(["agent-westeurope", "agent-eastus"]);
    const storageNames = new Set<string>();
    modules.forEach((m, i) => {
      const region = REGIONS[i];
      const deployed = m.deployed!;
      for (const type of ["Microsoft.ManagedIdentity/userAssignedIdentities", "Microsoft.Storage/storageAccounts", "Microsoft.Web/serverfarms", "Microsoft.Web/sites"]) {
        expect([region, type, one(deployed, type).resource.location]).toEqual([region, type, region]);
      }
      const site = one(deployed, "Microsoft.Web/sites");
      expect(site.name).toMatch(new RegExp(`^func-agent-.+-${region}$`));
      expect(site.resource.tags).toMatchObject({ "vantage-agent": region, "azd-env-name": "failover" });
      expect(site.resource.tags["azd-service-name"]).toBeUndefined();
      storageNames.add(one(deployed, "Microsoft.Storage/storageAccounts").name);
    });
    // Each agent has its own storage account, none of them the controller's.
    expect(storageNames.size).toBe(2);
    expect(storageNames.has(controllerStorageName(withAgents()))).toBe(false);
    // 'st' and a uniqueString (13 characters) of the resource token and the region: 15 characters.
    for (const name of storageNames) expect(name).toMatch(/^stunique\(unique\(.*\),agent,(westeurope|eastus)\)$/);
  });

  test("small Flex Consumption apps: FC1, 512 MB, 40 instances at most, no always-ready instance, no Durable setting, HTTPS and TLS 1.2", () => {
    for (const m of agentModules(withAgents())) {
      const plan = one(m.deployed!, "Microsoft.Web/serverfarms").resource;
      expect(plan.sku).toEqual({ name: "FC1", tier: "FlexConsumption" });
      const site = one(m.deployed!, "Microsoft.Web/sites");
      const p = site.resource.properties;
      expect(site.resource.kind).toBe("functionapp,linux");
      expect(p.httpsOnly).toBe(true);
      expect(Object.keys(p.siteConfig).sort()).toEqual(["appSettings", "minTlsVersion"]);
      expect(p.siteConfig.minTlsVersion).toBe("1.2");
      expect(p.functionAppConfig.scaleAndConcurrency).toEqual({ maximumInstanceCount: 40, instanceMemoryMB: 512 });
      expect(p.functionAppConfig.runtime).toEqual({ name: "node", version: "22" });
      expect([...settingsOf(site).keys()].filter((n) => /durable|TASK_HUB/i.test(n))).toEqual([]);
      const storage = one(m.deployed!, "Microsoft.Storage/storageAccounts").resource;
      expect(storage.properties).toMatchObject({ allowSharedKeyAccess: false, supportsHttpsTrafficOnly: true, minimumTlsVersion: "TLS1_2", allowBlobPublicAccess: false });
      // The package is deployed from the agent's own container, with its own identity.
      const deployment = p.functionAppConfig.deployment.storage;
      expect(deployment.type).toBe("blobContainer");
      const identityId = `/subscriptions/${AT.subscriptionId}/resourceGroups/${AT.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${one(m.deployed!, "Microsoft.ManagedIdentity/userAssignedIdentities").name}`;
      expect(deployment.authentication).toEqual({ type: "UserAssignedIdentity", userAssignedIdentityResourceId: identityId });
      expect(site.resource.identity.type).toBe("UserAssigned");
      // Object keys are not evaluated here: the compiled key names the same identity.
      expect(Object.keys(site.resource.identity.userAssignedIdentities)).toEqual(["[format('{0}', resourceId('Microsoft.ManagedIdentity/userAssignedIdentities', parameters('names').identity))]"]);
    }
  });

  test("each agent reads the controller's state table with Storage Table Data Reader, and has no other role on the controller's storage", () => {
    const resources = withAgents();
    const controllerStorage = `/subscriptions/${AT.subscriptionId}/resourceGroups/${AT.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${controllerStorageName(resources)}`;
    for (const m of agentModules(resources)) {
      const assignments = ofType(m.deployed!, "Microsoft.Authorization/roleAssignments");
      const onController = assignments.filter((a) => String(a.resource.scope).startsWith(controllerStorage));
      expect(onController.map((a) => [a.resource.scope, a.resource.properties.roleDefinitionId])).toEqual([[`${controllerStorage}/tableServices/default/tables/failoverstate`, roleId(ROLE.tableDataReader)]]);
      const reader = onController[0].resource;
      expect(reader.properties).toMatchObject({ principalId: "reference(identity).principalId", principalType: "ServicePrincipal" });
      expect(reader.name).toMatch(/^guid\(/);
      // Its other roles: the host's on its own account, and telemetry.
      const own = `/subscriptions/${AT.subscriptionId}/resourceGroups/${AT.resourceGroup}/providers/Microsoft.Storage/storageAccounts/${one(m.deployed!, "Microsoft.Storage/storageAccounts").name}`;
      const others = assignments.filter((a) => a !== onController[0]).map((a) => [String(a.resource.scope).replace(own, "<own storage>").replace(/\/components\/.*/, "/components/<appi>"), a.resource.properties.roleDefinitionId]);
      expect(others).toEqual(
        expect.arrayContaining([
          ["<own storage>", roleId(ROLE.blobDataOwner)],
          ["<own storage>", roleId(ROLE.tableDataContributor)],
          [expect.stringMatching(/Microsoft\.Insights\/components\/<appi>$/), roleId(ROLE.metricsPublisher)],
        ]),
      );
      expect(others).toHaveLength(3);
    }
    // The table the role names follows failoverTable.
    const renamed = agentModules(withAgents({ failoverTable: "mystate" }))[0];
    expect(ofType(renamed.deployed!, "Microsoft.Authorization/roleAssignments").map((a) => a.resource.scope)).toContain(`${controllerStorage}/tableServices/default/tables/mystate`);
    // The agents wait for the controller's storage (its table) before they assign the role.
    expect(moduleDeployment(main, "agents").dependsOn).toEqual(expect.arrayContaining(["storage", "identity"]));
  });

  test("Easy Auth on each agent: Entra ID, a token required (401 without), the agents' registration as audience, only the controller identity allowed", () => {
    for (const m of agentModules(withAgents())) {
      const site = one(m.deployed!, "Microsoft.Web/sites");
      const config = one(m.deployed!, "Microsoft.Web/sites/config");
      expect(config.name).toBe(`${site.name}/authsettingsV2`);
      const p = config.resource.properties;
      expect(p.platform).toEqual({ enabled: true });
      expect(p.globalValidation).toEqual({ requireAuthentication: true, unauthenticatedClientAction: "Return401" });
      const aad = p.identityProviders.azureActiveDirectory;
      expect(aad.registration).toEqual({ clientId: AGENT_CLIENT_ID, openIdIssuer: `https://login.microsoftonline.com/${TENANT_ID}/v2.0` });
      expect(aad.validation.allowedAudiences).toEqual([`api://${AGENT_CLIENT_ID}`, AGENT_CLIENT_ID]);
      // The controller's user-assigned identity (the identity module's client ID), and nothing else.
      expect(aad.validation.defaultAuthorizationPolicy).toEqual({ allowedApplications: ["reference(identity).outputs.clientId"] });
      expect(JSON.stringify(config.resource)).not.toMatch(/secret/i);
    }
    expect(moduleDeployment(main, "identity").properties.template.outputs.clientId.value).toBe("[reference('identity').clientId]");
    expect(moduleDeployment(main, "functionApp").properties.parameters.identityName.value).toBe(moduleDeployment(main, "identity").properties.parameters.name.value);
  });

  test("the controller's own Easy Auth (authClientId) allows any application, as before", () => {
    const config = one(
      deploy({ authClientId: AGENT_CLIENT_ID, authTenantId: TENANT_ID }).filter((r) => r.symbol === "auth"),
      "Microsoft.Web/sites/config",
    );
    expect(Object.keys(config.resource.properties.identityProviders.azureActiveDirectory.validation)).toEqual(["allowedAudiences"]);
  });

  test("an agent's settings: its host storage and telemetry by identity, the controller's state table read by identity, no key", () => {
    for (const m of agentModules(withAgents({ egressAllowPrivate: true }))) {
      const settings = settingsOf(one(m.deployed!, "Microsoft.Web/sites"));
      expect([...settings.keys()].sort()).toEqual(
        [
          "AGENT_STATE_STORAGE__clientId",
          "AGENT_STATE_STORAGE__tableServiceUri",
          "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
          "APPLICATIONINSIGHTS_CONNECTION_STRING",
          "AzureWebJobsStorage__blobServiceUri",
          "AzureWebJobsStorage__clientId",
          "AzureWebJobsStorage__credential",
          "AzureWebJobsStorage__queueServiceUri",
          "AzureWebJobsStorage__tableServiceUri",
          "EGRESS_ALLOW_PRIVATE",
          "FAILOVER_TABLE",
        ].sort(),
      );
      expect(settings.get("AzureWebJobsStorage__credential")).toBe("managedidentity");
      expect(settings.get("FAILOVER_TABLE")).toBe("failoverstate");
      expect(settings.get("EGRESS_ALLOW_PRIVATE")).toBe("true");
      expect(settings.get("AGENT_STATE_STORAGE__clientId")).toBe(settings.get("AzureWebJobsStorage__clientId"));
    }
    // Statically: the state table URI is the controller account's table endpoint, the client ID the agent identity's.
    const agent = moduleDeployment(main, "agents");
    const template = agent.properties.template;
    const value = (name: string) => template.resources.site.properties.siteConfig.appSettings.find((s: Json) => s.name === name)?.value;
    expect(value("AGENT_STATE_STORAGE__tableServiceUri")).toBe("[reference('controllerStorage').primaryEndpoints.table]");
    expect(template.resources.controllerStorage).toMatchObject({ existing: true, name: "[parameters('controllerStorageAccountName')]" });
    expect(agent.properties.parameters.controllerStorageAccountName.value).toBe("[variables('names').storage]");
    expect(value("AGENT_STATE_STORAGE__clientId")).toBe("[reference('identity').clientId]");
    expect(template.resources.identity.existing).toBeUndefined();
    // No agent (nor controller) setting carries a key; the app learns of Easy Auth from the platform.
    const all = [...settingsOf(one(agentModules(withAgents())[0].deployed!, "Microsoft.Web/sites")).keys()];
    expect(all.filter((n) => /^(AGENT_KEY|AGENT_STATE_STORAGE|WEBSITE_AUTH.*|AzureWebJobsStorage)$/.test(n))).toEqual([]);
  });

  test("the controller gets VANTAGE_AGENTS (both agents, https probe URLs), VANTAGE_AGENT_AUDIENCE and no VANTAGE_AGENT_KEY, and waits for the agents", () => {
    const resources = withAgents();
    const settings = settingsOf(controllerSite(resources));
    const agents = JSON.parse(String(settings.get("VANTAGE_AGENTS"))) as { name: string; url: string; region: string }[];
    expect(agents).toEqual([
      { name: "westeurope", url: "reference(agents[0]).outputs.probeUrl", region: "westeurope" },
      { name: "eastus", url: "reference(agents[1]).outputs.probeUrl", region: "eastus" },
    ]);
    // agents[i] is the agent deployed in agentRegions[i], and its probeUrl is https://<its host>/api/probe.
    expect(agentModules(resources).map((m) => m.name)).toEqual(agents.map((a) => `agent-${a.region}`));
    const agentTemplate = moduleDeployment(main, "agents").properties.template;
    const probeUrl = evaluate(agentTemplate.outputs.probeUrl.value, { parameters: {}, variables: {} });
    expect(probeUrl).toBe("https://reference(site).defaultHostName/api/probe");
    expect(settings.get("VANTAGE_AGENT_AUDIENCE")).toBe(`api://${AGENT_CLIENT_ID}`);
    expect(settings.has("VANTAGE_AGENT_KEY")).toBe(false);
    expect(moduleDeployment(main, "functionApp").dependsOn).toContain("agents");
    expect(outputOf("agentUrls", { agentRegions: REGIONS, agentAuthClientId: AGENT_CLIENT_ID })).toEqual(["reference(agents[0]).outputs.probeUrl", "reference(agents[1]).outputs.probeUrl"]);
    expect(outputOf("agentAppNames", { agentRegions: REGIONS, agentAuthClientId: AGENT_CLIENT_ID })).toEqual(["reference(agents[0]).outputs.name", "reference(agents[1]).outputs.name"]);
    // The agent module's outputs: name, region, probe URL and principal ID; nothing secret.
    expect(Object.keys(agentTemplate.outputs).sort()).toEqual(["defaultHostName", "name", "principalId", "probeUrl", "region"]);
  });
});

describe("refusals", () => {
  test.each([
    [{ agentRegions: REGIONS }, 'agentAuthClientId is required when agentRegions is set: the application (client) ID of the app registration that represents the agents and defines their app role vantage.probe (docs/deploy.md, "Vantage agents")'],
    [{ agentRegions: REGIONS, agentAuthClientId: "agents-app" }, 'agentAuthClientId must be a GUID (8-4-4-4-12 hexadecimal digits), got "agents-app"'],
    [{ agentRegions: ["West Europe"], agentAuthClientId: AGENT_CLIENT_ID }, 'agentRegions must hold region short names (lowercase letters and digits, such as westeurope), got ["West Europe"]'],
    [{ agentRegions: ["westeurope", ""], agentAuthClientId: AGENT_CLIENT_ID }, "agentRegions must hold region short names"],
    [{ agentRegions: ["westeurope", "eastus", "westeurope"], agentAuthClientId: AGENT_CLIENT_ID }, 'agentRegions names a region more than once: ["westeurope","eastus","westeurope"]'],
  ])("%j fails the deployment with the reason", (params, message) => {
    expect(() => deploy(params)).toThrow(`fail(): ${message}`);
  });

  test("the real Bicep evaluator (bicep console) agrees on agentRegionsProblem", () => {
    const source = readFileSync(path.join(ROOT, "bicep", "main.bicep"), "utf8");
    const definition = /^func agentRegionsProblem[\s\S]*?(?=\n\n)/m.exec(source)![0].split("\n").map((line) => line.trim()).join(" ");
    const cases = [["westeurope", "eastus2"], [], ["West Europe"], ["westeurope", "westeurope"], [""], ["east-us"]];
    const input = [definition, ...cases.map((c) => `agentRegionsProblem(${JSON.stringify(c).replace(/"/g, "'").replace(/,/g, ", ")})`)].join("\n") + "\n";
    const result = spawnSync("bash", [BICEP_SCRIPT, "console"], { cwd: ROOT, input, encoding: "utf8" });
    expect(result.status).toBe(0);
    const answers = result.stdout.split("\n").filter((line) => line.startsWith("'")).map((line) => line.slice(1, -1));
    expect(answers.map((a) => a === "")).toEqual([true, true, false, false, false, false]);
    expect(answers[3]).toMatch(/more than once/);
  }, 120_000);
});

describe("the vantage knobs", () => {
  test("VANTAGES and QUORUM: parameters with the app's defaults and bounds, written as settings", () => {
    expect(main.parameters.vantages).toMatchObject({ type: "string", defaultValue: "all", minLength: 1 });
    expect(main.parameters.quorum).toMatchObject({ type: "int", defaultValue: 0, minValue: 0, maxValue: 16 });
    let settings = settingsOf(controllerSite(deploy({})));
    expect([settings.get("VANTAGES"), settings.get("QUORUM")]).toEqual(["all", "0"]);
    settings = settingsOf(controllerSite(withAgents({ vantages: "controller,westeurope", quorum: 2 })));
    expect([settings.get("VANTAGES"), settings.get("QUORUM")]).toEqual(["controller,westeurope", "2"]);
  });

  test("main.bicepparam reads AGENT_REGIONS (comma-separated) and AGENT_AUTH_CLIENT_ID, empty when unset", () => {
    const dir = makeTempDir("bicep-agent-params-");
    try {
      const on = path.join(dir, "on.json");
      expect(bicep(["build-params", "bicep/main.bicepparam", "--outfile", on], { AGENT_REGIONS: "westeurope, eastus,southeastasia", AGENT_AUTH_CLIENT_ID: AGENT_CLIENT_ID }).status).toBe(0);
      expect(readJson<Json>(on).parameters).toMatchObject({ agentRegions: { value: ["westeurope", "eastus", "southeastasia"] }, agentAuthClientId: { value: AGENT_CLIENT_ID } });
      const off = path.join(dir, "off.json");
      expect(bicep(["build-params", "bicep/main.bicepparam", "--outfile", off], { AGENT_REGIONS: undefined, AGENT_AUTH_CLIENT_ID: undefined }).status).toBe(0);
      expect(readJson<Json>(off).parameters).toMatchObject({ agentRegions: { value: [] }, agentAuthClientId: { value: "" } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
