import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expand, type At, type Expanded, type Options } from "./armEval";

/**
 * Helpers for the compiled-ARM tests: run the real Bicep CLI through scripts/bicep and walk the
 * JSON it produced (the main template with its modules nested as Microsoft.Resources/deployments).
 */

export const ROOT = path.resolve(__dirname, "../..");
export const BICEP_SCRIPT = path.join(ROOT, "scripts", "bicep");

/** Placeholder endpoints for main.bicepparam, which reads them from the environment. */
export const PARAM_ENV = {
  PRIMARY_ENDPOINT: "https://primary.example.com/health",
  SECONDARY_ENDPOINT: "https://secondary.example.com/health",
};

export interface RunResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function run(command: string, args: readonly string[], env: Record<string, string | undefined> = {}, cwd = ROOT): RunResult {
  const result = spawnSync(command, args, { cwd, env: { ...process.env, ...env }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export function bicep(args: readonly string[], env: Record<string, string | undefined> = {}, cwd = ROOT): RunResult {
  return run("bash", [BICEP_SCRIPT, ...args], { ...PARAM_ENV, ...env }, cwd);
}

/** bicep/main.bicep compiled by the real Bicep CLI into its ARM JSON (throws with the compiler's errors). */
export function buildMainTemplate(): Json {
  const build = bicep(["build", "bicep/main.bicep", "--stdout"]);
  if (build.status !== 0) throw new Error(`bicep build failed:\n${build.stderr}`);
  return JSON.parse(build.stdout);
}

/** The resource group the suites deploy main.bicep into (switch targets live elsewhere). */
export const APP_AT: At = { subscriptionId: "00000000-0000-0000-0000-00000000a990", resourceGroup: "rg-failover" };

/** main.bicep's required parameters, with sample endpoints. */
export const MAIN_REQUIRED = { primaryEndpoint: "https://primary.example.com/health", secondaryEndpoint: "https://secondary.example.com/health" };

/** main.bicep deployed into APP_AT with its required parameters and `params`, every module expanded. */
export function deployMain(main: Json, params: Record<string, Json>, options: Options = {}): Expanded[] {
  return expand(main, { ...MAIN_REQUIRED, ...params }, { at: APP_AT, ...options });
}

/** Compiler and linter diagnostics in the CLI's default text format. */
export function diagnosticLines(output: string): string[] {
  return output.split("\n").filter((line) => /: (Warning|Error|Info) /.test(line));
}

export interface SarifResult {
  readonly ruleId: string;
  /** SARIF leaves the level out when it is the default, "warning": see sarifLevel(). */
  readonly level?: string;
  readonly message: { readonly text: string };
  readonly locations?: { readonly physicalLocation: { readonly artifactLocation: { readonly uri: string } } }[];
}

/** Splits concatenated JSON documents ("{...}{...}"), as `lint --pattern` prints one per file. */
export function splitJsonDocuments(text: string): unknown[] {
  const docs: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
    } else if (c === "{" || c === "[") {
      if (depth++ === 0) start = i;
    } else if (c === "}" || c === "]") {
      if (--depth === 0) docs.push(JSON.parse(text.slice(start, i + 1)));
    } else if (depth === 0 && !/\s/.test(c)) {
      throw new Error(`unexpected text between JSON documents at ${i}: ${text.slice(i, i + 80)}`);
    }
  }
  if (depth !== 0) throw new Error("truncated JSON document");
  return docs;
}

/**
 * Lints every .bicep and .bicepparam under `dir` (relative to cwd); returns the SARIF results and
 * how many files the CLI reported on (one SARIF document each).
 */
export function lintAll(cwd: string, dir: string): { results: SarifResult[]; files: number; run: RunResult } {
  const result = bicep(["lint", "--pattern", `${dir}/**/*.bicep*`, "--diagnostics-format", "sarif"], {}, cwd);
  const docs = splitJsonDocuments(result.stdout) as { runs: { results?: SarifResult[] }[] }[];
  if (docs.length === 0) throw new Error(`bicep lint printed no SARIF (exit ${result.status}):\n${result.stderr}\n${result.stdout}`);
  return { results: docs.flatMap((d) => d.runs.flatMap((r) => r.results ?? [])), files: docs.length, run: result };
}

export function sarifLevel(result: SarifResult): string {
  return result.level ?? "warning";
}

export function describeSarif(results: readonly SarifResult[]): string {
  return results
    .map((r) => `${sarifLevel(r)} ${r.ruleId} ${r.locations?.[0]?.physicalLocation.artifactLocation.uri ?? ""}: ${r.message.text}`)
    .join("\n");
}

export function makeTempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function readJson<T = unknown>(file: string): T {
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

// ---------------------------------------------------------------------------------------------
// Template walking
// ---------------------------------------------------------------------------------------------

export type Json = any;

export interface Located {
  /** Symbolic name (languageVersion 2.0) or index (1.0) within its template. */
  readonly symbol: string;
  readonly resource: Json;
  /** The template that declares the resource. */
  readonly template: Json;
  /** Module deployment names from the main template down, e.g. ["functionApp"]. */
  readonly modulePath: readonly string[];
  /** The Microsoft.Resources/deployments resource of that module (undefined at the top). */
  readonly moduleDeployment?: Json;
}

export interface TemplateInfo {
  readonly template: Json;
  readonly modulePath: readonly string[];
  readonly moduleDeployment?: Json;
}

function entries(resources: Json): [string, Json][] {
  if (Array.isArray(resources)) return resources.map((r, i) => [String(i), r]);
  return Object.entries(resources ?? {});
}

/** Every template (main and nested modules) with where it sits. */
export function templates(main: Json): TemplateInfo[] {
  const out: TemplateInfo[] = [];
  const visit = (template: Json, modulePath: string[], moduleDeployment?: Json) => {
    out.push({ template, modulePath, moduleDeployment });
    for (const [symbol, resource] of entries(template.resources)) {
      if (resource.type === "Microsoft.Resources/deployments" && resource.properties?.template) {
        visit(resource.properties.template, [...modulePath, symbol], resource);
      }
    }
  };
  visit(main, []);
  return out;
}

/** Every resource declared anywhere (module deployments included), with its template. */
export function allResources(main: Json): Located[] {
  return templates(main).flatMap(({ template, modulePath, moduleDeployment }) =>
    entries(template.resources).map(([symbol, resource]) => ({ symbol, resource, template, modulePath, moduleDeployment })),
  );
}

/** Resources this deployment creates (not `existing` references), of one type. */
export function created(main: Json, type: string): Located[] {
  return allResources(main).filter((r) => r.resource.type === type && r.resource.existing !== true);
}

export function single(main: Json, type: string): Located {
  const found = created(main, type);
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  return found[0];
}

/** The module deployment (in the main template) with this symbolic name. */
export function moduleDeployment(main: Json, symbol: string): Json {
  const found = entries(main.resources).find(([s, r]) => s === symbol && r.type === "Microsoft.Resources/deployments");
  if (!found) throw new Error(`no module '${symbol}' in the main template`);
  return found[1];
}

/** A copy of the main template without one of its modules (e.g. the vantage agents, to look at the controller alone). */
export function withoutModule(main: Json, symbol: string): Json {
  moduleDeployment(main, symbol);
  const copy = structuredClone(main);
  delete copy.resources[symbol];
  return copy;
}

/** Replaces variables('x') with the variable's literal value where that value is a plain string. */
export function inlineStringVariables(template: Json, expression: string): string {
  return expression.replace(/variables\('([^']+)'\)/g, (whole, name: string) => {
    const value = template.variables?.[name];
    return typeof value === "string" && !value.startsWith("[") ? `'${value}'` : whole;
  });
}

/**
 * Follows a module's parameter back to the main template: an expression like
 * `[parameters('failover').group]` inside module `moduleSymbol` -> the value main passes for
 * `failover` -> `variables('failover').group` -> `[parameters('failoverGroup')]`. Returns the main
 * template's parameter name, or undefined when the value does not come from one.
 */
export function mainParameterOf(main: Json, moduleSymbol: string, expression: string): string | undefined {
  const m = /parameters\('([^']+)'\)(?:\.(\w+))?/.exec(expression);
  if (!m) return undefined;
  const [, moduleParam, field] = m;
  const passed: Json = moduleDeployment(main, moduleSymbol).properties.parameters?.[moduleParam]?.value;
  if (typeof passed !== "string") return undefined;
  let resolved = passed;
  const variable = /^\[variables\('([^']+)'\)\]$/.exec(passed);
  if (variable) {
    const value = main.variables?.[variable[1]];
    resolved = field === undefined ? value : value?.[field];
  } else if (field !== undefined) {
    return undefined;
  }
  const param = typeof resolved === "string" ? /^\[parameters\('([^']+)'\)\]$/.exec(resolved) : null;
  return param ? param[1] : undefined;
}

/** Every property (at any depth) with this name, as [path, value]. */
export function findProperties(value: Json, name: string, at = "$"): [string, Json][] {
  if (value === null || typeof value !== "object") return [];
  const out: [string, Json][] = [];
  for (const [key, child] of Object.entries(value)) {
    const here = `${at}.${key}`;
    if (key === name) out.push([here, child]);
    out.push(...findProperties(child, name, here));
  }
  return out;
}
