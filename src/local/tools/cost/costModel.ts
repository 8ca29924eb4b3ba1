/**
 * The storage part of the bill, modelled: what one deployment of the app costs per month in
 * storage transactions for 1, 100 and 1000 groups at a 30 s and a 10 s check interval, beside
 * what Traffic Manager and Route 53 charge for health-checking the same endpoints (the rest of
 * the bill, compute, telemetry and the Durable Task Scheduler, is costBill.ts).
 *
 * A pure function over numbers: the app's own storage requests are COUNTED (see costCount.ts,
 * committed as docs/cost-counts.json); the Durable extension's and the Functions host's traffic
 * is a FORMULA of the Azure Storage provider's documented behaviour, with every assumption
 * listed in costAssumptions.ts. It is a model, not a bill: check the prices and the assumptions.
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
  /** A healthy cycle with vantage agents (costVantageCount.ts). */
  readonly vantageCycle: VantageCycle;
}

/** A healthy cycle of one group with vantage agents, counted on Azurite with the agents' real code. */
export interface VantageCycle {
  /** Agents in the count (VANTAGE_AGENTS, with `vantages` = all: the controller and each of them). */
  readonly agents: number;
  /** The controller's table requests per cycle with those agents (their votes ride on the same row write). */
  readonly controllerRequests: TableRequests;
  /** Per agent and cycle: the HTTP calls it answered (each one execution of its function) and its table requests (the endpoint registry's reads of the state table). */
  readonly perAgent: { readonly calls: number; readonly requests: TableRequests };
}

/** Where the Durable extension keeps its task hub (main.bicep's durableBackend). */
export type DurableBackend = "azureStorage" | "durableTaskScheduler";

/** The Durable and host settings a configuration runs with (host.json, main.bicep's defaults, the watchdog's schedule). */
export interface Deployment {
  readonly label: string;
  readonly backend: DurableBackend;
  /** main.bicep instanceMemoryMB: the memory of each Flex Consumption instance. */
  readonly memoryMb: number;
  /** main.bicep durableAlwaysReadyInstances: always-ready instances of the durable group (0: none). */
  readonly alwaysReadyInstances: number;
  /** host.json storageProvider.partitionCount: the number of control queues. */
  readonly partitionCount: number;
  /** host.json storageProvider.maxQueuePollingInterval, in seconds. */
  readonly maxQueuePollingSeconds: number;
  readonly watchdogEveryMinutes: number;
  /** Billed storage calls that fail on each watchdog run (409 on create), besides the counted ones. */
  readonly watchdogFailingCallsPerRun: number;
}

/** Before the idle-bill work: the extension's default 4 partitions, 2 s polling, a watchdog every minute with 3 failing calls per run. */
export const TODAY: Deployment = {
  label: "before (4 partitions, 2 s polling, watchdog every 1 min)",
  backend: "azureStorage",
  memoryMb: 2048,
  alwaysReadyInstances: 1,
  partitionCount: 4,
  maxQueuePollingSeconds: 2,
  watchdogEveryMinutes: 1,
  watchdogFailingCallsPerRun: 3,
};

/** Seconds in the model's month (30 days). */
export const MONTH_SECONDS = 30 * 24 * 3600;

/** The Azure Storage provider's and host's constants the formula uses (see costAssumptions.ts). */
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
 * The Durable extension's work in one cycle with `activities` activities and one timer.
 * Messages (Azure Storage provider): each activity is a work-item message and a TaskCompleted
 * message; the timer is a TimerFired message. continueAsNew sends no message: DurableTask.Core's
 * orchestration dispatcher runs the new execution's first episode in the same work item (its
 * `do ... while (continuedAsNew)` loop), so the timer's work item also schedules the next check.
 * Executions, whatever the backend: the orchestrator runs once per activity result, once for the
 * timer and once for the new execution's start (3 with one activity), each activity once; every
 * execution is a function invocation, and one Durable Task Scheduler action (one dispatched
 * message: the start, each activity's schedule and result, the timer).
 */
export function durableCycle(activities: number): {
  readonly messages: number;
  readonly workItems: number;
  readonly orchestratorExecutions: number;
  readonly executions: number;
  readonly transactions: Transactions;
} {
  const messages = 2 * activities + 1;
  const workItems = activities + 1;
  const orchestratorExecutions = workItems + 1;
  return {
    messages,
    workItems,
    orchestratorExecutions,
    executions: orchestratorExecutions + activities,
    transactions: { ...ZERO, table: workItems * DURABLE.tablePerWorkItem, queueClass1: 2 * messages, queueClass2: messages },
  };
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

/**
 * The month of `groups` healthy groups checked every `intervalSeconds`, under `deployment`.
 * With the Durable Task Scheduler the task hub is not in storage: no Durable messages, history,
 * polling or leases, and the watchdog's status query per group goes to the scheduler.
 */
export function monthlyBill(counts: CostCounts, deployment: Deployment, groups: number, intervalSeconds: number): MonthlyBill {
  const cycles = (MONTH_SECONDS / intervalSeconds) * groups;
  const cycle = counts.healthyCycle;
  const inStorage = deployment.backend === "azureStorage";
  const app = { ...ZERO, table: tableTransactions(cycle.requests) * cycles };
  const durableCycles = inStorage ? scale(durableCycle(cycle.activities).transactions, cycles) : ZERO;
  const durableFixed = inStorage ? scale(durableFixedPerSecond(deployment, groups, intervalSeconds), MONTH_SECONDS) : ZERO;
  const runs = MONTH_SECONDS / (deployment.watchdogEveryMinutes * 60);
  const statusReads = inStorage ? 1 : 0;
  const perRun: Transactions = {
    ...ZERO,
    table: tableTransactions(counts.watchdogRun.fixed) + groups * (tableTransactions(counts.watchdogRun.perGroup) + statusReads) + deployment.watchdogFailingCallsPerRun,
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
