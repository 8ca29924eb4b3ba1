/**
 * What vantage agents add to the bill (src/core/vantage.ts, src/agent): each check asks every
 * agent, in parallel, about the active endpoint and, when due, the standby, so each agent
 * answers one HTTP call per endpoint probed per cycle, each call one execution of its function
 * on its own Flex Consumption app (bicep/modules/agent.bicep, on demand: no always-ready
 * instance), and its EndpointRegistry lists the controller's state table at most every 30 s.
 * On the controller's side the votes ride on the check's one row write (counted), and each
 * vote becomes two metric series when more than one vantage judges.
 *
 * Pure functions over the counts (docs/cost-counts.json `vantageCycle`), the deployment and
 * PRICES; VANTAGE_ASSUMPTIONS in costAssumptions.ts says what each constant rests on.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { FLEX, TELEMETRY, wholeBill } from "./costBill";
import { MONTH_SECONDS, durableCycle, tableTransactions, type CostCounts, type Deployment } from "./costModel";
import { PRICES } from "./costPrices";

const ROOT = join(__dirname, "..", "..", "..", "..");

/** One agent call, and what it sends to Application Insights. */
export const AGENT = {
  /** A healthy probe from the agent's region: three round trips (TCP, TLS 1.3, the request; undici's 4 s keep-alive closes the connection between checks 30 s apart) of up to 100 ms between Azure regions of one geography. An assumption. */
  probeLatencyMs: 300,
  /** The agent's own time per call: measured locally 0.02 ms for its code with a fresh registry and 2.3 ms when it lists the table (Azurite); the Functions host's dispatch to the Node worker, not measured here, is allowed a few ms more. */
  overheadMs: 10,
  /** Per execution whose log categories are on at Information: its request (category Host.Results) and the lines 'Executing' and 'Executed' (Function.vantage_probe). See agentHostItemsPerHealthyExecution. */
  hostItemsAtInformation: { "Host.Results": 1, "Function.vantage_probe": 2 },
  /** Per vantage and endpoint probed, once a minute, when more than one vantage judges: failover.vantage.duration and failover.vantage.healthy (src/core/telemetry.ts, recordVote). */
  voteSeriesPerVantageAndEndpoint: 2,
  /** Bytes over the network per call, both ways (not priced: the model counts no data transfer): the probe request (about 200 bytes of JSON) with an Entra ID bearer token (about 1.5 KB), the answer (about 300 bytes) with headers, and a new TLS connection's handshake (the agent's certificate chain, about 4 KB). An estimate. */
  bytesPerCall: 8_000,
  /** Rows a table query returns per page (the Table service's maximum): the registry's list is one transaction per 1,000 groups. */
  rowsPerPage: 1_000,
} as const;

/** The agent app's instance memory: bicep/modules/agent.bicep's instanceMemoryMB default. */
export function agentMemoryMb(): number {
  const bicep = readFileSync(join(ROOT, "bicep", "modules", "agent.bicep"), "utf8");
  const m = /^param instanceMemoryMB int = (\d+)$/m.exec(bicep);
  if (!m) throw new Error('bicep/modules/agent.bicep has no "param instanceMemoryMB int = ..." default');
  return Number(m[1]);
}

const LOG_LEVELS = ["trace", "debug", "information", "warning", "error", "critical", "none"];

/**
 * Items an agent's host sends Application Insights per healthy call, under its host.json
 * (src/agent/host.json): the request of the invocation (category Host.Results) and the lines
 * 'Executing' and 'Executed' (category Function.vantage_probe), each only when its category's level, the
 * longest matching prefix in logging.logLevel or else "default" (Information when absent),
 * lets Information through. A healthy call logs nothing else.
 */
export function agentHostItemsPerHealthyExecution(hostJson: unknown = JSON.parse(readFileSync(join(ROOT, "src", "agent", "host.json"), "utf8"))): number {
  const levels = (hostJson as { logging?: { logLevel?: Record<string, string> } }).logging?.logLevel ?? {};
  const levelOf = (category: string): number => {
    const match = Object.keys(levels)
      .filter((k) => k !== "default" && (category === k || category.startsWith(`${k}.`)))
      .sort((a, b) => b.length - a.length)[0];
    const name = (match ? levels[match] : (levels.default ?? "Information")).toLowerCase();
    const level = LOG_LEVELS.indexOf(name);
    if (level < 0) throw new Error(`src/agent/host.json: logging.logLevel "${match ?? "default"}" is "${name}", not a log level (${LOG_LEVELS.join(", ")})`);
    return level;
  };
  const information = LOG_LEVELS.indexOf("information");
  return Object.entries(AGENT.hostItemsAtInformation).reduce((n, [category, items]) => n + (levelOf(category) <= information ? items : 0), 0);
}

/** How long the agent's EndpointRegistry trusts its list: REGISTRY_FRESH_MS in src/core/vantageAgent.ts, in seconds. */
export function registryFreshSeconds(): number {
  const source = readFileSync(join(ROOT, "src", "core", "vantageAgent.ts"), "utf8");
  const m = /^const REGISTRY_FRESH_MS = ([\d_]+);$/m.exec(source);
  if (!m) throw new Error("src/core/vantageAgent.ts has no REGISTRY_FRESH_MS");
  return Number(m[1].replace(/_/g, "")) / 1000;
}

/** One agent call's duration: the probe's latency plus the agent's overhead, in seconds. */
export function agentCallSeconds(probeLatencyMs: number = AGENT.probeLatencyMs): number {
  return (probeLatencyMs + AGENT.overheadMs) / 1000;
}

/**
 * The seconds Flex bills one agent per cycle: the calls of a cycle (active and standby) arrive
 * together and overlap on one instance, so one activity period, billed for at least 1 s and
 * past that rounded up to 100 ms.
 */
export function agentBilledSecondsPerCycle(probeLatencyMs: number = AGENT.probeLatencyMs): number {
  const tenths = Math.ceil(Math.round(agentCallSeconds(probeLatencyMs) * 10_000) / 1_000);
  return Math.max(FLEX.billableSecondsPerCycle, tenths / 10);
}

/** The probe latency from which an agent's call outlasts Flex's 1 s minimum, in ms. */
export function agentBreakEvenLatencyMs(): number {
  return FLEX.billableSecondsPerCycle * 1000 - AGENT.overheadMs;
}

/** What `agents` agents ask per month for `groups` healthy groups at `intervalSeconds`. */
export interface AgentLoad {
  readonly agents: number;
  /** HTTP calls to agents, each one execution of the agent's function. */
  readonly calls: number;
  readonly executions: number;
  readonly gbSeconds: number;
  /** The registries' table queries on the controller's state table. */
  readonly tableTransactions: number;
  /** Metric items of the votes, on the controller (none with the controller alone). */
  readonly voteMetricItems: number;
  /** Items the agents' hosts send. */
  readonly hostItems: number;
  readonly transferGb: number;
}

/** Endpoints each check asks an agent about: the counted calls per agent and cycle. */
function callsPerAgentAndCycle(counts: CostCounts): number {
  return counts.vantageCycle.perAgent.calls;
}

export function agentLoad(counts: CostCounts, agents: number, groups: number, intervalSeconds = 30): AgentLoad {
  const cycles = (MONTH_SECONDS / intervalSeconds) * groups;
  const perCycle = callsPerAgentAndCycle(counts);
  const calls = cycles * perCycle * agents;
  // One activity period per agent and cycle, at most one instance busy all month (scale-out is not modelled, as for the controller).
  const activeSeconds = Math.min(MONTH_SECONDS, cycles * agentBilledSecondsPerCycle());
  // The registry lists the table on a call when its list is older than the freshness: the counted reads per cycle (one at 30 s), at most one per freshness period, one transaction per page.
  const readsPerSecond = Math.min((groups / intervalSeconds) * tableTransactions(counts.vantageCycle.perAgent.requests), 1 / registryFreshSeconds());
  const pages = Math.max(1, Math.ceil(groups / AGENT.rowsPerPage));
  const vantages = 1 + agents;
  const minutes = MONTH_SECONDS / TELEMETRY.exportSeconds;
  return {
    agents,
    calls,
    executions: calls,
    gbSeconds: agents * activeSeconds * (agentMemoryMb() / 1024),
    tableTransactions: agents * readsPerSecond * MONTH_SECONDS * pages,
    voteMetricItems: agents > 0 ? minutes * groups * vantages * perCycle * AGENT.voteSeriesPerVantageAndEndpoint : 0,
    hostItems: calls * agentHostItemsPerHealthyExecution(),
    transferGb: (calls * AGENT.bytesPerCall) / 1e9,
  };
}

/** The month's on-demand grants the agents may use: what the controller's on-demand executions and the watchdog leave. */
export function grantLeft(counts: CostCounts, deployment: Deployment, groups: number, intervalSeconds = 30): { readonly gbSeconds: number; readonly executions: number } {
  const gb = deployment.memoryMb / 1024;
  const watchdogRuns = MONTH_SECONDS / (deployment.watchdogEveryMinutes * 60);
  let gbSeconds = watchdogRuns * FLEX.billableSecondsPerCycle * gb;
  let executions = watchdogRuns;
  if (deployment.alwaysReadyInstances === 0) {
    const cycles = (MONTH_SECONDS / intervalSeconds) * groups;
    gbSeconds += Math.min(MONTH_SECONDS, cycles * FLEX.billableSecondsPerCycle) * gb;
    executions += cycles * durableCycle(counts.healthyCycle.activities).executions;
  }
  return { gbSeconds: Math.max(0, FLEX.onDemandFreeGbSeconds - gbSeconds), executions: Math.max(0, FLEX.onDemandFreeExecutions - executions) };
}

/** The agents' share of a month, in dollars. */
export interface AgentBill {
  readonly load: AgentLoad;
  readonly computeUsd: number;
  readonly storageUsd: number;
  readonly telemetryGb: number;
  readonly telemetryUsd: number;
  readonly totalUsd: number;
}

/** What `agents` agents add to the month of `groups` groups, with the free grants (`grants`, none by default: the list price of each unit). */
export function agentBill(counts: CostCounts, agents: number, groups: number, intervalSeconds = 30, grants: { gbSeconds: number; executions: number } = { gbSeconds: 0, executions: 0 }): AgentBill {
  const load = agentLoad(counts, agents, groups, intervalSeconds);
  const computeUsd =
    Math.max(0, load.gbSeconds - grants.gbSeconds) * PRICES.flexOnDemandExecutionPerGbSecond + (Math.max(0, load.executions - grants.executions) / 1e6) * PRICES.flexExecutionsPerMillion;
  const storageUsd = (load.tableTransactions * PRICES.tablePer10k) / 10_000;
  const telemetryGb = ((load.voteMetricItems + load.hostItems) * TELEMETRY.bytesPerItem) / 1e9;
  const telemetryUsd = telemetryGb * PRICES.logAnalyticsPerGb;
  return { load, computeUsd, storageUsd, telemetryGb, telemetryUsd, totalUsd: computeUsd + storageUsd + telemetryUsd };
}

/** One healthy cycle of one group, at list prices (no free grant, no fixed cost: the always-ready baseline, queue polling, leases, the watchdog, per-instance telemetry). */
export interface CycleCost {
  readonly agents: number;
  readonly storageUsd: number;
  readonly computeUsd: number;
  readonly telemetryUsd: number;
  readonly totalUsd: number;
  /** The agents' part of the above. */
  readonly agentUsd: { readonly compute: number; readonly storage: number; readonly telemetry: number };
}

/**
 * The marginal cost of one healthy cycle of one group with `agents` agents besides the
 * controller (`vantages` = all): the controller's cycle as the whole bill counts it (its
 * storage per cycle, its execution second and executions, its telemetry per cycle and its
 * group's metric items per cycle), plus the agents' terms, each at its list price.
 */
export function healthyCycleCost(counts: CostCounts, deployment: Deployment, agents: number, intervalSeconds = 30): CycleCost {
  const cyclesPerMonth = MONTH_SECONDS / intervalSeconds;
  const perCycle = (usd: number) => usd / cyclesPerMonth;
  // The controller's per-cycle terms, as costBill.ts and costModel.ts count them.
  const cycle = durableCycle(counts.healthyCycle.activities);
  const storage =
    tableTransactions(counts.healthyCycle.requests) * PRICES.tablePer10k +
    cycle.transactions.table * PRICES.tablePer10k +
    cycle.transactions.queueClass1 * PRICES.queueClass1Per10k +
    cycle.transactions.queueClass2 * PRICES.queueClass2Per10k;
  const gb = deployment.memoryMb / 1024;
  const rate = deployment.alwaysReadyInstances > 0 ? PRICES.flexAlwaysReadyExecutionPerGbSecond : PRICES.flexOnDemandExecutionPerGbSecond;
  const controllerCompute = gb * FLEX.billableSecondsPerCycle * rate + (cycle.executions / 1e6) * PRICES.flexExecutionsPerMillion;
  const items = TELEMETRY.appSpansPerCycle + cycle.executions * TELEMETRY.itemsPerExecution + (TELEMETRY.metricSeriesPerGroup * intervalSeconds) / TELEMETRY.exportSeconds;
  const controllerTelemetry = ((items * TELEMETRY.bytesPerItem) / 1e9) * PRICES.logAnalyticsPerGb;
  const a = agentBill(counts, agents, 1, intervalSeconds);
  const agent = { compute: perCycle(a.computeUsd), storage: perCycle(a.storageUsd), telemetry: perCycle(a.telemetryUsd) };
  const storageUsd = storage / 10_000 + agent.storage;
  const computeUsd = controllerCompute + agent.compute;
  const telemetryUsd = controllerTelemetry + agent.telemetry;
  return { agents, storageUsd, computeUsd, telemetryUsd, totalUsd: storageUsd + computeUsd + telemetryUsd, agentUsd: agent };
}

/** The whole month of `groups` groups with `agents` agents: the bill without agents plus the agents' share after the free grants the controller leaves. */
export function monthWithAgents(
  counts: CostCounts,
  deployment: Deployment,
  agents: number,
  groups: number,
  intervalSeconds = 30,
): { readonly withoutUsd: number; readonly agents: AgentBill; readonly totalUsd: number } {
  const without = wholeBill(counts, deployment, groups, intervalSeconds).totalUsd;
  const a = agentBill(counts, agents, groups, intervalSeconds, grantLeft(counts, deployment, groups, intervalSeconds));
  return { withoutUsd: without, agents: a, totalUsd: without + a.totalUsd };
}
