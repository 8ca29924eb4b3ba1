import { spawnSync } from "node:child_process";
import { cpSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { APP_SETTING_NAMES, GENERAL_SETTINGS, LIMIT_SETTINGS } from "../../src/core/config";
import { POLICY_KNOBS } from "../../src/core/knobs";
import {
  PARAM_ENV,
  BICEP_SCRIPT,
  ROOT,
  allResources,
  bicep,
  created,
  describeSarif,
  diagnosticLines,
  findProperties,
  inlineStringVariables,
  lintAll,
  mainParameterOf,
  withoutModule,
  makeTempDir,
  moduleDeployment,
  readJson,
  sarifLevel,
  single,
  templates,
  type Json,
  type Located,
  type SarifResult,
} from "./arm";

/**
 * The compiled ARM JSON, as the real Bicep CLI (scripts/bicep) produced it, checked against the
 * promises of the deployment: keyless identity-based access, the right roles at the right scopes,
 * HTTPS and TLS 1.2, no secrets in outputs, and one app setting for every setting the app reads.
 */

const BICEP_DIR = path.join(ROOT, "bicep");

const ROLES = [
  { name: "Storage Blob Data Owner", id: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b", scope: "Microsoft.Storage/storageAccounts" },
  { name: "Storage Queue Data Contributor", id: "974c5e8b-45b9-4653-ba55-5f855dd0fb88", scope: "Microsoft.Storage/storageAccounts" },
  { name: "Storage Table Data Contributor", id: "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3", scope: "Microsoft.Storage/storageAccounts" },
  { name: "Monitoring Metrics Publisher", id: "3913510d-42f4-4e42-8a64-420c390055eb", scope: "Microsoft.Insights/components" },
] as const;

/** Identity-based storage and telemetry settings the platform reads. */
const PLATFORM_SETTINGS = [
  "AzureWebJobsStorage__credential",
  "AzureWebJobsStorage__clientId",
  "AzureWebJobsStorage__blobServiceUri",
  "AzureWebJobsStorage__queueServiceUri",
  "AzureWebJobsStorage__tableServiceUri",
  "APPLICATIONINSIGHTS_CONNECTION_STRING",
  "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
  "TASK_HUB_NAME",
  // The Durable backend (test/bicep/durableBackend.test.ts).
  "AzureFunctionsJobHost__extensions__durableTask__storageProvider__type",
  "AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionName",
  "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
];

/**
 * Settings the app reads that a deployment sets from something else than a main.bicep parameter
 * of the same meaning: the agents' list and token audience come from agentRegions and
 * agentAuthClientId (test/bicep/agents.test.ts checks them), the state storage's region from the
 * storage account itself (test/bicep/topology.test.ts).
 */
const DERIVED_SETTINGS = ["VANTAGE_AGENTS", "VANTAGE_AGENT_AUDIENCE", "STATE_STORAGE_REGION"];

/** Settings the app reads in local runs only: never set in Azure (the agents' shared key; Azure uses the token). */
const LOCAL_ONLY_SETTINGS = ["VANTAGE_AGENT_KEY"];

/** Settings Flex Consumption rejects, or that would carry a key. */
const FORBIDDEN_SETTINGS = [
  "AzureWebJobsStorage",
  "FUNCTIONS_WORKER_RUNTIME",
  "FUNCTIONS_EXTENSION_VERSION",
  "WEBSITE_RUN_FROM_PACKAGE",
  "WEBSITE_CONTENTSHARE",
  "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
  "WEBSITE_NODE_DEFAULT_VERSION",
  "APPINSIGHTS_INSTRUMENTATIONKEY",
];

const KEY_FUNCTIONS = /\blist[A-Za-z]*\(|listKeys|listAccountSas|listServiceSas/;
const KEY_TEXT = /AccountKey=|SharedAccessSignature=|SharedAccessKey=|[?&]sig=/i;

let outDir: string;
let main: Json;
/** The controller alone: main without the vantage agents' module (test/bicep/agents.test.ts). */
let controller: Json;
let params: Json;
let buildOutput: string;

beforeAll(() => {
  outDir = makeTempDir("bicep-arm-");
  const build = bicep(["build", "bicep/main.bicep", "--outdir", outDir]);
  const buildParams = bicep(["build-params", "bicep/main.bicepparam", "--outfile", path.join(outDir, "main.parameters.json")]);
  buildOutput = [build.stdout, build.stderr, buildParams.stdout, buildParams.stderr].join("\n");
  if (build.status !== 0 || buildParams.status !== 0) {
    throw new Error(`bicep build failed (exit ${build.status}/${buildParams.status}):\n${buildOutput}`);
  }
  main = readJson(path.join(outDir, "main.json"));
  controller = withoutModule(main, "agents");
  params = readJson(path.join(outDir, "main.parameters.json"));
}, 300_000);

afterAll(() => {
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

const clone = <T>(value: T): T => structuredClone(value);

// ---------------------------------------------------------------------------------------------
// Checks, as functions of the template so the tests below can also show that they catch a fault.
// ---------------------------------------------------------------------------------------------

/** The value main passes for a module parameter the resource's name comes from (or the name itself). */
function mainName(loc: { resource: Json; moduleDeployment?: Json }, nameExpression: string = loc.resource.name): unknown {
  // A child resource's name is format('{0}/{1}', parent, child): its own part is the last parameter.
  const m = [...nameExpression.matchAll(/parameters\('([^']+)'\)/g)].at(-1);
  if (!m || !loc.moduleDeployment) return nameExpression;
  return loc.moduleDeployment.properties.parameters?.[m[1]]?.value;
}

/** What a reference expression points at: a resource type and the main-template value of its name. */
function target(loc: Located, expression: string): { type: string; name: unknown } | undefined {
  const byId = /resourceId\('([^']+)',\s*parameters\('([^']+)'\)\)/.exec(expression);
  if (byId) return { type: byId[1], name: mainName(loc, `parameters('${byId[2]}')`) };
  const bySymbol = /^\[?(?:reference\(')?([A-Za-z_][\w]*)'?\)?/.exec(expression);
  const declared = bySymbol && !Array.isArray(loc.template.resources) ? loc.template.resources[bySymbol[1]] : undefined;
  if (declared) return { type: declared.type, name: mainName({ resource: declared, moduleDeployment: loc.moduleDeployment }) };
  return undefined;
}

function createdName(template: Json, type: string): unknown {
  const loc = single(template, type);
  return mainName(loc);
}

function appSettingsOf(template: Json, site: Located = single(template, "Microsoft.Web/sites")): Map<string, { value: unknown; loc: Located }> {
  const list: { name: string; value: unknown }[] = site.resource.properties?.siteConfig?.appSettings ?? [];
  return new Map(list.map((s) => [s.name, { value: s.value, loc: site }]));
}

function roleProblems(template: Json): string[] {
  const problems: string[] = [];
  const identityName = createdName(template, "Microsoft.ManagedIdentity/userAssignedIdentities");
  const scopes: Record<string, unknown> = {
    "Microsoft.Storage/storageAccounts": createdName(template, "Microsoft.Storage/storageAccounts"),
    "Microsoft.Insights/components": createdName(template, "Microsoft.Insights/components"),
  };
  const assignments = created(template, "Microsoft.Authorization/roleAssignments").filter((a) => a.resource.condition === undefined);
  for (const role of ROLES) {
    const matching = assignments.filter((a) => inlineStringVariables(a.template, String(a.resource.properties?.roleDefinitionId)).includes(role.id));
    if (matching.length !== 1) {
      problems.push(`${role.name} (${role.id}): ${matching.length} unconditional assignments, expected 1`);
      continue;
    }
    const a = matching[0];
    const p = a.resource.properties;
    if (!/subscriptionResourceId\('Microsoft.Authorization\/roleDefinitions'/.test(String(p.roleDefinitionId))) {
      problems.push(`${role.name}: roleDefinitionId is not a subscription-level role definition: ${p.roleDefinitionId}`);
    }
    if (p.principalType !== "ServicePrincipal") problems.push(`${role.name}: principalType is ${p.principalType}, expected ServicePrincipal`);
    const principal = target(a, String(p.principalId));
    if (!String(p.principalId).endsWith(".principalId]") || principal?.type !== "Microsoft.ManagedIdentity/userAssignedIdentities" || principal.name !== identityName) {
      problems.push(`${role.name}: principalId is not the app identity's principalId: ${p.principalId}`);
    }
    const scope = target(a, String(a.resource.scope ?? ""));
    if (scope?.type !== role.scope || scope.name !== scopes[role.scope]) {
      problems.push(`${role.name}: scope is ${a.resource.scope}, expected the deployment's ${role.scope}`);
    }
    if (!/^\[guid\(/.test(String(a.resource.name))) problems.push(`${role.name}: name is not from guid(): ${a.resource.name}`);
  }
  return problems;
}

function secretProblems(template: Json): string[] {
  const problems: string[] = [];
  const text = JSON.stringify(template);
  if (KEY_FUNCTIONS.test(text)) problems.push(`the template calls a list*() function (keys or SAS): ${KEY_FUNCTIONS.exec(text)![0]}`);
  // Every function app: the controller's and the vantage agent's.
  const settings = created(template, "Microsoft.Web/sites").flatMap((site) => [...appSettingsOf(template, site)]);
  for (const [name, { value }] of settings) {
    if (FORBIDDEN_SETTINGS.includes(name)) problems.push(`app setting ${name} must not be set (keyed or rejected by Flex Consumption)`);
    if (KEY_TEXT.test(String(value)) || KEY_FUNCTIONS.test(String(value))) problems.push(`app setting ${name} holds a key: ${value}`);
    if (/connectionstring/i.test(name) && name !== "APPLICATIONINSIGHTS_CONNECTION_STRING") problems.push(`app setting ${name} is a connection string`);
  }
  return problems;
}

function outputProblems(template: Json): string[] {
  const problems: string[] = [];
  for (const { template: t, modulePath } of templates(template)) {
    for (const [name, output] of Object.entries<Json>(t.outputs ?? {})) {
      const where = [...modulePath, name].join("/");
      if (/key|secret|password|connectionstring|token|sas/i.test(name)) problems.push(`output ${where}: its name suggests a secret`);
      if (/^secure/i.test(String(output.type))) problems.push(`output ${where}: secure type`);
      if (KEY_FUNCTIONS.test(JSON.stringify(output.value)) || /ConnectionString|InstrumentationKey/i.test(JSON.stringify(output.value))) {
        problems.push(`output ${where}: value reads a key or connection string: ${JSON.stringify(output.value)}`);
      }
    }
  }
  return problems;
}

function settingProblems(template: Json): string[] {
  const settings = appSettingsOf(template);
  const expected = [...PLATFORM_SETTINGS, ...APP_SETTING_NAMES].filter((name) => !LOCAL_ONLY_SETTINGS.includes(name));
  const problems = expected.filter((name) => !settings.has(name)).map((name) => `app setting ${name} is missing`);
  for (const name of LOCAL_ONLY_SETTINGS.filter((n) => settings.has(n))) problems.push(`app setting ${name} is for local runs only and must not be set in Azure`);
  for (const name of settings.keys()) {
    if (!expected.includes(name)) problems.push(`app setting ${name} is not one the app or the platform reads`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------

describe("compiled with the real Bicep CLI", () => {
  test("build and build-params print no warning or error", () => {
    expect(diagnosticLines(buildOutput)).toEqual([]);
    expect(main.$schema).toMatch(/deploymentTemplate\.json/);
    expect(main.metadata._generator.name).toBe("bicep");
  });

  test("lint: every .bicep and .bicepparam has zero warnings and zero errors", () => {
    const files = readdirSync(BICEP_DIR, { recursive: true, encoding: "utf8" }).filter((f) => /\.bicep(param)?$/.test(f));
    expect(files.length).toBeGreaterThanOrEqual(7);
    const { results, files: linted, run } = lintAll(ROOT, "bicep");
    expect(linted).toBe(files.length);
    expect(diagnosticLines(run.stderr)).toEqual([]);
    if (results.length > 0) throw new Error(`lint diagnostics:\n${describeSarif(results)}`);
  });

  test("lint catches a warning (the analyzer configuration is in force)", () => {
    const copy = makeTempDir("bicep-lint-");
    try {
      cpSync(BICEP_DIR, path.join(copy, "bicep"), { recursive: true });
      const module = path.join(copy, "bicep", "modules", "identity.bicep");
      writeFileSync(module, `${readFileSync(module, "utf8")}\n@description('Untyped.')\nparam loose object = {}\n\n@description('Untyped.')\noutput looseOut object = loose\n`);
      const { results } = lintAll(copy, "bicep");
      const warnings = results.filter((r: SarifResult) => sarifLevel(r) === "warning");
      expect(warnings.map((r) => r.ruleId)).toContain("use-user-defined-types");
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  }, 120_000);

  test("bicepconfig.json keeps the core analyzer rules at warning or error", () => {
    const config = readJson<Json>(path.join(BICEP_DIR, "bicepconfig.json"));
    expect(config.analyzers.core.enabled).toBe(true);
    const rules: Record<string, { level: string }> = config.analyzers.core.rules;
    // Off on purpose: both depend on the date or the network, not on the template.
    const off = ["use-recent-api-versions", "use-recent-module-versions"];
    for (const [name, rule] of Object.entries(rules)) {
      expect([name, rule.level]).toEqual([name, off.includes(name) ? "off" : expect.stringMatching(/^(warning|error)$/)]);
    }
    for (const name of ["no-unused-params", "no-hardcoded-env-urls", "outputs-should-not-contain-secrets", "secure-secrets-in-params", "use-secure-value-for-secure-inputs", "no-unnecessary-dependson"]) {
      expect(rules[name]?.level).toBe("error");
    }
  });

  test("no registry modules: everything is raw resources in this repository", () => {
    const files = readdirSync(BICEP_DIR, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".bicep"));
    for (const file of files) {
      expect([file, readFileSync(path.join(BICEP_DIR, file), "utf8")]).not.toEqual([file, expect.stringMatching(/'(br|ts)[/:]/)]);
    }
    // main.bicep declares only local modules; every resource lives in one of them.
    expect(Object.values<Json>(main.resources).map((r) => r.type)).toEqual(Object.keys(main.resources).map(() => "Microsoft.Resources/deployments"));
    expect(Object.keys(main.resources)).toEqual(expect.arrayContaining(["functionApp", "identity", "monitoring", "roles", "storage", "alerts", "workbook"]));
  });

  test("main.bicepparam builds with the endpoints from the environment, and only names main.bicep parameters", () => {
    const values = params.parameters as Record<string, { value: unknown }>;
    expect(values.primaryEndpoint?.value).toBe(PARAM_ENV.PRIMARY_ENDPOINT);
    expect(values.secondaryEndpoint?.value).toBe(PARAM_ENV.SECONDARY_ENDPOINT);
    for (const name of Object.keys(values)) expect(Object.keys(main.parameters)).toContain(name);
  });
});

describe("parameters, names and tags", () => {
  test("every parameter of every template has a description", () => {
    for (const { template, modulePath } of templates(main)) {
      for (const [name, param] of Object.entries<Json>(template.parameters ?? {})) {
        expect([[...modulePath, name].join("/"), typeof param.metadata?.description]).toEqual([[...modulePath, name].join("/"), "string"]);
      }
    }
  });

  test("resource names come from a uniqueString resource token", () => {
    expect(main.variables.resourceToken).toMatch(/uniqueString\(/);
    for (const [key, value] of Object.entries<string>(main.variables.names)) {
      expect([key, value]).toEqual([key, expect.stringContaining("variables('resourceToken')")]);
    }
    for (const loc of allResources(controller).filter((r) => r.resource.location !== undefined && r.resource.existing !== true)) {
      expect([loc.resource.type, mainName(loc)]).toEqual([loc.resource.type, expect.stringMatching(/^\[variables\('names'\)\.\w+\]$/)]);
    }
    // A vantage agent's resources: the names main derives per region, every one from the token.
    const agentResources = allResources(main).filter((r) => r.modulePath[0] === "agents" && r.resource.location !== undefined && r.resource.existing !== true);
    expect(agentResources.length).toBeGreaterThanOrEqual(4);
    for (const loc of agentResources) expect([loc.resource.type, mainName(loc)]).toEqual([loc.resource.type, "[variables('agentNames')[copyIndex()]]"]);
    const agentNames = String(main.variables.agentNames);
    for (const field of ["identity", "storage", "plan", "functionApp", "deploymentContainer"]) {
      expect([field, new RegExp(`'${field}', format\\('[^']*', (uniqueString\\()?variables\\('resourceToken'\\)`).test(agentNames)]).toEqual([field, true]);
    }
  });

  test("every resource with a location carries tags, and every module gets the same tags", () => {
    const located = allResources(main).filter((r) => r.resource.location !== undefined && r.resource.existing !== true);
    expect(located.length).toBeGreaterThanOrEqual(6);
    // The controller's function app adds the tag azd deploys by (azure.yaml's service name); an
    // agent's names its region instead (azd does not deploy agents: docs/deploy.md).
    const siteTags = (loc: Located) =>
      loc.modulePath[0] === "agents" ? "[union(parameters('tags'), createObject('vantage-agent', parameters('location')))]" : "[union(parameters('tags'), createObject('azd-service-name', 'api'))]";
    const expected = (loc: Located) => (loc.resource.type === "Microsoft.Web/sites" ? siteTags(loc) : "[parameters('tags')]");
    for (const loc of located) expect([loc.modulePath.join("/"), loc.resource.type, loc.resource.tags]).toEqual([loc.modulePath.join("/"), loc.resource.type, expected(loc)]);
    for (const symbol of ["identity", "storage", "monitoring", "functionApp", "alerts", "workbook", "agents"]) {
      expect(moduleDeployment(main, symbol).properties.parameters.tags.value).toBe("[variables('allTags')]");
    }
  });
});

describe("identity and role assignments", () => {
  test("the function app runs as the user-assigned identity, also for its deployment storage", () => {
    const site = single(controller, "Microsoft.Web/sites");
    const identityName = createdName(controller, "Microsoft.ManagedIdentity/userAssignedIdentities");
    expect(site.resource.identity.type).toBe("UserAssigned");
    const attached = Object.keys(site.resource.identity.userAssignedIdentities).map((key) => target(site, key));
    expect(attached).toEqual([{ type: "Microsoft.ManagedIdentity/userAssignedIdentities", name: identityName }]);

    const auth = site.resource.properties.functionAppConfig.deployment.storage.authentication;
    expect(auth.type).toBe("UserAssignedIdentity");
    expect(target(site, auth.userAssignedIdentityResourceId)).toEqual({ type: "Microsoft.ManagedIdentity/userAssignedIdentities", name: identityName });

    const settings = appSettingsOf(controller);
    expect(settings.get("AzureWebJobsStorage__credential")?.value).toBe("managedidentity");
    const clientId = String(settings.get("AzureWebJobsStorage__clientId")?.value);
    expect(clientId).toMatch(/\.clientId\]$/);
    expect(target(site, clientId)).toEqual({ type: "Microsoft.ManagedIdentity/userAssignedIdentities", name: identityName });
    expect(String(settings.get("APPLICATIONINSIGHTS_AUTHENTICATION_STRING")?.value)).toMatch(/ClientId=\{0\};Authorization=AAD.*\.clientId\)\]$/);
  });

  test("each role is assigned once, by guid(), to the identity's principal, as ServicePrincipal, at the right scope", () => {
    expect(roleProblems(controller)).toEqual([]);
  });

  test("the role check catches a missing or misdirected assignment", () => {
    const missing = clone(controller);
    const roles = missing.resources.roles.properties.template;
    roles.resources = roles.resources.filter((r: Json) => !inlineStringVariables(roles, String(r.properties?.roleDefinitionId)).includes(ROLES[1].id));
    expect(roleProblems(missing)).toEqual([expect.stringContaining("Storage Queue Data Contributor")]);

    const wrongScope = clone(controller);
    const wrongRoles = wrongScope.resources.roles.properties.template;
    const publisher = wrongRoles.resources.find((r: Json) => inlineStringVariables(wrongRoles, String(r.properties?.roleDefinitionId)).includes(ROLES[3].id));
    publisher.scope = "[resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName'))]";
    publisher.properties.principalType = "User";
    expect(roleProblems(wrongScope)).toEqual([expect.stringContaining("principalType"), expect.stringContaining("scope")]);
  });

  test("the optional operator role is conditional and separate from the app's roles", () => {
    // In the roles module (the switch targets' roles are in switchRoles, test/bicep/switchRoles.test.ts).
    const conditional = created(controller, "Microsoft.Authorization/roleAssignments").filter((a) => a.modulePath[0] === "roles" && a.resource.condition !== undefined);
    expect(conditional).toHaveLength(1);
    expect(conditional[0].resource.properties.principalId).toBe("[parameters('operatorPrincipalId')]");
    expect(main.parameters.operatorPrincipalId.defaultValue).toBe("");
  });

  test("the app waits for its roles", () => {
    expect(moduleDeployment(main, "functionApp").dependsOn).toContain("roles");
  });
});

describe("keyless storage and monitoring", () => {
  test("no app setting holds an account key or a keyed connection string; nothing calls listKeys", () => {
    expect(secretProblems(main)).toEqual([]);
  });

  test("the secret check catches a key", () => {
    const keyed = clone(controller);
    const site = single(keyed, "Microsoft.Web/sites");
    site.resource.properties.siteConfig.appSettings.push({
      name: "AzureWebJobsStorage",
      value: "[format('DefaultEndpointsProtocol=https;AccountName={0};AccountKey={1}', 'x', listKeys('x', '2025-01-01').keys[0].value)]",
    });
    const problems = secretProblems(keyed);
    expect(problems).toEqual(expect.arrayContaining([expect.stringContaining("list"), expect.stringContaining("must not be set"), expect.stringContaining("holds a key")]));
  });

  test("storage account: StorageV2, shared key access off, HTTPS only, TLS 1.2, no public blobs; state tables and package container", () => {
    const account = single(controller, "Microsoft.Storage/storageAccounts").resource;
    expect(account.kind).toBe("StorageV2");
    expect(account.properties).toMatchObject({
      allowSharedKeyAccess: false,
      supportsHttpsTrafficOnly: true,
      minimumTlsVersion: "TLS1_2",
      allowBlobPublicAccess: false,
    });
    const tables = created(controller, "Microsoft.Storage/storageAccounts/tableServices/tables").map((t) => mainName(t));
    expect(tables.sort()).toEqual(["[parameters('failoverHistoryTable')]", "[parameters('failoverTable')]"]);
    expect(main.parameters.failoverTable.defaultValue).toBe("failoverstate");
    const containers = created(controller, "Microsoft.Storage/storageAccounts/blobServices/containers");
    expect(containers).toHaveLength(1);
    expect(containers[0].resource.properties.publicAccess).toBe("None");
  });

  test("Log Analytics and Application Insights have local auth disabled", () => {
    expect(single(controller, "Microsoft.Insights/components").resource.properties.DisableLocalAuth).toBe(true);
    expect(single(controller, "Microsoft.OperationalInsights/workspaces").resource.properties.features.disableLocalAuth).toBe(true);
  });
});

describe("Flex Consumption function app", () => {
  test("FC1 plan, Linux app, node runtime from functionAppConfig, blob deployment storage, scale settings", () => {
    const plan = single(controller, "Microsoft.Web/serverfarms").resource;
    expect(plan.sku).toEqual({ name: "FC1", tier: "FlexConsumption" });
    expect(plan.properties.reserved).toBe(true);
    const site = single(controller, "Microsoft.Web/sites").resource;
    expect(site.kind).toBe("functionapp,linux");
    const config = site.properties.functionAppConfig;
    expect(config.runtime.name).toBe("node");
    expect(config.runtime.version).toBe("[parameters('nodeVersion')]");
    expect(main.parameters.nodeVersion.defaultValue).toBe("22");
    expect(main.parameters.nodeVersion.allowedValues).toEqual(["22", "24"]);
    expect(config.deployment.storage.type).toBe("blobContainer");
    expect(Object.keys(config.scaleAndConcurrency).sort()).toEqual(["alwaysReady", "instanceMemoryMB", "maximumInstanceCount"]);
  });

  test("the deployed Node major is the one package.json engines and .ci/run name", () => {
    const major = main.parameters.nodeVersion.defaultValue;
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { engines: { node: string } };
    expect(pkg.engines.node).toBe(`>=${major}`);
    expect(readFileSync(path.join(ROOT, ".ci", "run"), "utf8")).toContain(`node@${major}`);
  });

  test("always-ready instance for the durable group: a parameter, on by default", () => {
    const site = single(controller, "Microsoft.Web/sites").resource;
    const alwaysReady = String(site.properties.functionAppConfig.scaleAndConcurrency.alwaysReady);
    expect(alwaysReady).toContain("createObject('name', 'durable', 'instanceCount', parameters('durableAlwaysReadyInstances'))");
    expect(mainParameterOf(main, "functionApp", alwaysReady)).toBe("durableAlwaysReadyInstances");
    expect(main.parameters.durableAlwaysReadyInstances).toMatchObject({ type: "int", defaultValue: 1, minValue: 0, maxValue: 1 });
  });

  test("siteConfig holds only what Flex Consumption accepts (no ftpsState, no runtime or scale settings)", () => {
    const site = single(controller, "Microsoft.Web/sites").resource;
    expect(Object.keys(site.properties.siteConfig).sort()).toEqual(["appSettings", "minTlsVersion"]);
    expect(Object.keys(single(controller, "Microsoft.Web/serverfarms").resource.properties)).toEqual(["reserved"]);
  });

  test("HTTPS only, and TLS 1.2 wherever a minimum TLS version is set", () => {
    const site = single(controller, "Microsoft.Web/sites").resource;
    expect(site.properties.httpsOnly).toBe(true);
    expect(site.properties.siteConfig).toMatchObject({ minTlsVersion: "1.2" });
    const tls = [
      ...findProperties(main, "minTlsVersion"),
      ...findProperties(main, "scmMinTlsVersion"),
      ...findProperties(main, "minimumTlsVersion"),
    ];
    expect(tls.length).toBeGreaterThanOrEqual(2);
    for (const [where, value] of tls) expect([where, value]).toEqual([where, expect.stringMatching(/^(1\.2|TLS1_2)$/)]);
    for (const [where, value] of findProperties(main, "supportsHttpsTrafficOnly")) expect([where, value]).toEqual([where, true]);
    for (const [where, value] of findProperties(main, "httpsOnly")) expect([where, value]).toEqual([where, true]);
  });

  test("app settings are exactly the identity-based platform settings plus every setting the app reads", () => {
    expect(settingProblems(controller)).toEqual([]);
  });

  test("the settings check catches a setting the app reads but Bicep does not set", () => {
    const without = clone(controller);
    const site = single(without, "Microsoft.Web/sites").resource;
    site.properties.siteConfig.appSettings = site.properties.siteConfig.appSettings.filter((s: Json) => s.name !== "PROBE_TIMEOUT_MS");
    expect(settingProblems(without)).toEqual(["app setting PROBE_TIMEOUT_MS is missing"]);

    const keyed = clone(controller);
    single(keyed, "Microsoft.Web/sites").resource.properties.siteConfig.appSettings.push({ name: "VANTAGE_AGENT_KEY", value: "[parameters('failover').group]" });
    expect(settingProblems(keyed)).toContain("app setting VANTAGE_AGENT_KEY is for local runs only and must not be set in Azure");
  });

  test("each failover setting comes from a main.bicep parameter whose default and bounds match the app's schema", () => {
    const settings = appSettingsOf(controller);
    for (const name of APP_SETTING_NAMES.filter((n) => !DERIVED_SETTINGS.includes(n) && !LOCAL_ONLY_SETTINGS.includes(n))) {
      const setting = settings.get(name)!;
      const paramName = mainParameterOf(main, setting.loc.modulePath[0], String(setting.value));
      expect([name, paramName]).toEqual([name, expect.any(String)]);
      const param = main.parameters[paramName!];
      expect([name, typeof param?.metadata?.description]).toEqual([name, "string"]);

      const general = GENERAL_SETTINGS.find((s) => s.setting === name);
      if (general) {
        if (name === "PRIMARY_ENDPOINT" || name === "SECONDARY_ENDPOINT") {
          expect([name, param.defaultValue]).toEqual([name, undefined]); // required
        } else {
          expect([name, param.defaultValue]).toEqual([name, general.defaultText]);
        }
        continue;
      }
      const knob = [...POLICY_KNOBS, ...LIMIT_SETTINGS].find((k) => k.setting === name)!;
      const accepts = (value: unknown) => knob.schema.safeParse(String(value)).success;
      expect([name, String(param.defaultValue)]).toEqual([name, knob.defaultText]);
      expect([name, accepts(param.defaultValue)]).toEqual([name, true]);
      if (param.type === "int") {
        // The app's own schema decides: Bicep's bounds are the last accepted values on each side.
        expect([name, param.minValue, param.maxValue].map((v) => typeof v)).toEqual(["string", "number", "number"]);
        expect([name, accepts(param.minValue), accepts(param.minValue - 1)]).toEqual([name, true, false]);
        expect([name, accepts(param.maxValue), accepts(param.maxValue + 1)]).toEqual([name, true, false]);
      } else if (param.allowedValues) {
        for (const value of param.allowedValues) expect([name, value, accepts(value)]).toEqual([name, value, true]);
        expect(accepts("something-else")).toBe(false);
      } else if (param.type === "bool") {
        expect(String(setting.value)).toMatch(/'true', 'false'\)\]$/);
      }
    }
    expect(main.parameters.failbackMode.allowedValues.sort()).toEqual(["automatic", "manual"]);
  });

  test("TASK_HUB_NAME comes from the taskHubName parameter", () => {
    const value = String(appSettingsOf(controller).get("TASK_HUB_NAME")?.value);
    expect(mainParameterOf(main, "functionApp", value)).toBe("taskHubName");
    expect(main.parameters.taskHubName.defaultValue).toBe("FailoverHubP1");
  });

  test("the task hub name is checked by the real Bicep evaluator: letters and digits, 3-45, starting with a letter", () => {
    // The module's own function, evaluated by `bicep console` on sample names.
    const source = readFileSync(path.join(BICEP_DIR, "modules", "functionapp.bicep"), "utf8");
    const definition = source.split("\n").find((line) => line.startsWith("func taskHubNameProblem("));
    expect(definition).toBeDefined();
    const names = ["FailoverHub", "hub1", "abc", "a".repeat(45), "ab", "a".repeat(46), "1hub", "failover-hub", "hub_1", "hub 1", "Hub\u00e9"];
    const input = [definition, ...names.map((n) => `taskHubNameProblem('${n}')`)].join("\n") + "\n";
    const result = spawnSync("bash", [BICEP_SCRIPT, "console"], { cwd: ROOT, input, encoding: "utf8" });
    expect(result.status).toBe(0);
    const answers = result.stdout.split("\n").filter((line) => line.startsWith("'")).map((line) => line.slice(1, -1));
    expect(answers).toEqual(["", "", "", "", "must be 3-45 characters long", "must be 3-45 characters long", "must start with a letter", "must hold only letters and digits", "must hold only letters and digits", "must hold only letters and digits", "must hold only letters and digits"]);
    // ... and the app setting refuses the deployment with that reason.
    const value = String(appSettingsOf(controller).get("TASK_HUB_NAME")?.value);
    expect(value).toMatch(/^\[if\(empty\(variables\('taskHubRefusal'\)\), parameters\('taskHubName'\), fail\(/);
    const fa = moduleDeployment(main, "functionApp").properties.template;
    expect(fa.variables.taskHubRefusal).toMatch(/^\[if\(not\(empty\(__bicep\.taskHubNameProblem\(parameters\('taskHubName'\)\)\)\)/);
  });

  test("the notification webhook is a secure parameter all the way to the app setting", () => {
    expect(main.parameters.notifyWebhookUrl).toMatchObject({ type: "securestring", defaultValue: "" });
    const fa = moduleDeployment(main, "functionApp").properties.template;
    expect(fa.parameters.notifyWebhookUrl.type).toBe("securestring");
  });
});

describe("outputs", () => {
  test("carry names, host name and identity ids, and no secret", () => {
    expect(Object.keys(main.outputs)).toEqual(
      expect.arrayContaining(["functionAppName", "functionAppHostName", "statusUrl", "storageAccountName", "identityClientId", "identityPrincipalId", "identityResourceId"]),
    );
    expect(outputProblems(main)).toEqual([]);
  });

  test("the output check catches a connection string", () => {
    const leaky = clone(main);
    leaky.outputs.storageConnectionString = { type: "string", value: "[reference('monitoring').outputs.x.value.ConnectionString]" };
    expect(outputProblems(leaky)).toEqual([expect.stringContaining("name suggests a secret"), expect.stringContaining("reads a key or connection string")]);
  });
});
