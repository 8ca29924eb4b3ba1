import { readFileSync } from "node:fs";
import { join } from "node:path";
import { BILL_ASSUMPTIONS, STORAGE_ASSUMPTIONS, VANTAGE_ASSUMPTIONS } from "../../src/local/tools/cost/costAssumptions";
import { FLEX, load, wholeBill } from "../../src/local/tools/cost/costBill";
import { currentDeployment, readCounts } from "../../src/local/tools/cost/costCount";
import { COST_DOCS, costBlocks, generatedBlockNames, withGeneratedBlocks } from "../../src/local/tools/cost/costDocs";
import { MONTH_SECONDS, TODAY, compareWithToday, durableCycle, emptyPollsInGap, monthlyBill, priceSensitivity, totalTransactions, type Deployment } from "../../src/local/tools/cost/costModel";
import { PRICES, PRICE_LIST, priceList, type Price } from "../../src/local/tools/cost/costPrices";
import { billTable, costReport, costTable, vantageLines, vantageTable } from "../../src/local/tools/cost/costReport";
import { agentBill, agentBilledSecondsPerCycle, agentHostItemsPerHealthyExecution, agentLoad, agentMemoryMb, grantLeft, healthyCycleCost, monthWithAgents, registryFreshSeconds } from "../../src/local/tools/cost/costVantage";
import { installFunctionsCore, registeredFunctions, triggerOf } from "../../src/local/host/functionsCore";

/** The cost model is a pure function of the committed counts: the cost documents' generated blocks are what it computes. */
describe("cost model", () => {
  const counts = readCounts();
  const [costDoc, deployDoc, settingsDoc] = COST_DOCS.map((file) => readFileSync(file, "utf8"));
  let deployment: Deployment;
  beforeAll(() => {
    installFunctionsCore();
    require("../../src/functions/watchdog");
    deployment = currentDeployment(String(triggerOf(registeredFunctions().get("watchdog")!).schedule));
  });

  test("the deployment is read from host.json, main.bicep's defaults and the watchdog's schedule", () => {
    expect(COST_DOCS.map((f) => f.slice(join(__dirname, "..", "..").length + 1))).toEqual(["docs/cost.md", "docs/deploy.md", "docs/settings.md"]);
    expect(deployment).toMatchObject({ backend: "azureStorage", memoryMb: 2048, alwaysReadyInstances: 1, partitionCount: 1, maxQueuePollingSeconds: 5, watchdogEveryMinutes: 5, watchdogFailingCallsPerRun: 0 });
  });

  test("every generated block of docs/cost.md, docs/deploy.md and docs/settings.md is what the model computes from docs/cost-counts.json", () => {
    const blocks = costBlocks(counts, deployment);
    expect(generatedBlockNames(costDoc).sort()).toEqual(["assumptions", "bill", "choice", "comparison", "load", "polling", "prices", "storage", "telemetry", "vantagecycle", "vantages"]);
    expect(generatedBlockNames(deployDoc)).toEqual(["partitions"]);
    expect(generatedBlockNames(settingsDoc)).toEqual(["load"]);
    expect(withGeneratedBlocks(costDoc, blocks)).toBe(costDoc);
    expect(withGeneratedBlocks(deployDoc, blocks)).toBe(deployDoc);
    expect(withGeneratedBlocks(settingsDoc, blocks)).toBe(settingsDoc);
    for (const assumption of [...STORAGE_ASSUMPTIONS, ...BILL_ASSUMPTIONS, ...VANTAGE_ASSUMPTIONS]) expect(costDoc).toContain(`- ${assumption}`);
    // The README is left alone: npm run cost -- --write no longer touches it.
    expect(readFileSync(join(__dirname, "..", "..", "src", "local", "tools", "cost", "cost.ts"), "utf8")).not.toMatch(/README/);
  });

  test("npm run cost -- --write rewrites exactly the generated blocks (nothing when they are current); an unknown block is an error", () => {
    const other = { ...counts, healthyCycle: { ...counts.healthyCycle, requests: { ...counts.healthyCycle.requests, read: counts.healthyCycle.requests.read + 1 } } };
    const rewritten = withGeneratedBlocks(costDoc, costBlocks(other, deployment));
    expect(rewritten).not.toBe(costDoc);
    expect(rewritten).toContain(costTable(other, deployment));
    expect(rewritten).toContain(billTable(other, deployment));
    // Only the blocks changed: the prose around them is the same.
    const prose = (doc: string) => doc.replace(/<!-- generated:(\w+) -->\n[\s\S]*?<!-- \/generated:\1 -->/g, "");
    expect(prose(rewritten)).toBe(prose(costDoc));
    expect(withGeneratedBlocks(rewritten, costBlocks(counts, deployment))).toBe(costDoc);
    expect(() => withGeneratedBlocks("<!-- generated:nonesuch -->\nx\n<!-- /generated:nonesuch -->", costBlocks(counts, deployment))).toThrow(/unknown generated block "nonesuch"/);
  });

  test("a cycle with one activity is three queue messages, two orchestrator work items, three orchestrator executions and four executions: continueAsNew sends no message", () => {
    expect(durableCycle(1)).toMatchObject({ messages: 3, workItems: 2, orchestratorExecutions: 3, executions: 4 });
    expect(durableCycle(2)).toMatchObject({ messages: 5, workItems: 3, orchestratorExecutions: 4, executions: 6 });
    // Each message is put and deleted (class 1) and got (class 2); each work item reads and writes history and the instance row.
    expect(durableCycle(1).transactions).toMatchObject({ queueClass1: 6, queueClass2: 3, table: 6, blobWrite: 0, blobRead: 0, blobOther: 0 });
  });

  test("one partition's load at 1,000 groups at 30 s: about 67 orchestrator work items and 100 orchestrator executions per second, not 35 episodes", () => {
    const l = load(counts, 1000, 30);
    expect(l.cyclesPerSecond).toBeCloseTo(33.33, 2);
    expect(l.workItemsPerSecond).toBeCloseTo(66.67, 2);
    expect(l.orchestratorExecutionsPerSecond).toBeCloseTo(100, 6);
    expect(l.executionsPerSecond).toBeCloseTo(133.33, 2);
  });

  test("the sensitivity lines reprice the same transactions: dearer puts and deletes weigh on the per-cycle part, which did not shrink", () => {
    const c = compareWithToday(counts, deployment);
    const [tables, class1] = priceSensitivity(c);
    expect(tables.afterUsd - c.after.storageUsd).toBeCloseTo((c.after.total.table * (0.004 - 0.00036)) / 10_000, 6);
    expect(class1.afterUsd - c.after.storageUsd).toBeCloseTo((c.after.total.queueClass1 * (0.04 - 0.004)) / 10_000, 6);
    expect(class1.ratio).toBeGreaterThan(c.ratio);
  });

  test("queue polling backs off from 50 ms to the maximum after a message, and stays there while idle", () => {
    // 50, 100, 150, 250, 450, 850, 1650, 3250 ms (8 polls in 6.75 s), then every 5 s: 4 more in 30 s.
    expect(emptyPollsInGap(30, 5)).toBe(12);
    expect(emptyPollsInGap(0.04, 5)).toBe(0);
    // Long idle: one poll per maximum interval.
    expect(emptyPollsInGap(3600, 5)).toBeGreaterThanOrEqual(3600 / 5 - 2);
    expect(emptyPollsInGap(3600, 5)).toBeLessThanOrEqual(3600 / 5 + 7);
  });

  test("the storage model moves the way the settings should move it", () => {
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

describe("the whole bill", () => {
  const counts = readCounts();
  const base: Deployment = { ...TODAY, partitionCount: 1, maxQueuePollingSeconds: 5, watchdogEveryMinutes: 5, watchdogFailingCallsPerRun: 0, memoryMb: 2048, alwaysReadyInstances: 1, backend: "azureStorage" };
  const cyclesOfOneGroup = MONTH_SECONDS / 30;

  test("always ready: the baseline of the Bicep's memory around the clock, 1 s of execution per cycle up to the whole month, every execution", () => {
    const one = wholeBill(counts, base, 1);
    const gb = 2048 / 1024;
    expect(one.executions).toBe(cyclesOfOneGroup * 4);
    expect(one.computeUsd).toBeCloseTo(gb * MONTH_SECONDS * PRICES.flexAlwaysReadyBaselinePerGbSecond + gb * cyclesOfOneGroup * PRICES.flexAlwaysReadyExecutionPerGbSecond + (one.executions / 1e6) * PRICES.flexExecutionsPerMillion, 6);
    // 100 groups keep the instance busy all month: execution time stops growing, executions do not.
    const hundred = wholeBill(counts, base, 100);
    expect(hundred.computeUsd).toBeCloseTo(gb * MONTH_SECONDS * (PRICES.flexAlwaysReadyBaselinePerGbSecond + PRICES.flexAlwaysReadyExecutionPerGbSecond) + (hundred.executions / 1e6) * PRICES.flexExecutionsPerMillion, 6);
    // The memory is the Bicep's: 512 MB pays a quarter of the baseline.
    expect(wholeBill(counts, base, 1).computeUsd - wholeBill(counts, { ...base, memoryMb: 512 }, 1).computeUsd).toBeCloseTo(0.75 * gb * MONTH_SECONDS * PRICES.flexAlwaysReadyBaselinePerGbSecond + 0.75 * gb * cyclesOfOneGroup * PRICES.flexAlwaysReadyExecutionPerGbSecond, 6);
  });

  test("without the always-ready instance: on-demand execution time and executions after the free grants; cheaper for one group, dearer when busy", () => {
    const off = { ...base, alwaysReadyInstances: 0 };
    const one = wholeBill(counts, off, 1);
    expect(one.computeUsd).toBeCloseTo((2 * cyclesOfOneGroup * FLEX.billableSecondsPerCycle - FLEX.onDemandFreeGbSeconds) * PRICES.flexOnDemandExecutionPerGbSecond + ((one.executions - FLEX.onDemandFreeExecutions) / 1e6) * PRICES.flexExecutionsPerMillion, 6);
    expect(one.computeUsd).toBeLessThan(wholeBill(counts, base, 1).computeUsd);
    expect(wholeBill(counts, off, 1000).computeUsd).toBeGreaterThan(wholeBill(counts, base, 1000).computeUsd);
  });

  test("Application Insights: 22 items per cycle, 9 per group and 12 per instance every minute (the exporter's resource record with each 5 s export of spans), 600 bytes each, at the Analytics logs price", () => {
    const gb = (groups: number) => ((cyclesOfOneGroup * groups * (2 + 4 * 5) + (MONTH_SECONDS / 60) * (9 * groups + 12)) * 600) / 1e9;
    for (const groups of [1, 1000]) {
      const b = wholeBill(counts, base, groups);
      expect([groups, b.telemetryGb]).toEqual([groups, expect.closeTo(gb(groups), 9)]);
      expect(b.telemetryUsd).toBeCloseTo(b.telemetryGb * PRICES.logAnalyticsPerGb, 9);
    }
  });

  test("the Durable Task Scheduler: one action per execution at the Consumption price, and no task hub traffic in storage", () => {
    const storage = wholeBill(counts, base, 1);
    const dts = wholeBill(counts, { ...base, backend: "durableTaskScheduler" }, 1);
    expect(dts.schedulerUsd).toBeCloseTo(cyclesOfOneGroup * 4 * PRICES.schedulerConsumptionPerAction, 6);
    expect(storage.schedulerUsd).toBe(0);
    const s = monthlyBill(counts, { ...base, backend: "durableTaskScheduler" }, 1, 30);
    expect([totalTransactions(s.durableCycles), totalTransactions(s.durableFixed)]).toEqual([0, 0]);
    expect(dts.storageUsd).toBeLessThan(storage.storageUsd);
    // The watchdog's status query goes to the scheduler: one table read per group and run fewer.
    const watchdogReads = (d: Deployment, groups: number) => monthlyBill(counts, d, groups, 30).watchdog.table;
    expect(watchdogReads(base, 10) - watchdogReads({ ...base, backend: "durableTaskScheduler" }, 10)).toBe(10 * (MONTH_SECONDS / 300));
    // Compute and telemetry do not depend on the backend.
    expect([dts.computeUsd, dts.telemetryUsd]).toEqual([storage.computeUsd, storage.telemetryUsd]);
  });

  test("the bill table: each backend with the always-ready instance and without, for 1, 100 and 1000 groups; each total is the sum of its lines", () => {
    const table = billTable(counts, base);
    const rows = table.split("\n").slice(2);
    expect(rows).toHaveLength(12);
    expect(rows.map((r) => r.split("|").slice(1, 4).map((c) => c.trim()).join(" / "))).toEqual(
      ["Azure Storage", "Durable Task Scheduler"].flatMap((b) => ["1 instance", "none"].flatMap((a) => ["1", "100", "1000"].map((g) => `${b} / ${a} / ${g}`))),
    );
    for (const choice of [base, { ...base, alwaysReadyInstances: 0, backend: "durableTaskScheduler" as const }]) {
      const b = wholeBill(counts, choice, 100);
      expect(b.totalUsd).toBeCloseTo(b.storageUsd + b.computeUsd + b.telemetryUsd + b.schedulerUsd, 9);
    }
    expect(costReport(counts, base)).toContain(table);
  });

  test("every price names its unit and its source; the uncertain ones say why; docs/cost.md lists them all", () => {
    const list = priceList();
    for (const [name, price] of Object.entries(PRICE_LIST as Record<string, Price>)) {
      expect([name, price.usd > 0, price.unit.length > 10, price.source.length > 20]).toEqual([name, true, true, true]);
      expect(list).toContain(price.source);
      if (price.estimate) expect(list).toContain(`Estimate: ${price.estimate}.`);
    }
    for (const name of ["flexAlwaysReadyBaselinePerGbSecond", "flexAlwaysReadyExecutionPerGbSecond", "flexExecutionsPerMillion", "logAnalyticsPerGb", "schedulerConsumptionPerAction"] as const) {
      expect([name, PRICE_LIST[name].estimate]).toEqual([name, expect.any(String)]);
    }
  });
});

describe("vantage agents", () => {
  const counts = readCounts();
  const base: Deployment = { ...TODAY, partitionCount: 1, maxQueuePollingSeconds: 5, watchdogEveryMinutes: 5, watchdogFailingCallsPerRun: 0, memoryMb: 2048, alwaysReadyInstances: 1, backend: "azureStorage" };
  const cycles = MONTH_SECONDS / 30;
  const item = (n: number) => ((n * 600) / 1e9) * PRICES.logAnalyticsPerGb;

  test("counted: each agent answers one call per endpoint probed (the active endpoint and the standby) and lists the state table once a cycle at 30 s; the controller still writes its row once", () => {
    expect(counts.vantageCycle).toEqual({
      agents: 2,
      controllerRequests: counts.healthyCycle.requests,
      perAgent: { calls: 2, requests: { read: 0, query: 1, write: 0, batch: 0, table: 0, failed: 0 } },
    });
    expect([agentMemoryMb(), registryFreshSeconds()]).toEqual([512, 30]);
  });

  test("no agent adds nothing: the cycle is the controller's and the month is the bill without agents", () => {
    for (const groups of [1, 100, 1000]) {
      const none = agentBill(counts, 0, groups);
      expect([groups, none.load.calls, none.load.gbSeconds, none.load.tableTransactions, none.load.voteMetricItems, none.totalUsd]).toEqual([groups, 0, 0, 0, 0, 0]);
      expect(monthWithAgents(counts, base, 0, groups).totalUsd).toBe(wholeBill(counts, base, groups).totalUsd);
    }
    // The controller's cycle, term by term: 1 table write and the extension's 6 table, 6 class 1 and 3 class 2 operations; 1 s at 2 GB always ready and 4 executions; 22 items and 9 metric items a minute (4.5 a cycle).
    const one = healthyCycleCost(counts, base, 0);
    expect(one.storageUsd).toBeCloseTo((7 * PRICES.tablePer10k + 6 * PRICES.queueClass1Per10k + 3 * PRICES.queueClass2Per10k) / 10_000, 12);
    expect(one.computeUsd).toBeCloseTo(2 * PRICES.flexAlwaysReadyExecutionPerGbSecond + (4 / 1e6) * PRICES.flexExecutionsPerMillion, 12);
    expect(one.telemetryUsd).toBeCloseTo(item(22 + 4.5), 12);
    expect(one.agentUsd).toEqual({ compute: 0, storage: 0, telemetry: 0 });
  });

  test("doubling the agents doubles their calls, executions, GB-seconds, registry reads and host items; the vote metrics grow with the vantages, the controller included", () => {
    for (const groups of [1, 100]) {
      const two = agentLoad(counts, 2, groups);
      const four = agentLoad(counts, 4, groups);
      for (const k of ["calls", "executions", "gbSeconds", "tableTransactions", "hostItems", "transferGb"] as const) expect([groups, k, four[k]]).toEqual([groups, k, expect.closeTo(2 * two[k], 6)]);
      // 2 series per vantage and endpoint probed, each a minute: 3 vantages with 2 agents, 5 with 4.
      expect(two.voteMetricItems).toBeCloseTo((MONTH_SECONDS / 60) * groups * 3 * 2 * 2, 6);
      expect(four.voteMetricItems).toBeCloseTo((MONTH_SECONDS / 60) * groups * 5 * 2 * 2, 6);
    }
    // At list prices an agent's compute is linear in the agents.
    expect(healthyCycleCost(counts, base, 4).agentUsd.compute).toBeCloseTo(2 * healthyCycleCost(counts, base, 2).agentUsd.compute, 12);
  });

  test("Flex bills each agent one period per cycle: the two calls overlap, at least 1 s, past that rounded up to 100 ms", () => {
    expect([300, 990, 991, 1500, 1591].map((ms) => agentBilledSecondsPerCycle(ms))).toEqual([1, 1, 1.1, 1.6, 1.7]);
    const load = agentLoad(counts, 2, 1);
    expect(load.gbSeconds).toBeCloseTo(2 * cycles * 1 * 0.5, 6);
    // Fewer calls per cycle (the standby not probed) halve the executions, not the billed period.
    const activeOnly = { ...counts, vantageCycle: { ...counts.vantageCycle, perAgent: { ...counts.vantageCycle.perAgent, calls: 1 } } };
    expect(agentLoad(activeOnly, 2, 1)).toMatchObject({ executions: load.executions / 2, gbSeconds: load.gbSeconds });
    // One busy instance per agent at most: 100 groups keep it busy all month.
    expect(agentLoad(counts, 2, 100).gbSeconds).toBeCloseTo(2 * MONTH_SECONDS * 0.5, 6);
  });

  test("the registry reads at most once per 30 s per agent, one transaction per 1,000 groups", () => {
    expect(agentLoad(counts, 2, 1).tableTransactions).toBeCloseTo(2 * cycles, 6);
    expect(agentLoad(counts, 2, 1000).tableTransactions).toBeCloseTo(2 * (MONTH_SECONDS / 30), 6);
    expect(agentLoad(counts, 2, 1001).tableTransactions).toBeCloseTo(2 * (MONTH_SECONDS / 30) * 2, 6);
  });

  test("per month the agents use the free grants the watchdog and an on-demand controller leave", () => {
    const watchdogGbs = (MONTH_SECONDS / 300) * 2;
    expect(grantLeft(counts, base, 1)).toEqual({ gbSeconds: FLEX.onDemandFreeGbSeconds - watchdogGbs, executions: FLEX.onDemandFreeExecutions - MONTH_SECONDS / 300 });
    expect(grantLeft(counts, { ...base, alwaysReadyInstances: 0 }, 100)).toEqual({ gbSeconds: 0, executions: 0 });
    const a = monthWithAgents(counts, base, 2, 1).agents;
    const left = grantLeft(counts, base, 1);
    expect(a.computeUsd).toBeCloseTo((a.load.gbSeconds - left.gbSeconds) * PRICES.flexOnDemandExecutionPerGbSecond + ((a.load.executions - left.executions) / 1e6) * PRICES.flexExecutionsPerMillion, 9);
    // Without the grants left, every unit at its list price.
    expect(monthWithAgents(counts, { ...base, alwaysReadyInstances: 0 }, 2, 100).agents.computeUsd).toBeCloseTo(agentBill(counts, 2, 100).computeUsd, 9);
  });

  test("an agent's healthy call sends its host's request and two lines only when its host.json lets Information through: none with the agent's own", () => {
    const agentHost = JSON.parse(readFileSync(join(__dirname, "..", "..", "src", "agent", "host.json"), "utf8"));
    expect(agentHost.logging.logLevel).toMatchObject({ "Host.Results": "Error", Function: "Warning" });
    expect(agentHostItemsPerHealthyExecution()).toBe(0);
    expect(agentLoad(counts, 2, 1).hostItems).toBe(0);
    // The controller's host.json (no levels for these categories): the request, 'Executing' and 'Executed'.
    expect(agentHostItemsPerHealthyExecution(JSON.parse(readFileSync(join(__dirname, "..", "..", "host.json"), "utf8")))).toBe(3);
    const levels = (logLevel: Record<string, string>) => agentHostItemsPerHealthyExecution({ logging: { logLevel } });
    expect([levels({ default: "Warning" }), levels({ "Host.Results": "Information", default: "Warning" }), levels({ Function: "Debug", "Host.Results": "Error" }), levels({ "Function.vantage_probe": "None" })]).toEqual([0, 1, 2, 1]);
    expect(() => levels({ Function: "Loud" })).toThrow(/logging.logLevel "Function" is "loud", not a log level/);
  });

  test("the 3-vantage healthy cycle the report prints is the controller's cycle plus two agents' terms at list prices", () => {
    const one = healthyCycleCost(counts, base, 0).totalUsd;
    // Per agent: 0.5 GB for 1 s on demand, 2 executions, 1 table query, no host item (src/agent/host.json); on the controller 3 vantages x 2 endpoints x 2 series a minute, 6 a cycle.
    const agent = 0.5 * PRICES.flexOnDemandExecutionPerGbSecond + (2 / 1e6) * PRICES.flexExecutionsPerMillion + PRICES.tablePer10k / 10_000;
    const three = one + 2 * agent + item(6);
    expect(healthyCycleCost(counts, base, 2).totalUsd).toBeCloseTo(three, 12);
    const report = costReport(counts, base);
    expect(report).toContain(`3 vantages (the controller and 2 agents): $${(three * 1e6).toFixed(2)} =`);
    expect(report).toContain(`1 vantage (the controller alone): $${(one * 1e6).toFixed(2)} =`);
    const ratio = three / one;
    expect(report).toContain(`ratio ${ratio.toFixed(2)}, target <= 1.5 ${ratio <= 1.5 ? "met" : "MISSED"}`);
    expect(report).toContain(vantageTable(counts, base));
    for (const line of vantageLines(counts, base)) expect(report).toContain(line);
    const row = vantageTable(counts, base).split("\n").find((r) => r.startsWith("| 3 | 2 |"))!;
    expect(row).toContain(`| $${(three * 1e6).toFixed(2)} | ${ratio.toFixed(2)} |`);
  });
});
