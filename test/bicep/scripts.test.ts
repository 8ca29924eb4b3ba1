import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { installFunctionsCore, registeredFunctions, triggerOf } from "../../src/local/host/functionsCore";
import { currentDeployment } from "../../src/local/tools/cost/costCount";
import { ROOT, makeTempDir, run } from "./arm";

/**
 * scripts/bicep, scripts/package and scripts/deploy, run for real. Azure itself is out of reach
 * here, so scripts/deploy talks to a stand-in `az` (AZ=...) that records its calls.
 */

const script = (name: string) => path.join(ROOT, "scripts", name);

let tmp: string;
beforeAll(() => {
  tmp = makeTempDir("scripts-test-");
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("scripts/bicep", () => {
  test("--help says where the CLI comes from", () => {
    const result = run("bash", [script("bicep"), "--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/\$BICEP/);
    expect(result.stdout).toMatch(/az bicep install/);
    expect(result.stdout).toMatch(/NuGet/);
  });

  test("an explicit BICEP path wins, and a bad one is a clear error", () => {
    const which = run("bash", [script("bicep"), "--which"], {}, ROOT);
    expect(which.status).toBe(0);
    const [exe] = which.stdout.trim().split("\t");
    const explicit = run("bash", [script("bicep"), "--which"], { BICEP: exe });
    expect(explicit.stdout.trim()).toBe(`${exe}\t$BICEP`);
    const version = run("bash", [script("bicep"), "--version"], { BICEP: exe });
    expect(version.stdout).toMatch(/Bicep CLI version \d+\.\d+\.\d+/);

    const bad = run("bash", [script("bicep"), "--version"], { BICEP: path.join(tmp, "no-such-bicep") });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/BICEP=.*no-such-bicep is not an executable file/);
  }, 300_000);

  test("with no bicep, no az and no dotnet it says how to get one", () => {
    // A copy of the script in a tree without .tools/, on a PATH with only the basics.
    const repo = path.join(tmp, "bare-repo");
    const bin = path.join(tmp, "bare-bin");
    mkdirSync(path.join(repo, "scripts"), { recursive: true });
    mkdirSync(bin);
    copyFileSync(script("bicep"), path.join(repo, "scripts", "bicep"));
    for (const tool of ["bash", "dirname", "uname", "sed", "cat"]) {
      const found = run("bash", ["-c", `command -v ${tool}`]).stdout.trim();
      symlinkSync(found, path.join(bin, tool));
    }
    const result = run(path.join(bin, "bash"), [path.join(repo, "scripts", "bicep"), "--version"], { PATH: bin, BICEP: "" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/no Bicep CLI found/);
    expect(result.stderr).toMatch(/az bicep install/);
    expect(result.stderr).toMatch(/\.NET SDK/);
  });
});

/** A stand-in for the Azure CLI: logs every call and answers the few queries scripts/deploy makes. */
function fakeAz(dir: string): { az: string; log: string } {
  const az = path.join(dir, "az");
  const log = path.join(dir, "az.log");
  writeFileSync(
    az,
    `#!/usr/bin/env bash
echo "az $*" >> "${log}"
case "$*" in
  "account show --output none") [[ "\${FAKE_AZ_LOGGED_IN:-1}" == 1 ]] || { echo "Please run 'az login' to setup account." >&2; exit 1; } ;;
  "account show --query name --output tsv") echo "Test Subscription" ;;
  "group exists --name "*) echo "\${FAKE_AZ_GROUP_EXISTS:-false}" ;;
  "group show --name "*" --query location --output tsv") echo "\${FAKE_AZ_REGION:-swedencentral}" ;;
  "functionapp list-flexconsumption-runtimes --location "*) printf '%s\\n' \${FAKE_AZ_NODE_VERSIONS:-22} ;;
  "ad signed-in-user show"*) echo "11111111-2222-3333-4444-555555555555" ;;
  "deployment group create"*) echo "env PRIMARY_ENDPOINT=$PRIMARY_ENDPOINT SECONDARY_ENDPOINT=$SECONDARY_ENDPOINT OPERATOR_PRINCIPAL_ID=$OPERATOR_PRINCIPAL_ID DURABLE_BACKEND=\${DURABLE_BACKEND:-} FUNCTIONS_NODE_VERSION=\${FUNCTIONS_NODE_VERSION:-}" >> "${log}"
    echo "agents AGENT_REGIONS=\${AGENT_REGIONS:-} AGENT_AUTH_CLIENT_ID=\${AGENT_AUTH_CLIENT_ID:-}" >> "${log}" ;;
  *"outputs.agentAppNames.value"*) for app in \${FAKE_AZ_AGENT_APPS:-}; do echo "$app"; done ;;
  *"outputs.agentUrls.value"*) for app in \${FAKE_AZ_AGENT_APPS:-}; do echo "https://$app.azurewebsites.net/api/probe"; done ;;
  *"outputs.functionAppName.value"*) echo "func-test" ;;
  *"outputs.functionAppHostName.value"*) echo "func-test.azurewebsites.net" ;;
  *"outputs.statusUrl.value"*) echo "https://func-test.azurewebsites.net/api/status?group=state" ;;
  *"outputs.storageAccountName.value"*) echo "sttest" ;;
  *"outputs.stateTableName.value"*) echo "failoverstate" ;;
esac
`,
  );
  chmodSync(az, 0o755);
  writeFileSync(log, "");
  return { az, log };
}

describe("scripts/deploy", () => {
  const endpoints = ["--primary", "https://primary.example.com/health", "--secondary", "https://secondary.example.com/health"];

  test("--help lists the options", () => {
    const result = run("bash", [script("deploy"), "--help"]);
    expect(result.status).toBe(0);
    for (const option of ["--resource-group", "--create-group", "--primary", "--secondary", "--skip-infra"]) expect(result.stdout).toContain(option);
  });

  test("refuses clearly before doing anything: no group, no endpoints, no az, not logged in, missing group", () => {
    const dir = path.join(tmp, "deploy-refuses");
    mkdirSync(dir);
    const { az, log } = fakeAz(dir);
    const clean = { AZURE_RESOURCE_GROUP: "", PRIMARY_ENDPOINT: "", SECONDARY_ENDPOINT: "", AZ: az };

    let r = run("bash", [script("deploy"), ...endpoints], clean);
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining("no resource group")]);

    r = run("bash", [script("deploy"), "-g", "rg-test"], clean);
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining("PRIMARY_ENDPOINT is not set")]);

    r = run("bash", [script("deploy"), "-g", "rg-test", ...endpoints], { ...clean, AZ: path.join(dir, "no-az-here") });
    expect([r.status, r.stderr]).toEqual([1, expect.stringMatching(/Azure CLI .* is not installed/)]);

    r = run("bash", [script("deploy"), "-g", "rg-test", ...endpoints], { ...clean, FAKE_AZ_LOGGED_IN: "0" });
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining("not logged in: run 'az login'")]);

    r = run("bash", [script("deploy"), "-g", "rg-test", ...endpoints], { ...clean, FAKE_AZ_GROUP_EXISTS: "false" });
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining("pass --create-group -l REGION")]);

    expect(readFileSync(log, "utf8")).not.toMatch(/deployment group create|config-zip/);
  });

  test("one command: create the group, deploy main.bicepparam, publish the zip, print the status URL", () => {
    const dir = path.join(tmp, "deploy-runs");
    mkdirSync(dir);
    const { az, log } = fakeAz(dir);
    const zip = path.join(dir, "functions.zip");
    writeFileSync(zip, "PK");
    const r = run("bash", [script("deploy"), "-g", "rg-test", "--create-group", "-l", "swedencentral", ...endpoints, "--zip", zip], {
      AZ: az,
      OPERATOR_PRINCIPAL_ID: "",
      AZURE_RESOURCE_GROUP: "",
    });
    expect(r.status).toBe(0);
    const calls = readFileSync(log, "utf8").split("\n");
    const index = (pattern: RegExp) => calls.findIndex((c) => pattern.test(c));
    const order = [
      index(/^az group create --name rg-test --location swedencentral/),
      index(/^az deployment group create --resource-group rg-test .*--parameters .*bicep\/main\.bicepparam/),
      index(/^az functionapp deployment source config-zip --resource-group rg-test --name func-test --src .*functions\.zip/),
    ];
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(calls).toContain(
      "env PRIMARY_ENDPOINT=https://primary.example.com/health SECONDARY_ENDPOINT=https://secondary.example.com/health OPERATOR_PRINCIPAL_ID=11111111-2222-3333-4444-555555555555 DURABLE_BACKEND= FUNCTIONS_NODE_VERSION=",
    );
    // Node 22 (the default) needs no look at the region's catalog.
    expect(calls.filter((c) => c.includes("list-flexconsumption-runtimes"))).toEqual([]);
    expect(r.stdout).toContain("https://func-test.azurewebsites.net/api/status?group=state");
    expect(r.stdout).toContain("az functionapp keys list -g rg-test -n func-test --query functionKeys.default -o tsv");
    expect(r.stdout).toContain("az group delete --name rg-test");
    // The watchdog's real period, from its timer's schedule.
    installFunctionsCore();
    require("../../src/functions/watchdog");
    const minutes = currentDeployment(String(triggerOf(registeredFunctions().get("watchdog")!).schedule)).watchdogEveryMinutes;
    expect(r.stdout).toContain(`The watchdog timer starts the orchestration within ${minutes} minutes (it runs every ${minutes} minutes).`);
  });

  test("--node-version 24 deploys only where the region's Flex Consumption catalog lists Node 24; --durable-backend reaches main.bicepparam", () => {
    const dir = path.join(tmp, "deploy-node24");
    mkdirSync(dir);
    const { az, log } = fakeAz(dir);
    const zip = path.join(dir, "functions.zip");
    writeFileSync(zip, "PK");
    const env = { AZ: az, OPERATOR_PRINCIPAL_ID: "", AZURE_RESOURCE_GROUP: "", FAKE_AZ_GROUP_EXISTS: "true", FAKE_AZ_REGION: "westeurope" };
    const args = ["-g", "rg-test", ...endpoints, "--zip", zip, "--node-version", "24", "--durable-backend", "durableTaskScheduler"];

    let r = run("bash", [script("deploy"), ...args], { ...env, FAKE_AZ_NODE_VERSIONS: "20 22" });
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining("Node 24 is not in the Flex Consumption catalog of westeurope (it lists: 20 22)")]);
    let calls = readFileSync(log, "utf8");
    expect(calls).toContain("az functionapp list-flexconsumption-runtimes --location westeurope --runtime node");
    expect(calls).not.toMatch(/deployment group create|config-zip/);

    writeFileSync(log, "");
    r = run("bash", [script("deploy"), ...args], { ...env, FAKE_AZ_NODE_VERSIONS: "22 24" });
    expect(r.status).toBe(0);
    calls = readFileSync(log, "utf8");
    expect(calls).toContain("DURABLE_BACKEND=durableTaskScheduler FUNCTIONS_NODE_VERSION=24");

    for (const [flag, value, message] of [["--node-version", "20", "--node-version must be 22 or 24"], ["--durable-backend", "sql", "--durable-backend must be azureStorage or durableTaskScheduler"]]) {
      r = run("bash", [script("deploy"), "-g", "rg-test", ...endpoints, "--zip", zip, flag, value], env);
      expect([r.status, r.stderr]).toEqual([1, expect.stringContaining(message)]);
    }
  });

  test("vantage agents: AGENT_REGIONS needs AGENT_AUTH_CLIENT_ID; agent.zip goes to every agent app the deployment names, before the controller's zip", () => {
    const dir = path.join(tmp, "deploy-agents");
    mkdirSync(dir);
    const { az, log } = fakeAz(dir);
    const zip = path.join(dir, "functions.zip");
    const agentZip = path.join(dir, "agent.zip");
    writeFileSync(zip, "PK");
    writeFileSync(agentZip, "PK");
    const env = { AZ: az, OPERATOR_PRINCIPAL_ID: "", AZURE_RESOURCE_GROUP: "", FAKE_AZ_GROUP_EXISTS: "true", AGENT_REGIONS: "westeurope,eastus", AGENT_AUTH_CLIENT_ID: "" };
    const args = ["-g", "rg-test", ...endpoints, "--zip", zip, "--agent-zip", agentZip];

    let r = run("bash", [script("deploy"), ...args], env);
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining("AGENT_REGIONS is set but AGENT_AUTH_CLIENT_ID is not")]);
    expect(readFileSync(log, "utf8")).not.toMatch(/deployment group create|config-zip/);

    r = run("bash", [script("deploy"), ...args, "--agent-zip", path.join(dir, "missing.zip")], { ...env, AGENT_AUTH_CLIENT_ID: "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f" });
    expect([r.status, r.stderr]).toEqual([1, expect.stringContaining("--agent-zip " + path.join(dir, "missing.zip") + ": no such file")]);

    writeFileSync(log, "");
    r = run("bash", [script("deploy"), ...args], { ...env, AGENT_AUTH_CLIENT_ID: "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f", FAKE_AZ_AGENT_APPS: "func-agent-westeurope func-agent-eastus" });
    if (r.status !== 0) throw new Error(`scripts/deploy failed (exit ${r.status}):\n${r.stderr}`);
    const calls = readFileSync(log, "utf8").split("\n");
    // main.bicepparam reads both from the environment.
    expect(calls).toContain("agents AGENT_REGIONS=westeurope,eastus AGENT_AUTH_CLIENT_ID=3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f");
    const publishes = calls.filter((c) => c.includes("config-zip")).map((c) => /--name (\S+) --src (\S+)/.exec(c)!.slice(1));
    expect(publishes).toEqual([
      ["func-agent-westeurope", agentZip],
      ["func-agent-eastus", agentZip],
      ["func-test", zip],
    ]);
    expect(r.stdout).toContain("https://func-agent-westeurope.azurewebsites.net/api/probe");
    expect(r.stdout).toContain("https://func-agent-eastus.azurewebsites.net/api/probe");
    expect(r.stdout).toMatch(/app role vantage\.probe/);

    // No agent in the deployment: only the controller's zip, and no agent lines.
    writeFileSync(log, "");
    r = run("bash", [script("deploy"), "-g", "rg-test", ...endpoints, "--zip", zip], { ...env, AGENT_REGIONS: "" });
    expect(r.status).toBe(0);
    expect(readFileSync(log, "utf8").split("\n").filter((c) => c.includes("config-zip"))).toEqual([expect.stringContaining("--name func-test --src")]);
    expect(r.stdout).not.toContain("Vantage agents");
  });
});

/** Entry names of a zip file, read from its central directory (no unzip tool needed). */
function zipEntries(file: string): string[] {
  const buf = readFileSync(file);
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${file} is not a zip file`);
  let count = buf.readUInt16LE(eocd + 10);
  let offset = buf.readUInt32LE(eocd + 16);
  const names: string[] = [];
  while (count-- > 0) {
    if (buf.readUInt32LE(offset) !== 0x02014b50) throw new Error(`bad central directory entry at ${offset}`);
    const nameLength = buf.readUInt16LE(offset + 28);
    const extraLength = buf.readUInt16LE(offset + 30);
    const commentLength = buf.readUInt16LE(offset + 32);
    names.push(buf.toString("utf8", offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

describe("scripts/package", () => {
  test("functions.zip holds dist/ without dist/local, host.json, package.json and only the production node_modules", () => {
    const out = path.join(tmp, "package", "functions.zip");
    const stage = path.join(tmp, "package", "app");
    const r = run("bash", [script("package"), "--out", out, "--stage", stage]);
    if (r.status !== 0) throw new Error(`scripts/package failed (exit ${r.status}):\n${r.stderr}`);
    expect(r.stdout.trim()).toBe(out);

    const entries = zipEntries(out);
    const files = new Set(entries);
    expect(files.has("host.json")).toBe(true);
    expect(files.has("package.json")).toBe(true);

    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
      main: string;
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    // The host loads what "main" names: the zip must have it.
    const main = new RegExp(`^${pkg.main.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*")}$`);
    expect(entries.filter((e) => main.test(e)).length).toBeGreaterThan(0);

    for (const dep of Object.keys(pkg.dependencies)) expect([dep, files.has(`node_modules/${dep}/package.json`)]).toEqual([dep, true]);
    // A devDependency that a production dependency also needs is installed by --omit=dev (the lockfile says which).
    const lock = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.keys(pkg.devDependencies).filter((dev) => lock.packages[`node_modules/${dev}`]?.dev === true);
    expect(devOnly).toEqual(expect.arrayContaining(["jest", "azurite", "typescript", "@opentelemetry/exporter-prometheus"]));
    for (const dev of devOnly) {
      expect([dev, entries.some((e) => e.startsWith(`node_modules/${dev}/`))]).toEqual([dev, false]);
    }
    // --stage leaves exactly what the zip holds (azd deploys that folder).
    const staged = (readdirSync(stage, { recursive: true, withFileTypes: true }))
      .filter((d) => d.isFile())
      .map((d) => path.relative(stage, path.join(d.parentPath, d.name)));
    expect(staged.sort()).toEqual(entries.filter((e) => !e.endsWith("/")).sort());
    expect(entries.filter((e) => /^(src|test|bicep|scripts|\.tools|\.artifacts)\//.test(e) || e === "local.settings.json")).toEqual([]);
    expect(entries.filter((e) => e.startsWith("node_modules/.bin/"))).toEqual([]);
    // Nothing of the local host (nor Azurite's development key) ships; the functions do.
    expect(entries.filter((e) => e.startsWith("dist/local/"))).toEqual([]);
    expect(entries.some((e) => e.startsWith("dist/functions/"))).toBe(true);
  }, 300_000);

  test("--agent: agent.zip is the same app with package.json \"main\" set to dist/agent/*.js; it refuses a dist without the agent", () => {
    // A copy of the project's packaging inputs with a stand-in dist/, so the test does not depend on a build.
    const repo = path.join(tmp, "agent-repo");
    mkdirSync(path.join(repo, "scripts"), { recursive: true });
    copyFileSync(script("package"), path.join(repo, "scripts", "package"));
    for (const file of ["host.json", "package.json", "package-lock.json", "src/agent/host.json"]) {
      mkdirSync(path.dirname(path.join(repo, file)), { recursive: true });
      copyFileSync(path.join(ROOT, file), path.join(repo, file));
    }
    for (const file of ["functions/watchdog.js", "core/probe.js", "local/tools/demo.js"]) {
      mkdirSync(path.dirname(path.join(repo, "dist", file)), { recursive: true });
      writeFileSync(path.join(repo, "dist", file), "");
    }
    const out = path.join(tmp, "agent-package", "agent.zip");
    const stage = path.join(tmp, "agent-package", "app");

    const refused = run("bash", [path.join(repo, "scripts", "package"), "--agent", "--skip-build", "--out", out]);
    expect([refused.status, refused.stderr]).toEqual([1, expect.stringContaining("no dist/agent/*.js under dist/: the vantage agent (src/agent/) is not built")]);
    expect(existsSync(out)).toBe(false);

    mkdirSync(path.join(repo, "dist", "agent"));
    writeFileSync(path.join(repo, "dist", "agent", "probeHttp.js"), "");
    const r = run("bash", [path.join(repo, "scripts", "package"), "--agent", "--skip-build", "--out", out, "--stage", stage]);
    if (r.status !== 0) throw new Error(`scripts/package --agent failed (exit ${r.status}):\n${r.stderr}`);
    expect(r.stdout.trim()).toBe(out);
    const entries = new Set(zipEntries(out));
    for (const entry of ["host.json", "package.json", "dist/agent/probeHttp.js", "dist/core/probe.js", "node_modules/@azure/functions/package.json"]) expect([entry, entries.has(entry)]).toEqual([entry, true]);
    expect([...entries].filter((e) => e.startsWith("dist/local/"))).toEqual([]);
    // The staged package.json (what the zip holds) names the agent; the project's own is untouched.
    const staged = JSON.parse(readFileSync(path.join(stage, "package.json"), "utf8")) as { main: string; dependencies: Record<string, string> };
    const own = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { main: string; dependencies: Record<string, string> };
    expect(staged.main).toBe("dist/agent/*.js");
    expect(staged.dependencies).toEqual(own.dependencies);
    expect(JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8")).main).toBe(own.main);
    expect(own.main).toBe("dist/functions/*.js");
    // The agent's own host.json: no Durable extension, a healthy call not logged; the controller's is untouched.
    const stagedHost = readFileSync(path.join(stage, "host.json"), "utf8");
    expect(stagedHost).toBe(readFileSync(path.join(ROOT, "src", "agent", "host.json"), "utf8"));
    expect(JSON.parse(stagedHost)).not.toHaveProperty("extensions");
    expect(JSON.parse(stagedHost).logging.logLevel).toMatchObject({ "Host.Results": "Error", Function: "Warning" });
    expect(readFileSync(path.join(repo, "host.json"), "utf8")).toBe(readFileSync(path.join(ROOT, "host.json"), "utf8"));
  }, 300_000);

  test("--agent writes .artifacts/agent.zip by default, --help says so", () => {
    const help = run("bash", [script("package"), "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("scripts/package --agent");
    expect(help.stdout).toContain(".artifacts/agent.zip");
    expect(help.stdout).not.toContain("set -euo pipefail");
  });
});
