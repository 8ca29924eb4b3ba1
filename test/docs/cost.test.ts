import { readFileSync } from "node:fs";
import { join } from "node:path";
import { readmeWithCosts } from "../../src/local/tools/cost/cost";
import { currentDeployment, readCounts } from "../../src/local/tools/cost/costCount";
import { ASSUMPTIONS, TODAY, compareWithToday, durableCycle, emptyPollsInGap, monthlyBill, priceSensitivity, totalTransactions, type Deployment } from "../../src/local/tools/cost/costModel";
import { comparisonLine, costTable, pollingChoices } from "../../src/local/tools/cost/costReport";
import { installFunctionsCore, registeredFunctions, triggerOf } from "../../src/local/host/functionsCore";

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
    expect(section).toContain(pollingChoices(counts, deployment));
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
    // A stale assumption is rewritten too.
    const stale = readme.replace(`- ${ASSUMPTIONS[1]}`, "- an assumption the model no longer makes");
    expect(stale).not.toBe(readme);
    expect(readmeWithCosts(stale, counts, deployment)).toBe(readme);
  });

  test("the settings doc's polling justification quotes what the model computes for 2 s, 5 s and 30 s", () => {
    const usd = (s: number) => monthlyBill(counts, { ...deployment, maxQueuePollingSeconds: s }, 1, 30).storageUsd;
    const cents = (x: number) => Math.round(x * 100);
    const settings = readFileSync(join(__dirname, "..", "..", "docs", "settings.md"), "utf8");
    expect(settings).toContain(`to save about ${cents(usd(5) - usd(30))} cents a month`);
    expect(settings).toContain(`2 s would cost about ${cents(usd(2) - usd(5))} cents more`);
  });

  test("a cycle with one activity is three queue messages and two orchestrator work items: continueAsNew sends none", () => {
    expect(durableCycle(1)).toMatchObject({ messages: 3, workItems: 2 });
    expect(durableCycle(2)).toMatchObject({ messages: 5, workItems: 3 });
    // Each message is put and deleted (class 1) and got (class 2); each work item reads and writes history and the instance row.
    expect(durableCycle(1).transactions).toMatchObject({ queueClass1: 6, queueClass2: 3, table: 6, blobWrite: 0, blobRead: 0, blobOther: 0 });
  });

  test("the sensitivity lines reprice the same transactions: dearer puts and deletes weigh on the per-cycle part, which did not shrink", () => {
    const c = compareWithToday(counts, deployment);
    const [tables, class1] = priceSensitivity(c);
    expect(tables!.afterUsd - c.after.storageUsd).toBeCloseTo((c.after.total.table * (0.004 - 0.00036)) / 10_000, 6);
    expect(class1!.afterUsd - c.after.storageUsd).toBeCloseTo((c.after.total.queueClass1 * (0.04 - 0.004)) / 10_000, 6);
    expect(class1!.ratio).toBeGreaterThan(c.ratio);
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
