/**
 * The whole bill, modelled: storage (costModel.ts, counted), the Flex Consumption compute of
 * the durable group (always ready or not), Application Insights ingestion (an estimate from
 * what the app and the host send per cycle and per minute) and, with that backend, the Durable
 * Task Scheduler's actions; beside Traffic Manager and Route 53 checking the same endpoints.
 * Pure functions over the counts, the deployment and PRICES; ASSUMPTIONS says what each
 * constant below rests on.
 */
import { MONTH_SECONDS, durableCycle, monthlyBill, type CostCounts, type Deployment, type DurableBackend } from "./costModel";
import { PRICES } from "./costPrices";

/** Flex Consumption billing facts the compute line uses. */
export const FLEX = {
  /** The minimum billable execution period is 1,000 ms (Microsoft, "Flex Consumption plan hosting", Billing); a healthy cycle's executions follow each other within a second, so one period per cycle. */
  billableSecondsPerCycle: 1,
  /** On-demand free grants per month (the Azure Functions pricing page; always ready has none). */
  onDemandFreeGbSeconds: 100_000,
  onDemandFreeExecutions: 250_000,
} as const;

/** What reaches Application Insights: counted from the code and the exporters' output, sized by measurement; the host's share is an estimate. */
export const TELEMETRY = {
  /** The cycle's spans: failover.cycle and its health_check child (src/core/telemetry.ts, traceCycle). */
  appSpansPerCycle: 2,
  /** Per function execution, from the host in OpenTelemetry mode: its invocation span, the 'Executing' and 'Executed' log lines, and two Durable extension tracking lines (Host.Triggers.DurableTask logs at Information unless host.json lowers it). An estimate. */
  itemsPerExecution: 5,
  /** Metric series of one healthy group, each exported once a minute: probe duration and endpoint health per role (2 + 2), active target per target (2), failure streak, cycles, cycle age. */
  metricSeriesPerGroup: 9,
  /** Per minute and instance, whatever the groups: the exporter's resource record, sent with each export of spans, at most every 5 s (the batch span processor's delay) while cycles run; no performance counters or standard metrics (test/local/azureMonitor). */
  fixedItemsPerMinute: 12,
  /** Bytes per item: the exporter's envelopes measured against the local ingestion stand-in were 460-720 (metrics about 500, spans about 640); Log Analytics bills the stored columns, less. */
  bytesPerItem: 600,
  exportSeconds: 60,
} as const;

/** The Consumption SKU's published ceiling (Microsoft, "Durable Task Scheduler billing"). */
export const SCHEDULER_MAX_ACTIONS_PER_SECOND = 500;

export interface Load {
  readonly cyclesPerSecond: number;
  /** Orchestrator work items (Azure Storage provider): one per activity result and one per timer. */
  readonly workItemsPerSecond: number;
  readonly orchestratorExecutionsPerSecond: number;
  /** Function executions, which are also Durable Task Scheduler actions. */
  readonly executionsPerSecond: number;
}

/** What `groups` healthy groups at `intervalSeconds` ask of the Durable backend per second. */
export function load(counts: CostCounts, groups: number, intervalSeconds: number): Load {
  const cyclesPerSecond = groups / intervalSeconds;
  const cycle = durableCycle(counts.healthyCycle.activities);
  return {
    cyclesPerSecond,
    workItemsPerSecond: cyclesPerSecond * cycle.workItems,
    orchestratorExecutionsPerSecond: cyclesPerSecond * cycle.orchestratorExecutions,
    executionsPerSecond: cyclesPerSecond * cycle.executions,
  };
}

/** The sentence the deploy notes quote about one partition's load. */
export function loadSentence(counts: CostCounts, groups = 1000, intervalSeconds = 30): string {
  const l = load(counts, groups, intervalSeconds);
  const n = (x: number) => Math.round(x).toLocaleString("en-US");
  return (
    `about ${n(groups)} groups at ${intervalSeconds} s is about ${n(l.cyclesPerSecond)} cycles, ${n(l.workItemsPerSecond)} orchestrator work items and ${n(l.orchestratorExecutionsPerSecond)} orchestrator executions per second ` +
    `(${n(l.executionsPerSecond)} Durable Task Scheduler actions per second, of the Consumption SKU's ${SCHEDULER_MAX_ACTIONS_PER_SECOND})`
  );
}

/** Always-ready baseline of `instances` instances of `memoryMb`, per month. */
export function alwaysReadyMonthly(memoryMb: number, instances = 1): number {
  return (memoryMb / 1024) * instances * MONTH_SECONDS * PRICES.flexAlwaysReadyBaselinePerGbSecond;
}

/** The durable group's compute for `cycles` cycles and `executions` executions a month, on one instance. */
export function computeMonthly(deployment: Deployment, cycles: number, executions: number): number {
  const gb = deployment.memoryMb / 1024;
  const activeSeconds = Math.min(MONTH_SECONDS, cycles * FLEX.billableSecondsPerCycle);
  if (deployment.alwaysReadyInstances > 0) {
    return (
      alwaysReadyMonthly(deployment.memoryMb, deployment.alwaysReadyInstances) + gb * activeSeconds * PRICES.flexAlwaysReadyExecutionPerGbSecond + (executions / 1e6) * PRICES.flexExecutionsPerMillion
    );
  }
  const gbSeconds = Math.max(0, gb * activeSeconds - FLEX.onDemandFreeGbSeconds);
  return gbSeconds * PRICES.flexOnDemandExecutionPerGbSecond + (Math.max(0, executions - FLEX.onDemandFreeExecutions) / 1e6) * PRICES.flexExecutionsPerMillion;
}

/** GB a month sent to Application Insights by `groups` groups making `cycles` cycles. */
export function telemetryGb(counts: CostCounts, groups: number, cycles: number): number {
  const perCycle = TELEMETRY.appSpansPerCycle + durableCycle(counts.healthyCycle.activities).executions * TELEMETRY.itemsPerExecution;
  const minutes = MONTH_SECONDS / TELEMETRY.exportSeconds;
  const items = cycles * perCycle + minutes * (groups * TELEMETRY.metricSeriesPerGroup + TELEMETRY.fixedItemsPerMinute);
  return (items * TELEMETRY.bytesPerItem) / 1e9;
}

export interface WholeBill {
  readonly groups: number;
  readonly intervalSeconds: number;
  readonly backend: DurableBackend;
  readonly alwaysReadyInstances: number;
  readonly executions: number;
  readonly storageUsd: number;
  readonly computeUsd: number;
  readonly telemetryGb: number;
  readonly telemetryUsd: number;
  /** Durable Task Scheduler actions (one per execution) at the Consumption price; 0 on Azure Storage. */
  readonly schedulerUsd: number;
  readonly totalUsd: number;
  readonly trafficManagerUsd: number;
  readonly route53Usd: number;
}

/** The month of `groups` healthy groups at `intervalSeconds` under `deployment` (its backend and always-ready count). */
export function wholeBill(counts: CostCounts, deployment: Deployment, groups: number, intervalSeconds = 30): WholeBill {
  const storage = monthlyBill(counts, deployment, groups, intervalSeconds);
  const cycles = (MONTH_SECONDS / intervalSeconds) * groups;
  const executions = cycles * durableCycle(counts.healthyCycle.activities).executions;
  const computeUsd = computeMonthly(deployment, cycles, executions);
  const gb = telemetryGb(counts, groups, cycles);
  const telemetryUsd = gb * PRICES.logAnalyticsPerGb;
  const schedulerUsd = deployment.backend === "durableTaskScheduler" ? executions * PRICES.schedulerConsumptionPerAction : 0;
  return {
    groups,
    intervalSeconds,
    backend: deployment.backend,
    alwaysReadyInstances: deployment.alwaysReadyInstances,
    executions,
    storageUsd: storage.storageUsd,
    computeUsd,
    telemetryGb: gb,
    telemetryUsd,
    schedulerUsd,
    totalUsd: storage.storageUsd + computeUsd + telemetryUsd + schedulerUsd,
    trafficManagerUsd: storage.trafficManagerUsd,
    route53Usd: storage.route53Usd,
  };
}

/** The choices the bill table shows: each backend with the deployment's always-ready count and with none. */
export function billChoices(deployment: Deployment): Deployment[] {
  const backends: DurableBackend[] = ["azureStorage", "durableTaskScheduler"];
  const alwaysReady = [...new Set([Math.max(1, deployment.alwaysReadyInstances), 0])];
  return backends.flatMap((backend) => alwaysReady.map((alwaysReadyInstances) => ({ ...deployment, backend, alwaysReadyInstances })));
}
