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

/**
 * List prices to check, in USD, pay-as-you-go, East US, as known on 2026-12-02 (from memory of
 * the pages named; not re-read when this was written). Prices differ by region and change:
 * check each page before relying on a number.
 */
export const PRICES = {
  date: "2026-12-02",
  /** https://azure.microsoft.com/pricing/details/storage/tables/ : standard GPv2, LRS, storage transactions. */
  tablePer10k: 0.00036,
  /** https://azure.microsoft.com/pricing/details/storage/queues/ : GPv2, LRS. Class 1: put, delete, update message. */
  queueClass1Per10k: 0.04,
  /** Same page. Class 2: get (dequeue) and peek messages. */
  queueClass2Per10k: 0.004,
  /** https://azure.microsoft.com/pricing/details/storage/blobs/ : hot, LRS. Write operations (lease acquire/renew, put blob). */
  blobWritePer10k: 0.055,
  /** Same page. Read operations (get blob). */
  blobReadPer10k: 0.0044,
  /** https://azure.microsoft.com/pricing/details/traffic-manager/ : health check per external endpoint per month (basic, 30 s). */
  trafficManagerEndpointMonth: 0.54,
  /** Same page: fast interval (10 s) health checks, added per external endpoint per month. */
  trafficManagerFastIntervalMonth: 2.0,
  /** https://aws.amazon.com/route53/pricing/ : health check of a non-AWS endpoint per month (basic, 30 s). */
  route53HealthCheckMonth: 0.75,
  /** Same page: each optional feature (fast interval 10 s) per non-AWS health check per month. */
  route53FastIntervalMonth: 2.0,
  /** https://azure.microsoft.com/pricing/details/functions/ : Flex Consumption always-ready baseline, per GB-second. */
  flexAlwaysReadyBaselinePerGbSecond: 0.000004,
} as const;

/** Seconds in the model's month (30 days). */
export const MONTH_SECONDS = 30 * 24 * 3600;

/** The Azure Storage provider's and host's constants the formula uses (see ASSUMPTIONS). */
export const DURABLE = {
  /** Shortest queue polling interval after a message (TaskHubQueue: 50 ms). */
  minPollSeconds: 0.05,
  /** Table partition manager loop (LeaseAcquireInterval, 10 s): one read of the partitions table and one renewal per owned partition. */
  partitionLoopSeconds: 10,
  /** App lease (useAppLease, on by default): one blob lease renewal per RenewInterval. */
  appLeaseRenewSeconds: 25,
  /** Table transactions per orchestrator episode: history query, history batch write, instances row update. */
  tablePerEpisode: 3,
  /** Blob operations per timer-trigger run (schedule monitor: read and write the status blob). */
  timerStatusBlobReads: 1,
  timerStatusBlobWrites: 1,
} as const;

export const ASSUMPTIONS: readonly string[] = [
  "App: the table requests of a healthy cycle, a failing cycle, a failover and a watchdog run are counted on Azurite through a proxy (docs/cost-counts.json, npm run cost recounts them); every request is one table transaction, failed ones too.",
  "Durable, per cycle with A activities: A + 2 orchestrator episodes (start, each activity's completion, the timer), each with 3 table transactions (history query, history batch write, instances row update); A + 2 control-queue messages (ExecutionStarted from continueAsNew, each TaskCompleted, TimerFired) and A work-item messages, each put (class 1), got (class 2) and deleted (class 1). One get per message (the provider gets up to 32 at once when busy, so this overestimates many groups).",
  "Durable, queue polling: every control queue (partitionCount) and the work-item queue is polled with the provider's back-off: 50 ms after a message, then growing (50 ms + 50 ms x 2^(k-1)) up to maxQueuePollingInterval, where it stays while idle. A group's cycle is one burst of messages on its control queue and on the work-item queue; groups are spread evenly over time and over the control queues. Every empty poll is a class 2 get.",
  "Durable, partitions: the table partition manager (the default of the Durable extension 3.x in extension bundle 4.x) reads the partitions table and renews each owned partition's row every 10 s (an upper estimate: it may renew less often). The app lease blob is renewed every 25 s. One instance (the always-ready one) holds every partition.",
  "Watchdog: its counted table requests per run, plus one instances-table read per group (the orchestration status query) and the timer trigger's status blob (one read, one write) per run. Before: 3 more failing calls per run (two table creates, one row create, each a 409).",
  "Not modelled (the same before and after, so left out of both): the Functions host's own blob leases and logs, Application Insights, storage capacity (a few MB), the extension's history cleanup and large-message blobs, scale-out to more instances, retries. Compute is separate: the always-ready baseline is stated on its own line.",
  "Prices: list prices to check (PRICES in src/local/costModel.ts, with their pages and date); if your account bills queue dequeues as class 1, polling costs 10 times more.",
];

export interface Transactions {
  readonly table: number;
  readonly queueClass1: number;
  readonly queueClass2: number;
  readonly blobWrite: number;
  readonly blobRead: number;
}

const ZERO: Transactions = { table: 0, queueClass1: 0, queueClass2: 0, blobWrite: 0, blobRead: 0 };

export function add(...parts: Transactions[]): Transactions {
  return parts.reduce((a, b) => ({ table: a.table + b.table, queueClass1: a.queueClass1 + b.queueClass1, queueClass2: a.queueClass2 + b.queueClass2, blobWrite: a.blobWrite + b.blobWrite, blobRead: a.blobRead + b.blobRead }), ZERO);
}

function scale(t: Transactions, k: number): Transactions {
  return { table: t.table * k, queueClass1: t.queueClass1 * k, queueClass2: t.queueClass2 * k, blobWrite: t.blobWrite * k, blobRead: t.blobRead * k };
}

export function totalTransactions(t: Transactions): number {
  return t.table + t.queueClass1 + t.queueClass2 + t.blobWrite + t.blobRead;
}

export function storageCost(t: Transactions): number {
  return (t.table * PRICES.tablePer10k + t.queueClass1 * PRICES.queueClass1Per10k + t.queueClass2 * PRICES.queueClass2Per10k + t.blobWrite * PRICES.blobWritePer10k + t.blobRead * PRICES.blobReadPer10k) / 10_000;
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

/** The Durable extension's transactions of one cycle with `activities` activities (messages, episodes). */
export function durableCycle(activities: number): Transactions {
  const controlMessages = activities + 2;
  const messages = controlMessages + activities;
  return { table: (activities + 2) * DURABLE.tablePerEpisode, queueClass1: 2 * messages, queueClass2: messages, blobWrite: 0, blobRead: 0 };
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
    table: (1 + deployment.partitionCount) / DURABLE.partitionLoopSeconds,
    queueClass1: 0,
    queueClass2: polls,
    blobWrite: 1 / DURABLE.appLeaseRenewSeconds,
    blobRead: 0,
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
  const durableCycles = scale(durableCycle(cycle.activities), cycles);
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
  const extra = durableCycle(counts.failoverCycle.activities);
  const healthy = durableCycle(counts.healthyCycle.activities);
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
