import {
  ASSUMPTIONS,
  MONTH_SECONDS,
  add,
  alwaysReadyMonthly,
  compareWithToday,
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

/** What `npm run cost` prints and the README's cost section shows, from the model in costModel.ts. */

const usd = (x: number) => (x < 100 ? `$${x.toFixed(2)}` : `$${x.toFixed(0)}`);
const millions = (x: number) => `${(x / 1e6).toFixed(2)} M`;

/** The README's cost table (markdown), generated from the counts and the deployment. */
export function costTable(counts: CostCounts, deployment: Deployment): string {
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

/** The whole report `npm run cost` prints. */
export function costReport(counts: CostCounts, deployment: Deployment, memoryMb = 2048): string {
  const c = compareWithToday(counts, deployment);
  const f = failoverExtra(counts);
  const healthy = counts.healthyCycle;
  return [
    `counted per healthy cycle: ${tableTransactions(healthy.requests)} table requests (${describe(healthy.requests)}), ${healthy.activities} activit${healthy.activities === 1 ? "y" : "ies"}, ${healthy.timers} timer`,
    `counted per failing cycle: ${tableTransactions(counts.failingCycle.requests)} table requests (${describe(counts.failingCycle.requests)})`,
    `counted per failover cycle: ${tableTransactions(counts.failoverCycle.requests)} table requests (${describe(counts.failoverCycle.requests)}), ${counts.failoverCycle.activities} activities`,
    `counted per watchdog run: ${tableTransactions(counts.watchdogRun.fixed)} + ${tableTransactions(counts.watchdogRun.perGroup)} per group table requests`,
    `a failover costs ${totalTransactions(f).toFixed(0)} transactions more than a healthy cycle (${usd(storageCost(f))}): negligible`,
    `deployment: ${deployment.label}`,
    "",
    costTable(counts, deployment),
    "",
    comparisonLine(c),
    pollingChoices(counts, deployment),
    `compute, separate: one always-ready ${memoryMb} MB instance ${(memoryMb / 1024).toFixed(1)} GB x ${MONTH_SECONDS} s x $${PRICES.flexAlwaysReadyBaselinePerGbSecond} = ${usd(alwaysReadyMonthly(memoryMb))}/month baseline (512 MB: ${usd(alwaysReadyMonthly(512))})`,
    `prices: the Retail Prices API's meters for a general-purpose v2 LRS account as publicly recorded, not fetched from here (${PRICES.date}); check them for your region (src/local/tools/cost/costPrices.ts, PRICES)`,
    "assumptions:",
    ...ASSUMPTIONS.map((a) => `- ${a}`),
  ].join("\n");
}

function describe(r: TableRequests): string {
  const parts = (["read", "query", "write", "batch", "table"] as const).filter((k) => r[k] > 0).map((k) => `${r[k]} ${k}`);
  return (parts.length ? parts.join(", ") : "none") + (r.failed > 0 ? `; ${r.failed} failed` : "");
}
