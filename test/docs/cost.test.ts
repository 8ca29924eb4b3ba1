import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readmeWithCosts } from "../../src/local/cost";
import { currentDeployment, readCounts } from "../../src/local/costCount";
import { ASSUMPTIONS, TODAY, compareWithToday, emptyPollsInGap, monthlyBill, totalTransactions, type Deployment } from "../../src/local/costModel";
import { comparisonLine, costTable } from "../../src/local/costReport";
import { installFunctionsCore, registeredFunctions, triggerOf } from "../../src/local/functionsCore";

/** The cost model is a pure function of the committed counts: the README's table is what it computes. */
describe("cost model", () => {
  const readme = readFileSync(join(__dirname, "..", "..", "README.md"), "utf8");
  const counts = readCounts();
  let deployment: Deployment;
  beforeAll(() => {
    installFunctionsCore();
    require("../../src/functions/watchdog");
    deployment = currentDeployment(String(triggerOf(registeredFunctions().get("watchdog")!).schedule));
  });

  test("the deployment is read from host.json and the watchdog's schedule", () => {
    expect(deployment).toMatchObject({ partitionCount: 1, maxQueuePollingSeconds: 5, watchdogEveryMinutes: 5, watchdogFailingCallsPerRun: 0 });
  });

  test("README's cost table, before/after comparison and assumptions are what the model computes from docs/cost-counts.json", () => {
    const section = readme.slice(readme.indexOf("## Cost\n"), readme.indexOf("## Where things live"));
    expect(section).toContain(costTable(counts, deployment));
    expect(section).toContain(comparisonLine(compareWithToday(counts, deployment)));
    for (const assumption of ASSUMPTIONS) expect(section).toContain(`- ${assumption}`);
    // The verdict in prose follows the computed one.
    const { met } = compareWithToday(counts, deployment);
    expect(section.includes("target (one group at 30 s at most half of the bill before) is missed")).toBe(!met);
  });

  test("npm run cost -- --write rewrites exactly the README's table and comparison (nothing when they are current)", () => {
    expect(readmeWithCosts(readme, counts, deployment)).toBe(readme);
    const other = { ...counts, healthyCycle: { ...counts.healthyCycle, requests: { ...counts.healthyCycle.requests, read: counts.healthyCycle.requests.read + 1 } } };
    const rewritten = readmeWithCosts(readme, other, deployment);
    expect(rewritten).not.toBe(readme);
    expect(rewritten).toContain(costTable(other, deployment));
    expect(rewritten).toContain(comparisonLine(compareWithToday(other, deployment)));
    expect(rewritten.length - readme.length).toBeLessThan(200);
    expect(readmeWithCosts(rewritten, counts, deployment)).toBe(readme);
  });

  test("queue polling backs off from 50 ms to the maximum after a message, and stays there while idle", () => {
    // 50, 100, 150, 250, 450, 850, 1650, 3250 ms (8 polls in 6.75 s), then every 5 s: 4 more in 30 s.
    expect(emptyPollsInGap(30, 5)).toBe(12);
    expect(emptyPollsInGap(0.04, 5)).toBe(0);
    // Long idle: one poll per maximum interval.
    expect(emptyPollsInGap(3600, 5)).toBeGreaterThanOrEqual(3600 / 5 - 2);
    expect(emptyPollsInGap(3600, 5)).toBeLessThanOrEqual(3600 / 5 + 7);
  });

  test("the model moves the way the settings should move it", () => {
    const bill = (d: Deployment, groups = 1, interval = 30) => monthlyBill(counts, d, groups, interval);
    expect(bill(TODAY).storageUsd).toBeGreaterThan(bill(deployment).storageUsd);
    expect(totalTransactions(bill({ ...deployment, partitionCount: 4 }).durableFixed)).toBeGreaterThan(totalTransactions(bill(deployment).durableFixed));
    expect(totalTransactions(bill({ ...deployment, maxQueuePollingSeconds: 2 }).durableFixed)).toBeGreaterThan(totalTransactions(bill(deployment).durableFixed));
    expect(bill(deployment, 1, 10).storageUsd).toBeGreaterThan(bill(deployment, 1, 30).storageUsd);
    expect(bill(deployment, 100).storageUsd).toBeGreaterThan(bill(deployment, 1).storageUsd);
    // Per cycle, the app's counted requests and the extension's messages scale with the cycles.
    expect(totalTransactions(bill(deployment, 1, 10).app)).toBeCloseTo(3 * totalTransactions(bill(deployment, 1, 30).app));
  });
});
