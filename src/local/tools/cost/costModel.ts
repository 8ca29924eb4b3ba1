/**
 * The idle bill, modelled: what one deployment of the app costs per month in storage
 * transactions for 1, 100 and 1000 groups at a 30 s and a 10 s check interval, beside what
 * Traffic Manager and Route 53 charge for health-checking the same endpoints.
 *
 * A pure function over numbers: the app's own storage requests are COUNTED (see costCount.ts,
 * committed as docs/cost-counts.json); the Durable extension's and the Functions host's traffic
 * is a FORMULA of the Azure Storage provider's documented behaviour, with every assumption
 * listed in ASSUMPTIONS. It is a model, not a bill: check the prices and the assumptions.
 */

import { PRICES, storageCost, type StoragePrices } from "./costPrices";

/** Table requests by kind, as counted through the proxy in front of Azurite. All bill alike. */
export interface TableRequests {
  /** Point reads of one entity. */
  readonly read: number;
  /** Queries (list groups, audit pages, history). */
  readonly query: number;
  /** Inserts, updates, merges, deletes of one entity. */
  readonly write: number;
  /** Entity group transactions ($batch, one billed transaction each). */
  readonly batch: number;
  /** Table-level calls (create a table, look a table up). */
  readonly table: number;
  /** Requests that answered 4xx/5xx (billed too), included in the kinds above. */
  readonly failed: number;
}

/** One measured orchestration cycle: the app's own table requests and the Durable actions. */
export interface CountedCycle {
  readonly requests: TableRequests;
  /** Activities the cycle's execution scheduled. */
  readonly activities: number;
  /** Durable timers it created. */
  readonly timers: number;
}

/** What costCount.ts measures against Azurite through the counting proxy. */
export interface CostCounts {
  /** A healthy cycle of one group (check OK, nothing to do). */
  readonly healthyCycle: CountedCycle;
  /** A cycle whose counted check fails below the threshold. */
  readonly failingCycle: CountedCycle;
  /** The cycle that fails over (check, switch, audit entry). */
  readonly failoverCycle: CountedCycle;
  /** One watchdog run: requests whatever the number of groups, and per group. */
  readonly watchdogRun: { readonly fixed: TableRequests; readonly perGroup: TableRequests };
}

/** The Durable and host settings a configuration runs with (host.json, the watchdog's schedule). */
export interface Deployment {
  readonly label: string;
  /** host.json storageProvider.partitionCount: the number of control queues. */
  readonly partitionCount: number;
  /** host.json storageProvider.maxQueuePollingInterval, in seconds. */
  readonly maxQueuePollingSeconds: number;
  readonly watchdogEveryMinutes: number;
  /** Billed storage calls that fail on each watchdog run (409 on create), besides the counted ones. */
  readonly watchdogFailingCallsPerRun: number;
}

/** Before the idle-bill work (issue 10): the extension's default 4 partitions, 2 s polling, a watchdog every minute with 3 failing calls per run. */
export const TODAY: Deployment = { label: "before (4 partitions, 2 s polling, watchdog every 1 min)", partitionCount: 4, maxQueuePollingSeconds: 2, watchdogEveryMinutes: 1, watchdogFailingCallsPerRun: 3 };

/** Seconds in the model's month (30 days). */
export const MONTH_SECONDS = 30 * 24 * 3600;

/** The Azure Storage provider's and host's constants the formula uses (see ASSUMPTIONS). */
export const DURABLE = {
  /** Shortest queue polling interval after a message (TaskHubQueue: 50 ms). */
  minPollSeconds: 0.05,
  /** Table partition manager loop (LeaseAcquireInterval, 10 s): one read of the partitions table and one renewal per owned partition. */
  partitionLoopSeconds: 10,
  /** App lease (useAppLease, on by default; AppLeaseOptions.RenewInterval 25 s): one container lease renewal per interval. */
  appLeaseRenewSeconds: 25,
  /** Table transactions per orchestrator work item: history query, history batch write, instances row update. */
  tablePerWorkItem: 3,
  /** Blob operations per timer-trigger run (schedule monitor: read and write the status blob). */
  timerStatusBlobReads: 1,
  timerStatusBlobWrites: 1,
} as const;

export const ASSUMPTIONS: readonly string[] = [
  "App: the table requests of a healthy cycle, a failing cycle, a failover and a watchdog run are counted on Azurite through a proxy (docs/cost-counts.json, npm run cost recounts them); every request is one table transaction, failed ones too.",
  "Durable, per cycle with A activities: 2A + 1 queue messages (A activity work items, A TaskCompleted, 1 TimerFired), each put, got and deleted; A + 1 orchestrator work items (each activity's completion, and the timer's), each with 3 table transactions (history query, history batch write, instances row update). continueAsNew adds neither: DurableTask.Core's dispatcher runs the new execution's first episode in the timer's work item and sends no message for it. One get per message (the provider gets up to 32 at once when busy, so this overestimates many groups).",
  "Durable, queue polling: every control queue (partitionCount) and the work-item queue is polled with the provider's back-off: 50 ms after a message, then growing (50 ms + 50 ms x 2^(k-1), randomized by 20%, ignored here) up to maxQueuePollingInterval, where it stays while idle. A group's cycle is one burst of messages on its control queue and on the work-item queue; groups are spread evenly over time and over the control queues. Every empty poll is a get.",
  "Durable, partitions: the table partition manager (the default of the Durable extension 3.x in extension bundle 4.x) reads the partitions table and renews each owned partition's row every 10 s (an upper estimate: it may renew less often). The app lease (useAppLease, on by default) renews a blob container lease every 25 s, an 'other' blob operation. One instance (the always-ready one) holds every partition.",
  "Watchdog: its counted table requests per run, plus one instances-table read per group (the orchestration status query) and the timer trigger's status blob (one read, one write) per run. Before: 3 more failing calls per run (two table creates, one row create, each a 409).",
  "Not modelled: the scale controller's reads of the queues (it reads every control queue and the work-item queue, so leaving them out favours the bill before); and, the same before and after, the Functions host's own blob leases and logs, Application Insights, storage capacity (a few MB), the extension's history cleanup and large-message blobs, scale-out to more instances, retries. Compute is separate: the always-ready baseline is stated on its own line.",
  "Prices: the Retail Prices API's meters for a general-purpose v2 LRS account (PRICES in src/local/tools/cost/costPrices.ts); queue class 1 and class 2 operations cost the same there. The table price is the least certain: the sensitivity lines show the verdict under other prices.",
];

export interface Transactions {
  readonly table: number;
  readonly queueClass1: number;
  readonly queueClass2: number;
  readonly blobWrite: number;
  readonly blobRead: number;
  /** Blob operations billed as "other" (lease renewals). */
  readonly blobOther: number;
}

const ZERO: Transactions = { table: 0, queueClass1: 0, queueClass2: 0, blobWrite: 0, blobRead: 0, blobOther: 0 };
const KINDS = Object.keys(ZERO) as (keyof Transactions)[];

export function add(...parts: Transactions[]): Transactions {
  return parts.reduce((a, b) => Object.fromEntries(KINDS.map((k) => [k, a[k] + b[k]])) as unknown as Transactions, ZERO);
}

function scale(t: Transactions, k: number): Transactions {
  return Object.fromEntries(KINDS.map((kind) => [kind, t[kind] * k])) as unknown as Transactions;
}

export function totalTransactions(t: Transactions): number {
  return KINDS.reduce((sum, k) => sum + t[k], 0);
}


/** Billed table transactions of counted requests (each request is one; failed ones included). */
export function tableTransactions(r: TableRequests): number {
  return r.read + r.query + r.write + r.batch + r.table;
}

/**
 * Empty polls of one queue between two bursts of messages `gapSeconds` apart, with the
 * provider's back-off (50 ms after a message, growing to the maximum). An infinite gap is
 * not asked for: an idle queue is polled once per maximum interval.
 */
export function emptyPollsInGap(gapSeconds: number, maxSeconds: number, minSeconds: number = DURABLE.minPollSeconds): number {
  let t = 0;
  let interval = minSeconds;
  let exponent = 1;
  let polls = 0;
  for (;;) {
    t += interval;
    if (t > gapSeconds + 1e-9) return polls;
    polls++;
    if (interval !== maxSeconds) {
      const next = minSeconds + 2 ** (exponent - 1) * minSeconds;
      if (next < maxSeconds) {
        interval = next;
        exponent++;
      } else interval = maxSeconds;
    }
  }
}

/** Empty polls per second of one queue receiving `burstsPerSecond` bursts (0: idle). */
function emptyPollRate(burstsPerSecond: number, maxSeconds: number): number {
  if (burstsPerSecond <= 0) return 1 / maxSeconds;
  return emptyPollsInGap(1 / burstsPerSecond, maxSeconds) * burstsPerSecond;
}

/**
 * The Durable extension's messages and orchestrator work items of one cycle with `activities`
 * activities. Each activity is a work-item message and a TaskCompleted message; the timer is a
 * TimerFired message. continueAsNew sends no message: DurableTask.Core's orchestration
 * dispatcher runs the new execution's first episode in the same work item (its
 * `do ... while (continuedAsNew)` loop), so the timer's work item also schedules the next check.
 */
export function durableCycle(activities: number): { readonly messages: number; readonly workItems: number; readonly transactions: Transactions } {
  const messages = 2 * activities + 1;
  const workItems = activities + 1;
  return { messages, workItems, transactions: { ...ZERO, table: workItems * DURABLE.tablePerWorkItem, queueClass1: 2 * messages, queueClass2: messages } };
}

/** Per second, what the extension does whatever the cycles: queue polling, partition and app leases. */
export function durableFixedPerSecond(deployment: Deployment, groups: number, intervalSeconds: number): Transactions {
  const cyclesPerSecond = groups / intervalSeconds;
  let polls = emptyPollRate(cyclesPerSecond, deployment.maxQueuePollingSeconds); // the work-item queue
  for (let q = 0; q < deployment.partitionCount; q++) {
    // Groups spread evenly over the control queues.
    const onQueue = Math.floor(groups / deployment.partitionCount) + (q < groups % deployment.partitionCount ? 1 : 0);
    polls += emptyPollRate(onQueue / intervalSeconds, deployment.maxQueuePollingSeconds);
  }
  return {
    ...ZERO,
    table: (1 + deployment.partitionCount) / DURABLE.partitionLoopSeconds,
    queueClass2: polls,
    blobOther: 1 / DURABLE.appLeaseRenewSeconds,
  };
}

export interface MonthlyBill {
  readonly groups: number;
  readonly intervalSeconds: number;
  readonly app: Transactions;
  readonly durableCycles: Transactions;
  readonly durableFixed: Transactions;
  readonly watchdog: Transactions;
  readonly total: Transactions;
  readonly storageUsd: number;
  /** Traffic Manager health checks of the same endpoints (two per group), per month. */
  readonly trafficManagerUsd: number;
  /** Route 53 health checks of the same endpoints (two per group), per month. */
  readonly route53Usd: number;
}

/** The month of `groups` healthy groups checked every `intervalSeconds`, under `deployment`. */
export function monthlyBill(counts: CostCounts, deployment: Deployment, groups: number, intervalSeconds: number): MonthlyBill {
  const cycles = (MONTH_SECONDS / intervalSeconds) * groups;
  const cycle = counts.healthyCycle;
  const app = { ...ZERO, table: tableTransactions(cycle.requests) * cycles };
  const durableCycles = scale(durableCycle(cycle.activities).transactions, cycles);
  const durableFixed = scale(durableFixedPerSecond(deployment, groups, intervalSeconds), MONTH_SECONDS);
  const runs = MONTH_SECONDS / (deployment.watchdogEveryMinutes * 60);
  const perRun: Transactions = {
    ...ZERO,
    table: tableTransactions(counts.watchdogRun.fixed) + groups * (tableTransactions(counts.watchdogRun.perGroup) + 1) + deployment.watchdogFailingCallsPerRun,
    blobRead: DURABLE.timerStatusBlobReads,
    blobWrite: DURABLE.timerStatusBlobWrites,
  };
  const watchdog = scale(perRun, runs);
  const total = add(app, durableCycles, durableFixed, watchdog);
  const endpoints = 2 * groups;
  const fast = intervalSeconds < 30;
  return {
    groups,
    intervalSeconds,
    app,
    durableCycles,
    durableFixed,
    watchdog,
    total,
    storageUsd: storageCost(total),
    trafficManagerUsd: endpoints * (PRICES.trafficManagerEndpointMonth + (fast ? PRICES.trafficManagerFastIntervalMonth : 0)),
    route53Usd: endpoints * (PRICES.route53HealthCheckMonth + (fast ? PRICES.route53FastIntervalMonth : 0)),
  };
}

/** The Durable extension's and app's transactions of one failover beyond a healthy cycle. */
export function failoverExtra(counts: CostCounts): Transactions {
  const extra = durableCycle(counts.failoverCycle.activities).transactions;
  const healthy = durableCycle(counts.healthyCycle.activities).transactions;
  return { ...add(extra, scale(healthy, -1)), table: extra.table - healthy.table + tableTransactions(counts.failoverCycle.requests) - tableTransactions(counts.healthyCycle.requests) };
}

/** Always-ready baseline of one instance of `memoryMb`, per month. */
export function alwaysReadyMonthly(memoryMb: number): number {
  return (memoryMb / 1024) * MONTH_SECONDS * PRICES.flexAlwaysReadyBaselinePerGbSecond;
}

export interface Comparison {
  readonly before: MonthlyBill;
  readonly after: MonthlyBill;
  readonly ratio: number;
  readonly target: number;
  readonly met: boolean;
}

/** One group at 30 s: the storage bill before against after; the target is at most half. */
export function compareWithToday(counts: CostCounts, after: Deployment): Comparison {
  const before = monthlyBill(counts, TODAY, 1, 30);
  const now = monthlyBill(counts, after, 1, 30);
  const ratio = now.storageUsd / before.storageUsd;
  return { before, after: now, ratio, target: 0.5, met: ratio <= 0.5 };
}

export interface Sensitivity {
  readonly label: string;
  readonly beforeUsd: number;
  readonly afterUsd: number;
  readonly ratio: number;
}

/** The same comparison under storage prices other than PRICES: how far the verdict rests on the least certain ones. */
export function priceSensitivity(c: Comparison): Sensitivity[] {
  const cases: { label: string; prices: StoragePrices }[] = [
    { label: "tables at $0.004 per 10k (the queue price)", prices: { ...PRICES, tablePer10k: 0.004 } },
    { label: "queue class 1 at $0.04 per 10k (ten times)", prices: { ...PRICES, queueClass1Per10k: 0.04 } },
  ];
  return cases.map(({ label, prices }) => {
    const beforeUsd = storageCost(c.before.total, prices);
    const afterUsd = storageCost(c.after.total, prices);
    return { label, beforeUsd, afterUsd, ratio: afterUsd / beforeUsd };
  });
}
