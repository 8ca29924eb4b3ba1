import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { ROLES as STAND_IN_ROLES, assignmentsGrant } from "../../src/local/services/azureStandIn/roles";
import { APP_AT, BICEP_SCRIPT, ROOT, bicep, buildMainTemplate, deployMain, makeTempDir, moduleDeployment, readJson, type Json } from "./arm";
import { flatten, type Expanded } from "./armEval";

/**
 * The switch targets' role assignments (bicep/modules/switchRoles.bicep), as compiled by the
 * real Bicep CLI and expanded the way Resource Manager would for given resource IDs: each
 * assignment exists exactly when its parameter is set, deployed in the target's own resource
 * group and subscription, with the right built-in role, scoped to the target resource itself,
 * and it grants what the step needs there and nothing on the resources next to it (checked with
 * the role definitions of the local Azure stand-in).
 */

let main: Json;

beforeAll(() => {
  main = buildMainTemplate();
}, 300_000);

/** The app's own resource group; every target below lives elsewhere. */
const APP = APP_AT;

const NET_SUB = "11111111-1111-1111-1111-111111111111";
const DNS_SUB = "22222222-2222-2222-2222-222222222222";

const TARGETS = {
  trafficManagerProfileId: {
    id: `/subscriptions/${NET_SUB}/resourceGroups/rg-edge/providers/Microsoft.Network/trafficManagerProfiles/tm-app`,
    role: "a4b10055-b0c7-44c2-b00f-c7b5b3550cf7",
    roleName: "Traffic Manager Contributor",
    // What the traffic_manager step writes, and a resource next to the profile it must not reach.
    needs: { resource: "/externalEndpoints/app-east", action: "Microsoft.Network/trafficManagerProfiles/externalEndpoints/write", data: false },
    sibling: `/subscriptions/${NET_SUB}/resourceGroups/rg-edge/providers/Microsoft.Network/trafficManagerProfiles/tm-other/externalEndpoints/app-east`,
  },
  frontDoorProfileId: {
    id: `/subscriptions/${NET_SUB}/resourceGroups/rg-edge/providers/Microsoft.Cdn/profiles/afd-app`,
    role: "ec156ff8-a8d1-4d15-830c-5b80698ca432",
    roleName: "CDN Profile Contributor",
    needs: { resource: "/originGroups/og-app/origins/east", action: "Microsoft.Cdn/profiles/originGroups/origins/write", data: false },
    sibling: `/subscriptions/${NET_SUB}/resourceGroups/rg-edge/providers/Microsoft.Cdn/profiles/afd-other/originGroups/og-app/origins/east`,
  },
  dnsZoneOrRecordSetId: {
    id: `/subscriptions/${DNS_SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/dnszones/contoso.com`,
    role: "befefa01-2a29-4197-83a8-272ff33ce314",
    roleName: "DNS Zone Contributor",
    needs: { resource: "/CNAME/www", action: "Microsoft.Network/dnszones/CNAME/write", data: false },
    sibling: `/subscriptions/${DNS_SUB}/resourceGroups/rg-dns/providers/Microsoft.Network/dnszones/fabrikam.com/CNAME/www`,
  },
  appConfigurationStoreId: {
    id: `/subscriptions/${APP.subscriptionId}/resourceGroups/rg-config/providers/Microsoft.AppConfiguration/configurationStores/appcs-app`,
    role: "5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b",
    roleName: "App Configuration Data Owner",
    needs: { resource: "", action: "Microsoft.AppConfiguration/configurationStores/keyValues/write", data: true },
    sibling: `/subscriptions/${APP.subscriptionId}/resourceGroups/rg-config/providers/Microsoft.AppConfiguration/configurationStores/appcs-other`,
  },
  sqlPrimaryServerId: {
    id: `/subscriptions/${DNS_SUB}/resourceGroups/rg-data-east/providers/Microsoft.Sql/servers/sql-east`,
    role: "6d8ee4ec-f05a-4a1d-8b00-a9b17e38b437",
    roleName: "SQL Server Contributor",
    needs: { resource: "/failoverGroups/fg-app", action: "Microsoft.Sql/servers/failoverGroups/failover/action", data: false },
    sibling: `/subscriptions/${DNS_SUB}/resourceGroups/rg-data-east/providers/Microsoft.Sql/servers/sql-other/failoverGroups/fg-app`,
  },
  sqlSecondaryServerId: {
    id: `/subscriptions/${NET_SUB}/resourceGroups/rg-data-west/providers/Microsoft.Sql/servers/sql-west`,
    role: "6d8ee4ec-f05a-4a1d-8b00-a9b17e38b437",
    roleName: "SQL Server Contributor",
    needs: { resource: "/failoverGroups/fg-app", action: "Microsoft.Sql/servers/failoverGroups/failover/action", data: false },
    sibling: `/subscriptions/${NET_SUB}/resourceGroups/rg-data-west/providers/Microsoft.Sql/servers/sql-east/failoverGroups/fg-app`,
  },
  cosmosAccountId: {
    id: `/subscriptions/${NET_SUB}/resourceGroups/rg-data/providers/Microsoft.DocumentDB/databaseAccounts/cosmos-app`,
    role: "5bd9cd88-fe45-4216-938b-f97437e15450",
    roleName: "DocumentDB Account Contributor",
    needs: { resource: "", action: "Microsoft.DocumentDB/databaseAccounts/failoverPriorityChange/action", data: false },
    sibling: `/subscriptions/${NET_SUB}/resourceGroups/rg-data/providers/Microsoft.DocumentDB/databaseAccounts/cosmos-other`,
  },
  storageAccountId: {
    id: `/subscriptions/${DNS_SUB}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stapp`,
    role: "17d1049b-9a84-46fb-8f53-869881c3d3ab",
    roleName: "Storage Account Contributor",
    needs: { resource: "", action: "Microsoft.Storage/storageAccounts/failover/action", data: false },
    sibling: `/subscriptions/${DNS_SUB}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/stother`,
  },
} as const;

type TargetParam = keyof typeof TARGETS;
const PARAMS = Object.keys(TARGETS) as TargetParam[];

/** What the switchRoles module deploys for these target IDs (its module deployments and their assignments). */
function deploy(ids: Partial<Record<TargetParam, string>>): Expanded[] {
  const module = deployMain(main, ids).find((r) => r.symbol === "switchRoles");
  if (!module) throw new Error("main.bicep did not deploy the switchRoles module");
  return flatten(module.deployed ?? []);
}

/** Resource ID of the identity main.bicep creates (the app runs as it). */
function identityId(): string {
  const identity = flatten(deployMain(main, {})).find((r) => r.type === "Microsoft.ManagedIdentity/userAssignedIdentities")!;
  return `/subscriptions/${identity.at!.subscriptionId}/resourceGroups/${identity.at!.resourceGroup}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/${identity.name}`;
}

const assignmentsOf = (resources: Expanded[]) => resources.filter((r) => r.type === "Microsoft.Authorization/roleAssignments");
const roleGuid = (assignment: Expanded) => String(assignment.resource.properties.roleDefinitionId).split("/").at(-1)!;
const scopeOf = (assignment: Expanded) => String(assignment.resource.scope);
const segments = (id: string) => id.split("/");

/** Every property a correct assignment for `param` on `id` has. */
function expectAssignment(assignment: Expanded, param: TargetParam, id: string): void {
  const target = TARGETS[param];
  // Deployed where the target lives, not in the app's resource group.
  expect(assignment.at).toEqual({ subscriptionId: segments(id)[2], resourceGroup: segments(id)[4] });
  // Scoped to the resource itself: not its resource group, not its subscription.
  expect(scopeOf(assignment).toLowerCase()).toBe(id.toLowerCase());
  const p = assignment.resource.properties;
  expect(p.roleDefinitionId).toBe(`/subscriptions/${segments(id)[2]}/providers/Microsoft.Authorization/roleDefinitions/${target.role}`);
  expect(p.principalId).toBe("reference(identity).principalId");
  expect(p.principalType).toBe("ServicePrincipal");
  // Deterministic: the same target, identity and role give the same name on every deployment.
  expect(assignment.name).toBe(`guid(${scopeOf(assignment)}, ${identityId()}, ${target.role})`);
}

describe("switch target roles", () => {
  test("no target given: no module deployment, no role assignment; main.bicep then assigns only its four storage and telemetry roles", () => {
    expect(deploy({})).toEqual([]);
    expect(assignmentsOf(flatten(deployMain(main, {})))).toHaveLength(4);
    expect(assignmentsOf(flatten(deployMain(main, { [PARAMS[0]]: TARGETS[PARAMS[0]].id })))).toHaveLength(5);
  });

  test.each(PARAMS)("%s alone: exactly one assignment, its role, on that resource, in its own subscription and resource group", (param) => {
    const resources = deploy({ [param]: TARGETS[param].id });
    const assignments = assignmentsOf(resources);
    expect(assignments).toHaveLength(1);
    expectAssignment(assignments[0], param, TARGETS[param].id);
    expect(resources.filter((r) => r.type === "Microsoft.Resources/deployments")).toHaveLength(1);
  });

  test("all of them: one assignment per target, its role, distinct names", () => {
    const assignments = assignmentsOf(deploy(Object.fromEntries(PARAMS.map((p) => [p, TARGETS[p].id]))));
    expect(assignments.map(roleGuid).sort()).toEqual(PARAMS.map((p) => TARGETS[p].role).sort());
    for (const param of PARAMS)
      expectAssignment(assignments.find((a) => roleGuid(a) === TARGETS[param].role && scopeOf(a).toLowerCase() === TARGETS[param].id.toLowerCase())!, param, TARGETS[param].id);
    expect(new Set(assignments.map((a) => a.name)).size).toBe(PARAMS.length);
  });

  test("a DNS record set (A or CNAME, any case) narrows DNS Zone Contributor to that record set", () => {
    const zone = TARGETS.dnsZoneOrRecordSetId.id;
    for (const [suffix, canonical] of [["/CNAME/www", "/CNAME/www"], ["/cname/www", "/CNAME/www"], ["/A/@", "/A/@"]] as const) {
      const assignments = assignmentsOf(deploy({ dnsZoneOrRecordSetId: zone + suffix }));
      expect(assignments).toHaveLength(1);
      expectAssignment(assignments[0], "dnsZoneOrRecordSetId", zone + canonical);
    }
  });

  test("each assignment grants what its step does on the target, and nothing on a resource next to it (the stand-in's role definitions)", () => {
    for (const param of PARAMS) {
      const target = TARGETS[param];
      const granted = assignmentsOf(deploy({ [param]: target.id })).map((a) => ({ roleDefinitionId: roleGuid(a), scope: scopeOf(a) }));
      expect([param, STAND_IN_ROLES[target.role]?.name]).toEqual([param, target.roleName]);
      expect([param, assignmentsGrant(granted, target.id + target.needs.resource, target.needs.action, target.needs.data)]).toEqual([param, true]);
      expect([param, assignmentsGrant(granted, target.sibling, target.needs.action, target.needs.data)]).toEqual([param, false]);
    }
    // On a record set, the other records of the zone stay out of reach.
    const zone = TARGETS.dnsZoneOrRecordSetId.id;
    const onRecord = assignmentsOf(deploy({ dnsZoneOrRecordSetId: `${zone}/CNAME/www` })).map((a) => ({ roleDefinitionId: roleGuid(a), scope: scopeOf(a) }));
    expect(assignmentsGrant(onRecord, `${zone}/CNAME/www`, "Microsoft.Network/dnszones/CNAME/write", false)).toBe(true);
    expect(assignmentsGrant(onRecord, `${zone}/CNAME/api`, "Microsoft.Network/dnszones/CNAME/write", false)).toBe(false);
  });

  test("the check catches a misdirected assignment (a resource-group scope grants the sibling too)", () => {
    const target = TARGETS.trafficManagerProfileId;
    const wide = [{ roleDefinitionId: target.role, scope: `/subscriptions/${NET_SUB}/resourceGroups/rg-edge` }];
    expect(assignmentsGrant(wide, target.sibling, target.needs.action, false)).toBe(true);
  });

  test.each([
    ["trafficManagerProfileId", TARGETS.dnsZoneOrRecordSetId.id, "it names a Microsoft.Network/dnszones resource"],
    ["trafficManagerProfileId", `/subscriptions/${NET_SUB}/resourceGroups/rg-edge`, "it has 4 path segments, not 8"],
    ["frontDoorProfileId", "afd-app", "it has 0 path segments, not 8"],
    ["appConfigurationStoreId", `/subscriptions/${NET_SUB}/resourceGroups/rg-edge/providers/Microsoft.AppConfiguration/configurationStores/appcs/keyValues/x`, "it has 10 path segments, not 8"],
    ["dnsZoneOrRecordSetId", `${TARGETS.dnsZoneOrRecordSetId.id}/TXT/www`, "its record set type is TXT, not A or CNAME"],
    ["dnsZoneOrRecordSetId", `/subscriptions/${DNS_SUB}/resourceGroups//providers/Microsoft.Network/dnszones/contoso.com`, "it is not of the form /subscriptions/.../resourceGroups/.../providers/..."],
  ] as const)("a malformed %s (%s) fails the deployment, naming the parameter and the problem: %s", (param, id, problem) => {
    expect(() => deploy({ [param]: id })).toThrow(`fail(): ${param} must be the resource ID of a `);
    expect(() => deploy({ [param]: id })).toThrow(`but ${problem}: "${id}"`);
  });

  test("the real Bicep evaluator (bicep console) gives the same verdicts on resource IDs", () => {
    // The module's own functions, each joined onto one line for the console.
    const source = readFileSync(path.join(ROOT, "bicep", "modules", "switchRoles.bicep"), "utf8");
    const definitions = [...source.matchAll(/^(?:type \w+ = \{\n[\s\S]*?\n\}|func [\s\S]*?)(?=\n\n)/gm)].map(([block]) => {
      const lines = block.split("\n").map((line) => line.trim()).filter((line) => line !== "" && !line.startsWith("@"));
      return block.startsWith("type ") ? `${lines[0]} ${lines.slice(1, -1).join(", ")} }` : lines.join(" ");
    });
    expect(definitions.filter((d) => d.startsWith("func ")).length).toBeGreaterThanOrEqual(3);
    const cases: [string, string, string, string[]][] = [
      ["trafficManagerProfileId", TARGETS.trafficManagerProfileId.id, "Microsoft.Network/trafficManagerProfiles", []],
      ["trafficManagerProfileId", TARGETS.dnsZoneOrRecordSetId.id, "Microsoft.Network/trafficManagerProfiles", []],
      ["dnsZoneOrRecordSetId", `${TARGETS.dnsZoneOrRecordSetId.id}/cname/www`, "Microsoft.Network/dnsZones", ["A", "CNAME"]],
      ["dnsZoneOrRecordSetId", `${TARGETS.dnsZoneOrRecordSetId.id}/TXT/www`, "Microsoft.Network/dnsZones", ["A", "CNAME"]],
      ["frontDoorProfileId", "afd-app", "Microsoft.Cdn/profiles", []],
    ];
    const calls = cases.map(([p, id, type, records]) => `targetIdProblem('${p}', '${id}', '${type}', [${records.map((r) => `'${r}'`).join(", ")}])`);
    const result = spawnSync("bash", [BICEP_SCRIPT, "console"], { cwd: ROOT, input: [...definitions, ...calls].join("\n") + "\n", encoding: "utf8" });
    expect(result.status).toBe(0);
    const answers = result.stdout.split("\n").filter((line) => line.startsWith("'")).map((line) => line.slice(1, -1).replace(/\\'/g, "'"));
    expect(answers).toHaveLength(cases.length);
    expect(answers[0]).toBe("");
    expect(answers[1]).toMatch(/^trafficManagerProfileId must be the resource ID of a Microsoft\.Network\/trafficManagerProfiles resource.*but it names a Microsoft\.Network\/dnszones resource/);
    expect(answers[2]).toBe("");
    expect(answers[3]).toMatch(/but its record set type is TXT, not A or CNAME/);
    expect(answers[4]).toMatch(/^frontDoorProfileId .*but it has 0 path segments, not 8/);
  }, 120_000);
});

describe("wiring in main.bicep", () => {
  test("optional parameters, empty by default; the module gets the identity the function app runs as, after it exists", () => {
    for (const param of PARAMS) expect([param, main.parameters[param]?.type, main.parameters[param]?.defaultValue]).toEqual([param, "string", ""]);
    const module = moduleDeployment(main, "switchRoles");
    expect(module.properties.parameters.identityName.value).toBe(moduleDeployment(main, "functionApp").properties.parameters.identityName.value);
    expect(module.dependsOn).toContain("identity");
  });

  test("main.bicepparam maps the azd/scripts environment onto the targets, the switch plan and the ARM endpoint; the plan reaches SWITCH_PLAN", () => {
    const dir = makeTempDir("bicep-switch-params-");
    try {
      const plan = JSON.stringify({ steps: [{ kind: "webhook", url: "https://ops.example.com/failover" }] });
      const env = {
        SWITCH_PLAN: plan,
        TRAFFIC_MANAGER_PROFILE_ID: TARGETS.trafficManagerProfileId.id,
        FRONT_DOOR_PROFILE_ID: TARGETS.frontDoorProfileId.id,
        DNS_ZONE_OR_RECORD_SET_ID: TARGETS.dnsZoneOrRecordSetId.id,
        APP_CONFIGURATION_STORE_ID: TARGETS.appConfigurationStoreId.id,
        SQL_PRIMARY_SERVER_ID: TARGETS.sqlPrimaryServerId.id,
        SQL_SECONDARY_SERVER_ID: TARGETS.sqlSecondaryServerId.id,
        COSMOS_ACCOUNT_ID: TARGETS.cosmosAccountId.id,
        STORAGE_ACCOUNT_ID: TARGETS.storageAccountId.id,
        ARM_ENDPOINT: "https://management.usgovcloudapi.net/",
        ARM_AUDIENCE: "https://management.usgovcloudapi.net/.default",
      };
      const out = path.join(dir, "main.parameters.json");
      const r = bicep(["build-params", "bicep/main.bicepparam", "--outfile", out], env);
      expect(r.status).toBe(0);
      const values = readJson<Json>(out).parameters;
      expect(values.switchPlan.value).toBe(plan);
      for (const param of PARAMS) expect([param, values[param].value]).toEqual([param, TARGETS[param].id]);
      expect(values.armEndpoint.value).toBe(env.ARM_ENDPOINT);
      expect(values.armAudience.value).toBe(env.ARM_AUDIENCE);

      // ... and the switchPlan parameter is what the function app's SWITCH_PLAN setting holds.
      const site = flatten(deployMain(main, { switchPlan: plan })).find((r) => r.type === "Microsoft.Web/sites")!;
      const settings = site.resource.properties.siteConfig.appSettings as { name: string; value: string }[];
      expect(settings.find((s) => s.name === "SWITCH_PLAN")?.value).toBe(plan);
      expect(flatten(deployMain(main, {})).find((r) => r.type === "Microsoft.Web/sites")!.resource.properties.siteConfig.appSettings.find((s: Json) => s.name === "SWITCH_PLAN").value).toBe("");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the switch-plan doc's role table names the same role for each step kind as the Bicep assigns", () => {
    const doc = readFileSync(path.join(ROOT, "docs", "switch-plans.md"), "utf8");
    const table = doc.slice(doc.indexOf("### What each step does"));
    const kinds: Record<TargetParam, string> = { trafficManagerProfileId: "traffic_manager", frontDoorProfileId: "front_door", dnsZoneOrRecordSetId: "dns", appConfigurationStoreId: "app_configuration",
      sqlPrimaryServerId: "sql_failover_group",
      sqlSecondaryServerId: "sql_failover_group",
      cosmosAccountId: "cosmos_db",
      storageAccountId: "storage_account",
    };
    for (const param of PARAMS) {
      const row = table.split("\n").find((line) => line.startsWith(`| \`${kinds[param]}\``));
      expect([param, row]).toEqual([param, expect.stringContaining(`${TARGETS[param].roleName} \`${TARGETS[param].role}\``)]);
      expect([param, row]).toEqual([param, expect.stringContaining(`\`${param}\``)]);
    }
  });
});
