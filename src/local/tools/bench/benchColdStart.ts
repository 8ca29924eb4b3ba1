import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";

/**
 * Cold start (issue 23): how long each function entry point (a compiled dist/functions/*.js file)
 * takes to load in a fresh `node` process, as the Functions worker loads it, without and with
 * APPLICATIONINSIGHTS_CONNECTION_STRING (a valid one pointing at 127.0.0.1, statsbeat off, so
 * nothing leaves the machine), against the time to load the SDKs it depends on alone.
 *
 * The SDKs an entry point depends on: every npm package that its compiled module graph (its file
 * and the app files it requires, followed through relative requires) names in a require() call,
 * at the top of a file or inside a function (loaded on first use); @azure/functions-core, which
 * the worker provides, aside. Their time is that of requiring each of those packages by its main
 * entry, one after the other, in one fresh process. The ratio app / SDKs is below 1 when the entry
 * point loads less than everything it depends on at start-up.
 *
 * Each figure is the median of `repeats` rounds (the worker's start-up: three times as many), a
 * round loading the app without and with the connection string and the SDKs alone, each in a
 * fresh process. Only the require() is timed, not Node's own start-up.
 */

/** A connection string of the documented form whose endpoints are this machine's discard port. */
export const LOCAL_CONNECTION_STRING =
  "InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://127.0.0.1:9/;LiveEndpoint=https://127.0.0.1:9/;ApplicationId=00000000-0000-0000-0000-000000000000";

const TELEMETRY_ENV = {
  APPLICATIONINSIGHTS_CONNECTION_STRING: LOCAL_CONNECTION_STRING,
  // As the Bicep sets it: the managed identity's client id.
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "ClientId=00000000-0000-0000-0000-000000000000;Authorization=AAD",
  // The SDK's own usage statistics go to Microsoft's endpoints: off, so nothing leaves the machine.
  APPLICATIONINSIGHTS_STATSBEAT_DISABLED: "true",
};

/** Loads the files given, timed, in this fresh process; prints the milliseconds. The worker's @azure/functions-core is the local host's. */
const LOAD_SCRIPT = `
const [core, ...files] = process.argv.slice(1);
if (core) require(core).installFunctionsCore();
const t0 = performance.now();
for (const file of files) require(file);
process.stdout.write(String(performance.now() - t0));
process.exit(0);
`;

const BUILTINS = new Set(builtinModules);

function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith("node:") || BUILTINS.has(specifier.split("/")[0]) || specifier === "@azure/functions-core") return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/** The npm packages a compiled file's module graph names (see above), sorted. */
export function dependedPackages(entry: string): string[] {
  const packages = new Set<string>();
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const [, specifier] of readFileSync(file, "utf8").matchAll(/require\("([^"]+)"\)/g)) {
      if (specifier.startsWith(".")) {
        const base = resolve(dirname(file), specifier);
        const next = [`${base}.js`, join(base, "index.js"), base].find((f) => existsSync(f) && f.endsWith(".js"));
        if (next) visit(next);
      } else {
        const name = packageOf(specifier);
        if (name) packages.add(name);
      }
    }
  };
  visit(entry);
  return [...packages].sort();
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Milliseconds to require `files` in one fresh node process. */
function loadOnce(files: readonly string[], options: { core?: string; env?: Record<string, string>; cwd: string }): number {
  const env: Record<string, string | undefined> = { ...process.env, ...options.env };
  if (!options.env?.APPLICATIONINSIGHTS_CONNECTION_STRING) delete env.APPLICATIONINSIGHTS_CONNECTION_STRING;
  const out = execFileSync(process.execPath, ["-e", LOAD_SCRIPT, options.core ?? "", ...files], { cwd: options.cwd, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return Number(out);
}

export interface ColdStartRow {
  readonly entry: string;
  readonly withoutMs: number;
  readonly withMs: number;
  readonly sdkMs: number;
  readonly packages: readonly string[];
}

/**
 * Measures every entry point in `dist` (a compiled tree: functions/ and local/host/functionsCore.js),
 * or those named in `only`, and the worker's real start-up: every entry point in one process.
 */
export function coldStart(dist: string, options: { repeats: number; only?: readonly string[]; progress?: (m: string) => void }): ColdStartRow[] {
  const functions = join(dist, "functions");
  const core = join(dist, "local", "host", "functionsCore.js");
  const root = resolve(dist, "..");
  const entries = readdirSync(functions)
    .filter((f) => f.endsWith(".js") && (!options.only || options.only.includes(f)))
    .sort();
  const rows: ColdStartRow[] = [];
  // The app without and with the connection string and the SDKs alone, one after the other in
  // each round: a shift in the machine's load moves all three, not one of them.
  const measure = (entry: string, files: string[], repeats: number) => {
    options.progress?.(`cold start: ${entry} (${repeats} rounds of three fresh processes) ...`);
    const packages = [...new Set(files.flatMap(dependedPackages))].sort();
    const sdkPaths = packages.map((p) => require.resolve(p, { paths: [root] }));
    const without: number[] = [];
    const withTelemetry: number[] = [];
    const sdk: number[] = [];
    for (let i = 0; i < repeats; i++) {
      without.push(loadOnce(files, { core, cwd: root }));
      withTelemetry.push(loadOnce(files, { core, cwd: root, env: TELEMETRY_ENV }));
      sdk.push(loadOnce(sdkPaths, { cwd: root }));
    }
    rows.push({ entry, withoutMs: median(without), withMs: median(withTelemetry), sdkMs: median(sdk), packages });
  };
  for (const entry of entries) measure(entry, [join(functions, entry)], options.repeats);
  // The figure that counts (the worker loads every entry point at once) gets three times the rounds.
  if (!options.only)
    measure(
      "all entry points in one process (the worker's start-up)",
      entries.map((e) => join(functions, e)),
      options.repeats * 3,
    );
  return rows;
}

export function coldStartLine(r: ColdStartRow): string {
  return (
    `cold start ${r.entry}: ${r.withoutMs.toFixed(0)} ms without APPLICATIONINSIGHTS_CONNECTION_STRING, ${r.withMs.toFixed(0)} ms with it; ` +
    `the ${r.packages.length} SDKs it depends on alone ${r.sdkMs.toFixed(0)} ms: app / SDKs ${(r.withoutMs / r.sdkMs).toFixed(2)} without, ${(r.withMs / r.sdkMs).toFixed(2)} with`
  );
}
