import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { OPERATOR_ROLE, READER_ROLE } from "../../src/core/identity";
import { APP_AT, BICEP_SCRIPT, ROOT, bicep, buildMainTemplate, deployMain, findProperties, makeTempDir, moduleDeployment, readJson, type Json } from "./arm";
import { PUBLIC_CLOUD_ENVIRONMENT, flatten, type Expanded, type Options } from "./armEval";

/**
 * Optional Entra ID in front of the function app (bicep/modules/auth.bicep), as compiled by the
 * real Bicep CLI and expanded for given parameters the way Resource Manager would: off by
 * default; with an app registration's client ID and tenant ID, App Service Authentication
 * requires a bearer token from that tenant for that registration and answers 401 without one,
 * with no client secret anywhere.
 */

let main: Json;

beforeAll(() => {
  main = buildMainTemplate();
}, 300_000);

const CLIENT_ID = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b";
const TENANT_ID = "0a1b2c3d-4e5f-4061-8273-94a5b6c7d8e9";

function deploy(params: Record<string, Json>, options: Options = {}): Expanded[] {
  return flatten(deployMain(main, params, options));
}

const authConfigs = (resources: Expanded[]) => resources.filter((r) => r.type === "Microsoft.Web/sites/config");
const site = (resources: Expanded[]) => resources.find((r) => r.type === "Microsoft.Web/sites")!;
const appSettingNames = (resources: Expanded[]) => (site(resources).resource.properties.siteConfig.appSettings as { name: string }[]).map((s) => s.name);

describe("Entra ID (App Service Authentication)", () => {
  test("off by default: no auth configuration, and both parameters empty", () => {
    expect(main.parameters.authClientId).toMatchObject({ type: "string", defaultValue: "" });
    expect(main.parameters.authTenantId).toMatchObject({ type: "string", defaultValue: "" });
    const resources = deploy({});
    expect(authConfigs(resources)).toEqual([]);
    expect(resources.find((r) => r.symbol === "auth")).toBeUndefined();
  });

  test("on with a client ID and a tenant ID: authsettingsV2 of the function app requires a token, 401 without, Entra ID with the tenant's v2.0 issuer and the registration's audience", () => {
    const resources = deploy({ authClientId: CLIENT_ID, authTenantId: TENANT_ID });
    const configs = authConfigs(resources);
    expect(configs).toHaveLength(1);
    const config = configs[0];
    expect(config.name).toBe(`${site(resources).name}/authsettingsV2`);
    expect(config.at).toEqual(APP_AT);
    const p = config.resource.properties;
    expect(p.platform).toEqual({ enabled: true });
    expect(p.globalValidation).toEqual({ requireAuthentication: true, unauthenticatedClientAction: "Return401" });
    expect(p.httpSettings).toEqual({ requireHttps: true });
    expect(Object.keys(p.identityProviders)).toEqual(["azureActiveDirectory"]);
    const aad = p.identityProviders.azureActiveDirectory;
    expect(aad.enabled).toBe(true);
    expect(aad.registration).toEqual({ clientId: CLIENT_ID, openIdIssuer: `https://login.microsoftonline.com/${TENANT_ID}/v2.0` });
    expect(aad.validation.allowedAudiences).toEqual([`api://${CLIENT_ID}`, CLIENT_ID]);
    // The module runs after the app exists.
    expect(moduleDeployment(main, "auth").dependsOn).toContain("functionApp");
  });

  test("no secret: bearer-token validation needs none, and none is referenced or set", () => {
    const resources = deploy({ authClientId: CLIENT_ID, authTenantId: TENANT_ID });
    const config = authConfigs(resources)[0].resource;
    for (const name of ["clientSecretSettingName", "clientSecretCertificateThumbprint", "clientSecretCertificateSubjectAlternativeName", "clientSecret"]) {
      expect([name, findProperties(config, name)]).toEqual([name, []]);
    }
    expect(JSON.stringify(config)).not.toMatch(/secret/i);
    expect(appSettingNames(resources)).not.toContain("MICROSOFT_PROVIDER_AUTHENTICATION_SECRET");
  });

  test("the app learns that authentication is on from the platform only: no deployment sets WEBSITE_AUTH_ENABLED", () => {
    for (const params of [{}, { authClientId: CLIENT_ID, authTenantId: TENANT_ID }]) {
      const names = appSettingNames(deploy(params));
      expect(names.length).toBeGreaterThan(10);
      expect(names.filter((n) => /^WEBSITE_AUTH/i.test(n))).toEqual([]);
    }
  });

  test("a sovereign cloud's login endpoint comes from environment()", () => {
    const usGov = { ...PUBLIC_CLOUD_ENVIRONMENT, name: "AzureUSGovernment", authentication: { ...PUBLIC_CLOUD_ENVIRONMENT.authentication, loginEndpoint: "https://login.microsoftonline.us/" } };
    const config = authConfigs(deploy({ authClientId: CLIENT_ID, authTenantId: TENANT_ID }, { environment: usGov }))[0];
    expect(config.resource.properties.identityProviders.azureActiveDirectory.registration.openIdIssuer).toBe(`https://login.microsoftonline.us/${TENANT_ID}/v2.0`);
  });

  test.each([
    [{ authClientId: CLIENT_ID }, 'authTenantId must be a GUID (8-4-4-4-12 hexadecimal digits), got ""'],
    [{ authTenantId: TENANT_ID }, 'authClientId must be a GUID (8-4-4-4-12 hexadecimal digits), got ""'],
    [{ authClientId: "my-app", authTenantId: TENANT_ID }, 'authClientId must be a GUID (8-4-4-4-12 hexadecimal digits), got "my-app"'],
    [{ authClientId: CLIENT_ID, authTenantId: "contoso.onmicrosoft.com" }, 'authTenantId must be a GUID (8-4-4-4-12 hexadecimal digits), got "contoso.onmicrosoft.com"'],
    [{ authClientId: CLIENT_ID.replace(/-/g, "x"), authTenantId: TENANT_ID }, "authClientId must be a GUID"],
  ])("half or malformed settings fail the deployment, naming the parameter: %j", (params, message) => {
    expect(() => deploy(params)).toThrow(`fail(): ${message}`);
  });

  test("the real Bicep evaluator (bicep console) agrees on what a GUID is", () => {
    const source = readFileSync(path.join(ROOT, "bicep", "modules", "auth.bicep"), "utf8");
    const definition = /^func guidProblem[\s\S]*?(?=\n\n)/m.exec(source)![0].split("\n").map((line) => line.trim()).join(" ");
    const values = [CLIENT_ID, CLIENT_ID.toUpperCase(), "", "my-app", CLIENT_ID.replace(/-/g, "x"), `${CLIENT_ID}0`, CLIENT_ID.replace("6", "g")];
    const input = [definition, ...values.map((v) => `guidProblem('p', '${v}')`)].join("\n") + "\n";
    const result = spawnSync("bash", [BICEP_SCRIPT, "console"], { cwd: ROOT, input, encoding: "utf8" });
    expect(result.status).toBe(0);
    const answers = result.stdout.split("\n").filter((line) => line.startsWith("'")).map((line) => line.slice(1, -1));
    expect(answers.map((a) => a === "")).toEqual([true, true, false, false, false, false, false]);
  }, 120_000);

  test("main.bicepparam reads AUTH_CLIENT_ID and AUTH_TENANT_ID (empty when unset)", () => {
    const dir = makeTempDir("bicep-auth-params-");
    try {
      const out = path.join(dir, "on.json");
      expect(bicep(["build-params", "bicep/main.bicepparam", "--outfile", out], { AUTH_CLIENT_ID: CLIENT_ID, AUTH_TENANT_ID: TENANT_ID }).status).toBe(0);
      expect(readJson<Json>(out).parameters).toMatchObject({ authClientId: { value: CLIENT_ID }, authTenantId: { value: TENANT_ID } });
      const off = path.join(dir, "off.json");
      expect(bicep(["build-params", "bicep/main.bicepparam", "--outfile", off], { AUTH_CLIENT_ID: undefined, AUTH_TENANT_ID: undefined }).status).toBe(0);
      expect(readJson<Json>(off).parameters).toMatchObject({ authClientId: { value: "" }, authTenantId: { value: "" } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the security doc's app roles JSON defines exactly the roles the app checks, for users and applications", () => {
    const security = readFileSync(path.join(ROOT, "docs", "security.md"), "utf8");
    const block = /```json\n\s*(\[[\s\S]*?\])\s*\n\s*```/.exec(security);
    expect(block).not.toBeNull();
    const roles = JSON.parse(block![1]) as { value: string; allowedMemberTypes: string[]; id: string; isEnabled: boolean }[];
    expect(roles.map((r) => r.value).sort()).toEqual([OPERATOR_ROLE, READER_ROLE].sort());
    for (const role of roles) {
      expect(role.allowedMemberTypes.sort()).toEqual(["Application", "User"]);
      expect(role.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      expect(role.isEnabled).toBe(true);
    }
    expect(security).toContain("az ad app update --id");
    expect(security).toContain("--app-roles @roles.json");
    expect(security).toContain("authClientId");
    expect(security).toContain("authTenantId");
  });
});
