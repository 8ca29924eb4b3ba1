import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { runBench } from "../../src/local/tools/bench/bench";
import { dependedPackages } from "../../src/local/tools/bench/benchColdStart";

/**
 * A smoke test of `npm run bench` (it broke once without anyone noticing): every part runs,
 * with a handful of iterations, and prints its summary line. Nothing about speed is asserted.
 * The cold start loads compiled entry points: they are compiled here, inside the project so they
 * find node_modules, as dist/ does.
 */
const ROOT = join(__dirname, "..", "..");
let build: string;
beforeAll(() => {
  build = mkdtempSync(join(ROOT, ".test-build-"));
  execFileSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", join(ROOT, "tsconfig.json"), "--outDir", build, "--sourceMap", "false"], { stdio: "pipe" });
}, 120_000);
afterAll(() => rmSync(build, { recursive: true, force: true }));

test("npm run bench, quick: every benchmark prints its summary line", async () => {
  const lines: string[] = [];
  const spy = jest.spyOn(console, "log").mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(" ")));
  const progress = jest.spyOn(console, "error").mockImplementation(() => undefined);
  try {
    await runBench({ quick: true, dist: build });
  } finally {
    spy.mockRestore();
    progress.mockRestore();
  }
  const stats = "n=\\d+ mean=[\\d.]+ p50=[\\d.]+ p95=[\\d.]+ max=[\\d.]+ ms";
  for (const pattern of [
    `^health_check \\(one conditional write; probes of the active endpoint and the standby in parallel\\) ${stats}$`,
    `^health_check \\(one conditional write; the active endpoint only \\(STANDBY_CHECK_EVERY=0\\)\\) ${stats}$`,
    `^do_failover \\(.*\\) ${stats}$`,
    `^10 concurrent do_failover, exactly one switch: ${stats} per round$`,
    "^readers: 0 clients polling health_check and status: detection-to-switch [\\d.]+ s, bound 4 s .*: (within|OVER) the bound; lost cycles \\d+; \\d+ cycles from the break to the switch \\(threshold 3\\)$",
    `^readers: 60 clients polling health_check and status: detection-to-switch [\\d.]+ s, bound 4 s .*: (within|OVER) the bound; lost cycles \\d+; \\d+ cycles from the break to the switch \\(threshold 3\\); \\d+ polls, \\d+ not 200, latency ${stats}$`,
    `^replay of one full cycle \\(10 events\\) through the replay engine ${stats}$`,
    `^switch plan traffic_manager \\+ dns, time the switch cycle adds to a failover .*: ${stats}$`,
    `^staged plan sql_failover_group \\+ cosmos_db \\| app_configuration \\| traffic_manager \\+ dns \\+ webhook, decision to verified .*: ${stats}$`,
    "^ {2}per switch: sql_failover_group [\\d.]+ reads 1.0 writes; cosmos_db [\\d.]+ reads 1.0 writes; app_configuration [\\d.]+ reads [\\d.]+ writes; traffic_manager [\\d.]+ reads 2.0 writes; dns [\\d.]+ reads 1.0 writes; webhook 1.0 POST$",
    "^switch faults: longest time a pair had nothing enabled \\(control plane or edge\\): .* \\d+ ms$",
    "^switch faults: a 20 s storm of 429s \\(Retry-After: 5\\), cycles every 1 s: verified [\\d.]+ s after the storm ended",
    "^switch faults: a resource lock \\(409 ScopeLocked\\) over 10 cycles: \\d+ write attempt\\(s\\), \\d+ after the first refused one",
    "^switch faults: the real loop while an ARM write never answers .*: longest gap between two checks [\\d.]+ s \\(bound interval \\+ deadline = 3 s\\)",
    "^scale 10 groups at 1 s: checked at [\\d.]+ of the full rate \\(\\d+ of 30 checks in 3 s\\); \\d+ of 10 groups at 0.99 of it or more; \\d+ failed checks$",
    "^scale 10 groups at 1 s: detection-to-switch / bound \\(4 s\\) over 4 broken primaries: max [\\d.]+, p95 [\\d.]+; \\d+ of 4 within the bound$",
    "^scale 10 groups at 1 s: from the break to the check that decided: p50 [\\d.]+ s, max [\\d.]+ s; to the switch scheduled: p50 [\\d.]+ s, max [\\d.]+ s; to the switch done: p50 [\\d.]+ s, max [\\d.]+ s$",
    "^scale 10 groups at 1 s: event-loop delay p99 \\d+ ms$",
    "^scale 10 groups at 1 s: RSS \\d+ MB$",
    "^scale 10 groups at 1 s: app CPU per check [\\d.]+ ms ",
    "^scale 10 groups at 1 s: cores busy over the window: app [\\d.]+, Azurite [\\d.]+, backends [\\d.]+ \\(of \\d+\\)$",
    "^scale 10 groups at 1 s: load average [\\d.]+ [\\d.]+ [\\d.]+ ",
    "^cold start healthCheckActivity.js: \\d+ ms without APPLICATIONINSIGHTS_CONNECTION_STRING, \\d+ ms with it; the \\d+ SDKs it depends on alone \\d+ ms: app / SDKs [\\d.]+ without, [\\d.]+ with$",
  ]) {
    expect([pattern, lines.some((l) => new RegExp(pattern).test(l))]).toEqual([pattern, true]);
  }
  // Readers never write: the pollers cost the loop no cycle (a behaviour, not a timing).
  expect(lines.find((l) => l.startsWith("readers: 60"))).toMatch(/lost cycles 0;.* 0 not 200/);
  // The scale run: every check of the window landed (one writer per row: no conflict), every broken primary switched.
  expect(lines.find((l) => l.startsWith("scale 10 groups at 1 s: checked"))).toMatch(/; 0 failed checks$/);
  expect(lines.find((l) => l.startsWith("scale 10 groups at 1 s: detection"))).not.toMatch(/not switched/);
  // A switch never strands traffic, and a permanent error is tried once (behaviours, not timings).
  expect(
    lines
      .find((l) => l.startsWith("switch faults: longest time"))!
      .match(/ (\d+) ms/g)!
      .every((m) => m === " 0 ms"),
  ).toBe(true);
  expect(lines.find((l) => l.startsWith("switch faults: a resource lock"))).toMatch(/1 write attempt\(s\), 0 after the first refused one; 1 audit entry/);
}, 150_000);

test("the telemetry an entry point can load is the Azure Monitor exporters and the SDK's providers, not the distro and the OpenTelemetry Node SDK (about 0.6 s of a cold start)", () => {
  const packages = dependedPackages(join(build, "functions", "healthCheckActivity.js"));
  expect(packages).toEqual(expect.arrayContaining(["@azure/monitor-opentelemetry-exporter", "@opentelemetry/sdk-trace-base", "@opentelemetry/sdk-metrics", "@opentelemetry/sdk-logs"]));
  expect(packages.filter((p) => p === "@azure/monitor-opentelemetry" || p === "@opentelemetry/sdk-node")).toEqual([]);
});
