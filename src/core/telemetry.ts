import {
  SpanStatusCode,
  TraceFlags,
  context,
  isSpanContextValid,
  metrics,
  trace,
  type Attributes,
  type Counter,
  type Gauge,
  type Histogram,
  type Link,
  type MeterProvider,
  type Span,
} from "@opentelemetry/api";

/**
 * The app's metrics and traces, through the OpenTelemetry API only. Which SDK receives them is
 * the host's business: the Azure Monitor exporters in Azure (src/functions/shared/azureMonitor.ts), the
 * Prometheus exporter on the local host (src/local/host/telemetry.ts), an in-memory exporter in the
 * tests. With no SDK registered every call here is a no-op.
 *
 * Names follow the OpenTelemetry conventions: dot-separated, durations in seconds (unit "s"),
 * counts with a {annotation} unit, `error.type` and `http.response.status_code` as in the
 * semantic conventions; the rest live under `failover.`.
 */

export const METER_NAME = "failover-orchestrator";

/** Every metric the app emits; README "Observe it" lists them and the alerts query them. */
export const METRICS = {
  probeDuration: "failover.probe.duration",
  endpointHealthy: "failover.endpoint.healthy",
  activeTarget: "failover.active_target",
  consecutiveFailures: "failover.consecutive_failures",
  switches: "failover.switches",
  detectionDuration: "failover.detection.duration",
  cycles: "failover.cycles",
  cycleAge: "failover.cycle.age",
  switchStepFailures: "failover.switch.step.failures",
  switchDrift: "failover.switch.drift",
  switchHeld: "failover.switch.held",
  switchApplyDuration: "failover.switch.apply.duration",
  switchVerifyDuration: "failover.switch.verify.duration",
  loopOverdue: "failover.loop.overdue",
  standbyDown: "failover.standby.down",
  vantageHealthy: "failover.vantage.healthy",
  vantageDuration: "failover.vantage.duration",
} as const;

/** Attribute names. */
export const ATTR = {
  group: "failover.group",
  role: "failover.endpoint.role",
  probeResult: "failover.probe.result",
  target: "failover.target",
  switchKind: "failover.switch.kind",
  switchTrigger: "failover.switch.trigger",
  cycleOutcome: "failover.cycle.outcome",
  checkInterval: "failover.check.interval",
  cycleId: "failover.cycle.id",
  stepKind: "failover.switch.step.kind",
  switchPhase: "failover.switch.phase",
  errorType: "error.type",
  httpStatus: "http.response.status_code",
  vantage: "failover.vantage",
} as const;

export type Role = "primary" | "secondary";
export type SwitchTrigger = "automatic" | "manual" | "forced";

interface Instruments {
  readonly provider: MeterProvider;
  readonly probeDuration: Histogram;
  readonly endpointHealthy: Gauge;
  readonly activeTarget: Gauge;
  readonly consecutiveFailures: Gauge;
  readonly switches: Counter;
  readonly detectionDuration: Histogram;
  readonly cycles: Counter;
  readonly switchStepFailures: Counter;
  readonly switchDrift: Counter;
  readonly switchHeld: Counter;
  readonly switchApplyDuration: Histogram;
  readonly switchVerifyDuration: Histogram;
  readonly loopOverdue: Gauge;
  readonly standbyDown: Gauge;
  readonly vantageHealthy: Gauge;
  readonly vantageDuration: Histogram;
}

/** Seconds-scale buckets: probes and switches take milliseconds to minutes. */
const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

/** When each group's last cycle completed in this process (for failover.cycle.age). */
const lastCycle = new Map<string, number>();

let instruments: Instruments | undefined;

/** The instruments of the meter provider registered now (the metrics API has no proxy: rebuild when it changes). */
function meters(): Instruments {
  const provider = metrics.getMeterProvider();
  if (instruments?.provider === provider) return instruments;
  const meter = provider.getMeter(METER_NAME);
  const seconds = (name: string, description: string) => meter.createHistogram(name, { unit: "s", description, advice: { explicitBucketBoundaries: SECONDS_BUCKETS } });
  meter.createObservableGauge(METRICS.cycleAge, { unit: "s", description: "Seconds since this process last saw a cycle of the group complete" }).addCallback((result) => {
    const now = Date.now();
    for (const [group, at] of lastCycle) result.observe((now - at) / 1000, { [ATTR.group]: group });
  });
  instruments = {
    provider,
    probeDuration: seconds(METRICS.probeDuration, "Duration of one health probe, by endpoint role and result"),
    endpointHealthy: meter.createGauge(METRICS.endpointHealthy, { unit: "1", description: "1 when the endpoint's last probe was healthy, 0 when not" }),
    activeTarget: meter.createGauge(METRICS.activeTarget, { unit: "1", description: "1 for the group's active target, 0 for the other" }),
    consecutiveFailures: meter.createGauge(METRICS.consecutiveFailures, { unit: "{check}", description: "Consecutive counted failed checks of the active endpoint" }),
    switches: meter.createCounter(METRICS.switches, { unit: "{switch}", description: "Switches of the active target, by kind and trigger" }),
    detectionDuration: seconds(METRICS.detectionDuration, "Seconds from the first failed check of a streak to the automatic switch it caused"),
    cycles: meter.createCounter(METRICS.cycles, { unit: "{cycle}", description: "Completed orchestration cycles (the loop's heartbeat)" }),
    switchStepFailures: meter.createCounter(METRICS.switchStepFailures, { unit: "{step}", description: "Switch-plan steps that failed to apply or verify, by phase and error class" }),
    switchDrift: meter.createCounter(METRICS.switchDrift, { unit: "{step}", description: "Switch-plan steps found not matching the active target" }),
    switchHeld: meter.createCounter(METRICS.switchHeld, { unit: "{switch}", description: "Switches stopped by a permanent error (held or undone): a human must act" }),
    switchApplyDuration: seconds(METRICS.switchApplyDuration, "Duration of applying one switch-plan step (error.type set when it failed)"),
    switchVerifyDuration: seconds(METRICS.switchVerifyDuration, "Seconds from a switch's apply until its plan verified, per step"),
    loopOverdue: meter.createGauge(METRICS.loopOverdue, { unit: "s", description: "Seconds the group's loop is late for its next check, as the watchdog saw it (0 when on time)" }),
    standbyDown: meter.createGauge(METRICS.standbyDown, {
      unit: "1",
      description: "1 while the standby has failed failure_threshold or more counted checks in a row (nowhere to switch to), 0 otherwise",
    }),
    vantageHealthy: meter.createGauge(METRICS.vantageHealthy, { unit: "1", description: "One vantage's last vote about an endpoint: 1 healthy, 0 unhealthy (not recorded when it cast no vote)" }),
    vantageDuration: seconds(METRICS.vantageDuration, "Duration of one vantage's probe of an endpoint, by vantage and result (no_vote: the agent did not answer or refused)"),
  };
  return instruments;
}

export interface ProbeObservation {
  readonly healthy: boolean;
  readonly latency_ms: number;
  readonly status_code?: number;
  readonly error_class?: string;
}

/** One probe of an endpoint: its duration and result, and the endpoint's health gauge. */
export function recordProbe(group: string, role: Role, probe: ProbeObservation): void {
  const m = meters();
  const base = { [ATTR.group]: group, [ATTR.role]: role };
  const attributes: Attributes = {
    ...base,
    [ATTR.probeResult]: probe.healthy ? "healthy" : "unhealthy",
    ...(probe.error_class ? { [ATTR.errorType]: probe.error_class } : {}),
    ...(probe.status_code !== undefined ? { [ATTR.httpStatus]: probe.status_code } : {}),
  };
  m.probeDuration.record(probe.latency_ms / 1000, attributes);
  m.endpointHealthy.record(probe.healthy ? 1 : 0, base);
}

/** One vantage's vote about an endpoint (when more than one vantage judges the group). */
export function recordVote(group: string, role: Role, vote: { readonly vantage: string; readonly healthy?: boolean; readonly latency_ms: number; readonly error_class?: string }): void {
  const m = meters();
  const base = { [ATTR.group]: group, [ATTR.role]: role, [ATTR.vantage]: vote.vantage };
  const result = vote.healthy === undefined ? "no_vote" : vote.healthy ? "healthy" : "unhealthy";
  m.vantageDuration.record(vote.latency_ms / 1000, { ...base, [ATTR.probeResult]: result, ...(vote.error_class ? { [ATTR.errorType]: vote.error_class } : {}) });
  if (vote.healthy !== undefined) m.vantageHealthy.record(vote.healthy ? 1 : 0, base);
}

/** The group's state after a check or a switch: active target and failure streak. */
export function recordGroupState(group: string, state: { readonly active_target: Role; readonly consecutive_failures: number }): void {
  const m = meters();
  for (const target of ["primary", "secondary"] as const) {
    m.activeTarget.record(target === state.active_target ? 1 : 0, { [ATTR.group]: group, [ATTR.target]: target });
  }
  m.consecutiveFailures.record(state.consecutive_failures, { [ATTR.group]: group });
}

/** After a check that probed the standby: whether it is down (its streak at the failure threshold or beyond). */
export function recordStandby(group: string, down: boolean): void {
  meters().standbyDown.record(down ? 1 : 0, { [ATTR.group]: group });
}

export interface SwitchObservation {
  readonly kind: "failover" | "failback";
  readonly trigger: SwitchTrigger;
  /** Seconds from the first failed check of the streak to this switch (automatic failovers). */
  readonly detection_seconds?: number;
}

/** A switch that happened (the row was written). */
export function recordSwitch(group: string, observation: SwitchObservation): void {
  const m = meters();
  m.switches.add(1, { [ATTR.group]: group, [ATTR.switchKind]: observation.kind, [ATTR.switchTrigger]: observation.trigger });
  if (observation.detection_seconds !== undefined) m.detectionDuration.record(observation.detection_seconds, { [ATTR.group]: group, [ATTR.switchKind]: observation.kind });
}

/** A completed orchestration cycle: the heartbeat the "loop stopped" alert watches. */
export function recordCycle(group: string, outcome: "ok" | "error", checkIntervalSeconds: number, at: Date = new Date()): void {
  meters().cycles.add(1, { [ATTR.group]: group, [ATTR.cycleOutcome]: outcome, [ATTR.checkInterval]: checkIntervalSeconds });
  lastCycle.set(group, at.getTime());
}

/**
 * What the watchdog saw of a group's loop, once per group per run (every 5 minutes), whether the
 * loop cycles or not: the "loop stopped" alert knows every group from it, however long a loop has
 * been silent, and the "watchdog silent" alert knows the watchdog runs.
 */
export function recordLoopWatch(group: string, overdueSeconds: number, checkIntervalSeconds: number): void {
  meters().loopOverdue.record(overdueSeconds, { [ATTR.group]: group, [ATTR.checkInterval]: checkIntervalSeconds });
}

export interface SwitchStepObservation {
  /** "apply": one step applied; "verify": the plan checked after an apply. */
  readonly phase: "apply" | "verify";
  /** Apply: the step's duration. Verify: seconds from the apply until the plan verified. */
  readonly seconds?: number;
  /** The step failed: its error class (a verification: "mismatch" or the read's error class). */
  readonly errorClass?: string;
}

/** For switch plans: one step's apply, its verification or its failure (by phase, with error.type). */
export function recordSwitchStep(group: string, stepKind: string, observation: SwitchStepObservation): void {
  const m = meters();
  const attributes = { [ATTR.group]: group, [ATTR.stepKind]: stepKind, ...(observation.errorClass ? { [ATTR.errorType]: observation.errorClass } : {}) };
  if (observation.seconds !== undefined) (observation.phase === "apply" ? m.switchApplyDuration : m.switchVerifyDuration).record(observation.seconds, attributes);
  if (observation.errorClass) m.switchStepFailures.add(1, { ...attributes, [ATTR.switchPhase]: observation.phase });
}

/** For switch plans: a switch a permanent error stopped (held, or undone with on_failure=compensate); one per episode. */
export function recordSwitchHeld(group: string, errorClass: string): void {
  meters().switchHeld.add(1, { [ATTR.group]: group, [ATTR.errorType]: errorClass });
}

/** For switch plans: a step found not matching the active target (someone or something moved it). */
export function recordSwitchDrift(group: string, stepKind: string): void {
  meters().switchDrift.add(1, { [ATTR.group]: group, [ATTR.stepKind]: stepKind });
}

// ---------------------------------------------------------------------------------------------
// Traces: one per cycle. The cycle's check starts the trace (its root span begins at the cycle's
// start); the later activities of the cycle join it through a W3C traceparent the orchestration
// passes along in their input. In Azure the Functions host runs each invocation in a span of its
// own (azureMonitor.ts makes it the active context): a span of ours whose parent is elsewhere links
// to it, so the host's view of the invocation and the cycle's trace find each other.
// ---------------------------------------------------------------------------------------------

const tracer = () => trace.getTracer(METER_NAME);
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The W3C traceparent of a span, or undefined when no SDK records spans. */
export function traceparentOf(span: Span): string | undefined {
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return undefined;
  return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? "01" : "00"}`;
}

/** A link to the span active now (the host's invocation) when it is not in the trace of `parent`. */
function invocationLinks(parent: ReturnType<typeof context.active> | undefined): Link[] {
  const active = trace.getSpanContext(context.active());
  if (!active || !isSpanContextValid(active)) return [];
  const parentTrace = parent ? trace.getSpanContext(parent)?.traceId : undefined;
  return active.traceId === parentTrace ? [] : [{ context: active }];
}

function parentContext(traceparent: string | undefined) {
  const m = traceparent ? TRACEPARENT.exec(traceparent) : null;
  if (!m) return context.active();
  return trace.setSpanContext(context.active(), { traceId: m[1], spanId: m[2], traceFlags: parseInt(m[3], 16), isRemote: true });
}

async function inSpan<T>(span: Span, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
    span.setAttribute(ATTR.errorType, (err as { code?: string }).code ?? (err as Error).name ?? "Error");
    throw err;
  } finally {
    span.end();
  }
}

/**
 * Runs the cycle's check as span `name` inside a new root span `failover.cycle` that starts at the
 * cycle's start. Returns the result and the traceparent the cycle's later activities join.
 */
export async function traceCycle<T>(group: string, cycle: string, name: string, fn: () => Promise<T>): Promise<{ result: T; traceparent?: string }> {
  const started = Date.parse(cycle);
  const attributes = { [ATTR.group]: group, [ATTR.cycleId]: cycle };
  const root = tracer().startSpan("failover.cycle", { root: true, attributes, links: invocationLinks(undefined), ...(Number.isFinite(started) ? { startTime: started } : {}) });
  const traceparent = traceparentOf(root);
  const result = await inSpan(root, () => traceActivity(name, group, traceparent, fn));
  return { result, ...(traceparent ? { traceparent } : {}) };
}

/** Runs one activity (or operation) as span `name`, a child of `traceparent` when given. */
export function traceActivity<T>(name: string, group: string, traceparent: string | undefined, fn: () => Promise<T>): Promise<T> {
  const parent = parentContext(traceparent);
  const span = tracer().startSpan(name, { attributes: { [ATTR.group]: group }, links: invocationLinks(parent) }, parent);
  return context.with(trace.setSpan(context.active(), span), () => inSpan(span, fn));
}

/** Seconds between two ISO times, or undefined when either is missing or malformed. */
export function secondsBetween(fromIso: string | undefined, to: Date): number | undefined {
  if (fromIso === undefined) return undefined;
  const from = Date.parse(fromIso);
  return Number.isFinite(from) ? Math.max(0, (to.getTime() - from) / 1000) : undefined;
}
