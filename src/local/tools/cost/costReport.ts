import { BILL_ASSUMPTIONS, STORAGE_ASSUMPTIONS, VANTAGE_ASSUMPTIONS } from "./costAssumptions";
import { SCHEDULER_MAX_ACTIONS_PER_SECOND, TELEMETRY, alwaysReadyMonthly, billChoices, loadSentence, telemetryGb, wholeBill } from "./costBill";
import {
  MONTH_SECONDS,
  add,
  compareWithToday,
  durableCycle,
  failoverExtra,
  monthlyBill,
  priceSensitivity,
  tableTransactions,
  totalTransactions,
  type Comparison,
  type CostCounts,
  type Deployment,
  type MonthlyBill,
  type TableRequests,
} from "./costModel";
import { PRICES, storageCost } from "./costPrices";
import { AGENT, agentBilledSecondsPerCycle, agentBreakEvenLatencyMs, agentCallSeconds, agentLoad, agentMemoryMb, healthyCycleCost, monthWithAgents } from "./costVantage";

/** What `npm run cost` prints and docs/cost.md shows, from the model in costModel.ts and costBill.ts. */

export const usd = (x: number) => (x > 0 && x < 0.01 ? `$${x.toFixed(4)}` : x < 100 ? `$${x.toFixed(2)}` : `$${Math.round(x).toLocaleString("en-US")}`);
const millions = (x: number) => `${(x / 1e6).toFixed(2)} M`;

/** The storage table (markdown) of the Azure Storage backend, generated from the counts and the deployment. */
export function costTable(counts: CostCounts, deployment: Deployment): string {
  deployment = { ...deployment, backend: "azureStorage" };
  const rows = [
    "| Groups | Interval | App (tables) | Durable per cycle | Durable fixed (polling, leases) | Watchdog | Transactions | Storage | Traffic Manager (2 endpoints per group) | Route 53 (2 checks per group) |",
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const interval of [30, 10]) {
    for (const groups of [1, 100, 1000]) {
      const b = monthlyBill(counts, deployment, groups, interval);
      rows.push(
        `| ${groups} | ${interval} s | ${millions(totalTransactions(b.app))} | ${millions(totalTransactions(b.durableCycles))} | ${millions(totalTransactions(b.durableFixed))} | ${millions(totalTransactions(b.watchdog))} | ${millions(totalTransactions(b.total))} | ${usd(b.storageUsd)} | ${usd(b.trafficManagerUsd)} | ${usd(b.route53Usd)} |`,
      );
    }
  }
  return rows.join("\n");
}

/** The before/after line of one group at 30 s, with the target's verdict. */
export function comparisonLine(c: Comparison): string {
  const fixed = (b: MonthlyBill) => storageCost(add(b.durableFixed, b.watchdog));
  const perCycle = (b: MonthlyBill) => storageCost(add(b.app, b.durableCycles));
  return [
    `one group at 30 s: ${usd(c.before.storageUsd)}/month before (${millions(totalTransactions(c.before.total))} transactions), ` +
      `${usd(c.after.storageUsd)}/month now (${millions(totalTransactions(c.after.total))}): ratio ${c.ratio.toFixed(2)}, target <= ${c.target} ${c.met ? "met" : "MISSED"}`,
    `  of which fixed (queue polling, leases, watchdog): ${usd(fixed(c.before))} before, ${usd(fixed(c.after))} now (ratio ${(fixed(c.after) / fixed(c.before)).toFixed(2)}); ` +
      `per cycle (the app's tables, the extension's messages and history): ${usd(perCycle(c.before))} before and now`,
    ...priceSensitivity(c).map((s) => `  with ${s.label}: ${usd(s.beforeUsd)} before, ${usd(s.afterUsd)} now, ratio ${s.ratio.toFixed(2)} (${s.ratio <= c.target ? "met" : "missed"})`),
  ].join("\n");
}

/** What maxQueuePollingInterval buys: one group at 30 s under each choice, and the delay it may add to every durable timer. */
export function pollingChoices(counts: CostCounts, deployment: Deployment, seconds: readonly number[] = [2, 5, 10, 30]): string {
  const choices = seconds.map((s) => `${s} s ${usd(monthlyBill(counts, { ...deployment, maxQueuePollingSeconds: s }, 1, 30).storageUsd)}`);
  return `maxQueuePollingInterval, one group at 30 s (each timer may fire up to that late): ${choices.join(", ")}; this host.json: ${deployment.maxQueuePollingSeconds} s`;
}

const BACKEND_NAMES = { azureStorage: "Azure Storage", durableTaskScheduler: "Durable Task Scheduler" } as const;

/** The whole bill (markdown): each backend, with the always-ready instance and without, for 1, 100 and 1000 groups at `intervalSeconds`. */
export function billTable(counts: CostCounts, deployment: Deployment, intervalSeconds = 30): string {
  const rows = [
    `| Durable backend | Always ready | Groups | Storage | Compute (Flex, ${deployment.memoryMb} MB) | Application Insights (estimate) | Scheduler actions | Total | Traffic Manager (2 endpoints per group) | Route 53 (2 checks per group) |`,
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const choice of billChoices(deployment)) {
    for (const groups of [1, 100, 1000]) {
      const b = wholeBill(counts, choice, groups, intervalSeconds);
      // The scheduler's price is per action in its price records, per million actions in Microsoft's billing page: both readings.
      const perMillion = b.schedulerUsd / 1e6;
      const onScheduler = choice.backend === "durableTaskScheduler";
      const scheduler = onScheduler ? `${usd(b.schedulerUsd)} (${millions(b.executions)} actions; ${usd(perMillion)} if per million)` : "-";
      const total = `**${usd(b.totalUsd)}**${onScheduler ? ` (${usd(b.totalUsd - b.schedulerUsd + perMillion)} if per million)` : ""}`;
      rows.push(
        `| ${BACKEND_NAMES[choice.backend]} | ${choice.alwaysReadyInstances > 0 ? `${choice.alwaysReadyInstances} instance` : "none"} | ${groups} | ${usd(b.storageUsd)} | ${usd(b.computeUsd)} | ${usd(b.telemetryUsd)} (${b.telemetryGb.toFixed(1)} GB) | ${scheduler} | ${total} | ${usd(b.trafficManagerUsd)} | ${usd(b.route53Usd)} |`,
      );
    }
  }
  return rows.join("\n");
}

/** One group at 30 s, always ready on or off, for the deployment's backend: the choice in one line. */
export function alwaysReadyChoice(counts: CostCounts, deployment: Deployment): string {
  const on = wholeBill(counts, { ...deployment, alwaysReadyInstances: Math.max(1, deployment.alwaysReadyInstances) }, 1);
  const off = wholeBill(counts, { ...deployment, alwaysReadyInstances: 0 }, 1);
  return (
    `one group at 30 s on ${BACKEND_NAMES[deployment.backend]}: always ready ${usd(on.totalUsd)}/month (of which the ${deployment.memoryMb} MB baseline ${usd(alwaysReadyMonthly(deployment.memoryMb))}; 512 MB: ${usd(alwaysReadyMonthly(512))}), ` +
    `without it ${usd(off.totalUsd)}/month and durable timers may wait for a cold start`
  );
}

/** The Durable Task Scheduler's share: actions per cycle and what the price's unit does to it. */
export function schedulerLine(counts: CostCounts, deployment: Deployment): string {
  const dts = wholeBill(counts, { ...deployment, backend: "durableTaskScheduler" }, 1);
  const perCycle = dts.executions / (MONTH_SECONDS / 30);
  const maxGroups = Math.floor((SCHEDULER_MAX_ACTIONS_PER_SECOND * 30) / perCycle);
  return (
    `Durable Task Scheduler: ${perCycle} actions per healthy cycle, ${millions(dts.executions)} a month for one group at 30 s: ${usd(dts.schedulerUsd)} at $${PRICES.schedulerConsumptionPerAction} per action, ` +
    `${usd(dts.schedulerUsd / 1e6)} if that price is per million actions; the Consumption SKU's ${SCHEDULER_MAX_ACTIONS_PER_SECOND} actions/s carry at most ${maxGroups.toLocaleString("en-US")} groups at 30 s`
  );
}

/** What the Application Insights estimate counts, and what it comes to. */
export function telemetryLine(counts: CostCounts): string {
  const executions = durableCycle(counts.healthyCycle.activities).executions;
  const perCycle = TELEMETRY.appSpansPerCycle + executions * TELEMETRY.itemsPerExecution;
  const gb = (groups: number) => telemetryGb(counts, groups, (MONTH_SECONDS / 30) * groups);
  return (
    `Application Insights: ${perCycle} items per cycle (${TELEMETRY.appSpansPerCycle} spans + ${executions} executions x ${TELEMETRY.itemsPerExecution}), ${TELEMETRY.metricSeriesPerGroup} metric items per group and ${TELEMETRY.fixedItemsPerMinute} per instance every minute, ${TELEMETRY.bytesPerItem} bytes each: ` +
    `${gb(1).toFixed(1)} GB a month for one group at 30 s (${usd(gb(1) * PRICES.logAnalyticsPerGb)}), ${gb(1000).toFixed(0)} GB for 1,000 (${usd(gb(1000) * PRICES.logAnalyticsPerGb)})`
  );
}

/** Dollars per million healthy cycles: a cycle's cost is millionths of a dollar. */
const perMillion = (x: number) => `$${(x * 1e6).toFixed(2)}`;

/** The agent counts the vantage table shows. */
export const VANTAGE_AGENT_COUNTS = [0, 1, 2, 4] as const;

/** What vantage agents add (markdown): per healthy cycle of one group at list prices and per month, for 0, 1, 2 and 4 agents. */
export function vantageTable(counts: CostCounts, deployment: Deployment, intervalSeconds = 30): string {
  const base = healthyCycleCost(counts, deployment, 0, intervalSeconds).totalUsd;
  const rows = [
    `| Vantages | Agents | Agent calls per cycle | Agent GB-s per cycle (${agentMemoryMb()} MB) | Registry queries per cycle | Healthy cycle (per million) | Ratio to 1 vantage | Month, 1 group | Month, 100 groups | Month, 1000 groups |`,
    "|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const agents of VANTAGE_AGENT_COUNTS) {
    const load = agentLoad(counts, agents, 1, intervalSeconds);
    const cycles = MONTH_SECONDS / intervalSeconds;
    const cycle = healthyCycleCost(counts, deployment, agents, intervalSeconds).totalUsd;
    const month = (groups: number) => usd(monthWithAgents(counts, deployment, agents, groups, intervalSeconds).totalUsd);
    rows.push(
      `| ${agents + 1} | ${agents} | ${load.calls / cycles} | ${(load.gbSeconds / cycles).toFixed(2)} | ${load.tableTransactions / cycles} | ${perMillion(cycle)} | ${(cycle / base).toFixed(2)} | ${month(1)} | ${month(100)} | ${month(1000)} |`,
    );
  }
  return rows.join("\n");
}

/** The target of issue 19: with three vantages a healthy cycle costs at most this many times one vantage. */
export const VANTAGE_TARGET = 1.5;

/** A healthy cycle with 1 and with 3 vantages, term by term, against the target, and what one agent call is billed. */
export function vantageLines(counts: CostCounts, deployment: Deployment, intervalSeconds = 30): string[] {
  const one = healthyCycleCost(counts, deployment, 0, intervalSeconds);
  const three = healthyCycleCost(counts, deployment, 2, intervalSeconds);
  const cycles = MONTH_SECONDS / intervalSeconds;
  const load = agentLoad(counts, 2, 1, intervalSeconds);
  const ratio = three.totalUsd / one.totalUsd;
  const added = three.totalUsd - one.totalUsd;
  const gbs = load.gbSeconds / cycles;
  const gbsUsd = gbs * PRICES.flexOnDemandExecutionPerGbSecond;
  const execUsd = ((load.executions / cycles) * PRICES.flexExecutionsPerMillion) / 1e6;
  const share = (x: number) => `${Math.round((x / added) * 100)}%`;
  const months = [monthWithAgents(counts, deployment, 0, 1, intervalSeconds), monthWithAgents(counts, deployment, 2, 1, intervalSeconds)];
  const withoutTelemetry = (c: { totalUsd: number; telemetryUsd: number }) => c.totalUsd - c.telemetryUsd;
  const other: Deployment = { ...deployment, alwaysReadyInstances: deployment.alwaysReadyInstances > 0 ? 0 : 1 };
  const otherRatio = healthyCycleCost(counts, other, 2, intervalSeconds).totalUsd / healthyCycleCost(counts, other, 0, intervalSeconds).totalUsd;
  return [
    `a healthy cycle of one group at ${intervalSeconds} s, ${BACKEND_NAMES[deployment.backend]}, ${deployment.alwaysReadyInstances > 0 ? "always ready" : "no always-ready instance"}, per million cycles at list prices (no free grant, no fixed cost):`,
    `  1 vantage (the controller alone): ${perMillion(one.totalUsd)} = storage ${perMillion(one.storageUsd)} + compute ${perMillion(one.computeUsd)} + Application Insights ${perMillion(one.telemetryUsd)}`,
    `  3 vantages (the controller and 2 agents): ${perMillion(three.totalUsd)} = the above + the agents' ${perMillion(added)}: ` +
      `compute ${perMillion(three.agentUsd.compute)} (${load.executions / cycles} executions ${perMillion(execUsd)}, ${gbs.toFixed(2)} GB-s ${perMillion(gbsUsd)}), ` +
      `registry ${perMillion(three.agentUsd.storage)} (${load.tableTransactions / cycles} table queries), ` +
      `Application Insights ${perMillion(three.agentUsd.telemetry)} (${(load.hostItems / cycles).toFixed(0)} host items, ${(load.voteMetricItems / cycles).toFixed(0)} vote metric items)`,
    `  ratio ${ratio.toFixed(2)}, target <= ${VANTAGE_TARGET} ${ratio <= VANTAGE_TARGET ? "met" : "MISSED"}: of what the agents add, ${share(gbsUsd)} is Flex's 1 s minimum period at ${agentMemoryMb()} MB, ${share(three.agentUsd.telemetry)} Application Insights, ${share(execUsd)} executions, ${share(three.agentUsd.storage)} the registry`,
    `  the same ratio without Application Insights on either side: ${(withoutTelemetry(three) / withoutTelemetry(one)).toFixed(2)}; ` +
      `with the controller ${deployment.alwaysReadyInstances > 0 ? "on demand (no always-ready instance: dearer execution seconds)" : "always ready (cheaper execution seconds)"}: ${otherRatio.toFixed(2)}`,
    `  per month, one group at ${intervalSeconds} s with the free grants: ${usd(months[0].totalUsd)} with 1 vantage, ${usd(months[1].totalUsd)} with 3 (the agents' compute ${usd(months[1].agents.computeUsd)}, Application Insights ${usd(months[1].agents.telemetryUsd)}, registry ${usd(months[1].agents.storageUsd)})`,
    `one agent call: ${Math.round(agentCallSeconds() * 1000)} ms (a probe of ${AGENT.probeLatencyMs} ms, assumed, + ${AGENT.overheadMs} ms of overhead); Flex bills each agent ${agentBilledSecondsPerCycle()} s a cycle, the same until a probe takes ${agentBreakEvenLatencyMs()} ms (then ${agentBilledSecondsPerCycle(agentBreakEvenLatencyMs() + 1)} s)`,
  ];
}

/** The whole report `npm run cost` prints. */
export function costReport(counts: CostCounts, deployment: Deployment): string {
  const storage: Deployment = { ...deployment, backend: "azureStorage" };
  const c = compareWithToday(counts, storage);
  const f = failoverExtra(counts);
  const healthy = counts.healthyCycle;
  return [
    `counted per healthy cycle: ${tableTransactions(healthy.requests)} table requests (${describe(healthy.requests)}), ${healthy.activities} activit${healthy.activities === 1 ? "y" : "ies"}, ${healthy.timers} timer`,
    `counted per failing cycle: ${tableTransactions(counts.failingCycle.requests)} table requests (${describe(counts.failingCycle.requests)})`,
    `counted per failover cycle: ${tableTransactions(counts.failoverCycle.requests)} table requests (${describe(counts.failoverCycle.requests)}), ${counts.failoverCycle.activities} activities`,
    `counted per watchdog run: ${tableTransactions(counts.watchdogRun.fixed)} + ${tableTransactions(counts.watchdogRun.perGroup)} per group table requests`,
    `counted per healthy cycle with ${counts.vantageCycle.agents} vantage agents: the controller ${tableTransactions(counts.vantageCycle.controllerRequests)} table requests (${describe(counts.vantageCycle.controllerRequests)}); each agent ${counts.vantageCycle.perAgent.calls} calls and ${tableTransactions(counts.vantageCycle.perAgent.requests)} table requests (${describe(counts.vantageCycle.perAgent.requests)})`,
    `a failover costs ${totalTransactions(f).toFixed(0)} transactions more than a healthy cycle (${usd(storageCost(f))}): negligible`,
    `deployment: ${deployment.label}; main.bicep: ${BACKEND_NAMES[deployment.backend]}, ${deployment.memoryMb} MB instances, ${deployment.alwaysReadyInstances} always ready`,
    "",
    "the whole bill per month, at 30 s:",
    "",
    billTable(counts, deployment),
    "",
    alwaysReadyChoice(counts, deployment),
    schedulerLine(counts, deployment),
    telemetryLine(counts),
    `load: ${loadSentence(counts)}`,
    "",
    "vantage agents (VANTAGE_AGENTS), healthy groups at 30 s, this deployment:",
    "",
    vantageTable(counts, deployment),
    "",
    ...vantageLines(counts, deployment),
    "",
    "storage alone, Azure Storage backend:",
    "",
    costTable(counts, storage),
    "",
    comparisonLine(c),
    pollingChoices(counts, storage),
    "prices: PRICE_LIST in src/local/tools/cost/costPrices.ts, each with its source (docs/cost.md lists them); none fetched from here, check them for your region",
    "assumptions:",
    ...[...STORAGE_ASSUMPTIONS, ...BILL_ASSUMPTIONS, ...VANTAGE_ASSUMPTIONS].map((a) => `- ${a}`),
  ].join("\n");
}

function describe(r: TableRequests): string {
  const parts = (["read", "query", "write", "batch", "table"] as const).filter((k) => r[k] > 0).map((k) => `${r[k]} ${k}`);
  return (parts.length ? parts.join(", ") : "none") + (r.failed > 0 ? `; ${r.failed} failed` : "");
}
