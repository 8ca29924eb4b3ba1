import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

/** azure.yaml (`azd up`): well-formed, and every path, service and parameter it relies on exists. */

const root = join(__dirname, "..", "..");
const read = (file: string) => readFileSync(join(root, file), "utf8");

interface AzureYaml {
  name: string;
  infra: { provider: string; path: string; module: string };
  services: Record<string, { project: string; language: string; host: string; dist?: string }>;
  hooks?: Record<string, { shell: string; run: string }>;
}

const azure = parse(read("azure.yaml"), { strict: true, uniqueKeys: true }) as AzureYaml;

describe("azure.yaml", () => {
  test("is a mapping with a name, a Bicep infra section and one function service", () => {
    expect(azure.name).toMatch(/^[a-z][a-z0-9-]{1,62}$/);
    expect(azure.infra.provider).toBe("bicep");
    expect(Object.keys(azure.services)).toEqual(["api"]);
    expect(azure.services.api).toMatchObject({ host: "function" });
    expect(["js", "ts"]).toContain(azure.services.api.language);
  });

  test("the template it provisions exists, with the parameter file azd reads next to it", () => {
    const dir = join(root, azure.infra.path);
    expect(statSync(dir).isDirectory()).toBe(true);
    expect(existsSync(join(dir, `${azure.infra.module}.bicep`))).toBe(true);
    expect(existsSync(join(dir, `${azure.infra.module}.bicepparam`))).toBe(true);
    expect(read(join(azure.infra.path, `${azure.infra.module}.bicepparam`))).toContain(`using '${azure.infra.module}.bicep'`);
  });

  test("the service's project is this Node.js app, and the language matches its sources", () => {
    const service = azure.services.api;
    const project = join(root, service.project);
    const pkg = JSON.parse(readFileSync(join(project, "package.json"), "utf8")) as { main: string; scripts: Record<string, string> };
    expect(pkg.main).toMatch(/^dist\/functions\//);
    expect(existsSync(join(project, "host.json"))).toBe(true);
    expect(existsSync(join(project, service.language === "ts" ? "tsconfig.json" : "package.json"))).toBe(true);
    expect(pkg.scripts.build).toBeDefined();
  });

  test("the prepackage hook runs scripts/package and stages the app where the service's dist points", () => {
    const hook = azure.hooks?.prepackage;
    expect(hook).toBeDefined();
    expect(hook!.shell).toBe("sh");
    const [command, ...args] = hook!.run.trim().split(/\s+/);
    expect(command).toBe("scripts/package");
    expect(statSync(join(root, command)).mode & 0o111).not.toBe(0);
    const stage = args[args.indexOf("--stage") + 1];
    expect(args).toContain("--stage");
    expect(stage).toBe(azure.services.api.dist);
    // The staged folder is build output, never committed.
    expect(read(".gitignore").split("\n")).toContain(".artifacts/");
  });

  test("the function app carries the azd-service-name tag of the service", () => {
    expect(read("bicep/modules/functionapp.bicep")).toMatch(new RegExp(`'azd-service-name': '${Object.keys(azure.services)[0]}'`));
  });

  test("every environment value main.bicepparam reads is named in the deploy doc's azd instructions", () => {
    const param = read(join(azure.infra.path, `${azure.infra.module}.bicepparam`));
    const names = [...param.matchAll(/readEnvironmentVariable\('([A-Z_]+)'/g)].map((m) => m[1]);
    expect(names).toEqual(expect.arrayContaining(["AZURE_ENV_NAME", "PRIMARY_ENDPOINT", "SECONDARY_ENDPOINT", "ALERT_EMAIL", "ALERT_WEBHOOK_URL"]));
    const deploy = read("docs/deploy.md");
    const azd = deploy.slice(deploy.indexOf("### With azd"));
    expect(azd.length).toBeGreaterThan(100);
    for (const name of names.filter((n) => n !== "AZURE_ENV_NAME")) expect([name, azd.includes(name)]).toEqual([name, true]);
  });
});
