import { SpanStatusCode } from "@opentelemetry/api";
import { DataPointType, type Histogram } from "@opentelemetry/sdk-metrics";
import {
  ATTR,
  METRICS,
  recordCycle,
  recordGroupState,
  recordLoopWatch,
  recordProbe,
  recordSwitch,
  recordSwitchDrift,
  recordSwitchStep,
  secondsBetween,
  traceActivity,
  traceCycle,
} from "../../src/core/telemetry";
import { captureTelemetry, points, type CapturedTelemetry } from "../helpers/telemetry";

describe("telemetry through the OpenTelemetry API, read back through the SDK's in-memory exporters", () => {
  let telemetry: CapturedTelemetry;
  beforeEach(() => {
    telemetry = captureTelemetry();
  });
  afterEach(() => telemetry.stop());

  test("with no SDK registered every call is a no-op, and instruments follow a provider registered later", async () => {
    await telemetry.stop();
    expect(() => recordSwitch("g", { kind: "failover", trigger: "automatic" })).not.toThrow();
    telemetry = captureTelemetry();
    recordSwitch("g", { kind: "failover", trigger: "automatic" });
    const collected = await telemetry.collect();
    expect(points(collected.get(METRICS.switches)).map((p) => p.value)).toEqual([1]);
  });

  test("probes: a seconds histogram by group, role and result with error.type and the HTTP status; health, active target and streak gauges", async () => {
    recordProbe("g1", "primary", { healthy: true, latency_ms: 40, status_code: 200 });
    recordProbe("g1", "primary", { healthy: false, latency_ms: 1000, error_class: "timeout" });
    recordProbe("g1", "secondary", { healthy: true, latency_ms: 10, status_code: 204 });
    recordGroupState("g1", { active_target: "primary", consecutive_failures: 1 });
    const collected = await telemetry.collect();

    const duration = collected.get(METRICS.probeDuration)!;
    expect(duration.descriptor.unit).toBe("s");
    expect(duration.dataPointType).toBe(DataPointType.HISTOGRAM);
    const healthy = points(duration, { [ATTR.group]: "g1", [ATTR.role]: "primary", [ATTR.probeResult]: "healthy" });
    expect(healthy).toHaveLength(1);
    expect(healthy[0].attributes[ATTR.httpStatus]).toBe(200);
    expect((healthy[0].value as Histogram).sum).toBeCloseTo(0.04);
    const failed = points(duration, { [ATTR.role]: "primary", [ATTR.probeResult]: "unhealthy" });
    expect(failed[0].attributes[ATTR.errorType]).toBe("timeout");
    expect((failed[0].value as Histogram).sum).toBeCloseTo(1);

    expect(points(collected.get(METRICS.endpointHealthy), { [ATTR.role]: "primary" }).map((p) => p.value)).toEqual([0]);
    expect(points(collected.get(METRICS.endpointHealthy), { [ATTR.role]: "secondary" }).map((p) => p.value)).toEqual([1]);
    expect(points(collected.get(METRICS.activeTarget), { [ATTR.target]: "primary" }).map((p) => p.value)).toEqual([1]);
    expect(points(collected.get(METRICS.activeTarget), { [ATTR.target]: "secondary" }).map((p) => p.value)).toEqual([0]);
    expect(points(collected.get(METRICS.consecutiveFailures), { [ATTR.group]: "g1" }).map((p) => p.value)).toEqual([1]);
  });

  test("switches by kind and trigger, detection seconds, cycles with their interval, and the age of the last cycle", async () => {
    recordSwitch("g1", { kind: "failover", trigger: "automatic", detection_seconds: 4.5 });
    recordSwitch("g1", { kind: "failback", trigger: "forced" });
    recordCycle("g1", "ok", 30, new Date(Date.now() - 12_000));
    recordCycle("g1", "error", 30, new Date(Date.now() - 2_000));
    const collected = await telemetry.collect();

    expect(points(collected.get(METRICS.switches), { [ATTR.switchKind]: "failover", [ATTR.switchTrigger]: "automatic" }).map((p) => p.value)).toEqual([1]);
    expect(points(collected.get(METRICS.switches), { [ATTR.switchKind]: "failback", [ATTR.switchTrigger]: "forced" }).map((p) => p.value)).toEqual([1]);
    const detection = points(collected.get(METRICS.detectionDuration), { [ATTR.group]: "g1" });
    expect(detection.map((p) => [(p.value as Histogram).count, (p.value as Histogram).sum])).toEqual([[1, 4.5]]);
    expect(points(collected.get(METRICS.cycles), { [ATTR.cycleOutcome]: "ok", [ATTR.checkInterval]: 30 }).map((p) => p.value)).toEqual([1]);
    expect(points(collected.get(METRICS.cycles), { [ATTR.cycleOutcome]: "error" }).map((p) => p.value)).toEqual([1]);
    const age = points(collected.get(METRICS.cycleAge), { [ATTR.group]: "g1" }).map((p) => p.value as number);
    expect(age).toHaveLength(1);
    expect(age[0]).toBeGreaterThanOrEqual(2);
    expect(age[0]).toBeLessThan(10);
  });

  test("the watchdog's report of a loop: its overdue seconds with the group and the interval, one point per group", async () => {
    recordLoopWatch("g1", 0, 30);
    recordLoopWatch("g2", 412, 60);
    const collected = await telemetry.collect();
    const overdue = (group: string) => points(collected.get(METRICS.loopOverdue), { [ATTR.group]: group }).map((p) => [p.attributes[ATTR.checkInterval], p.value]);
    expect(overdue("g1")).toEqual([[30, 0]]);
    expect(overdue("g2")).toEqual([[60, 412]]);
  });

  test("switch-plan steps: apply and verify seconds by step kind; failures by phase and error class, also on the failed apply's duration; drift", async () => {
    recordSwitchStep("g1", "traffic_manager", { phase: "apply", seconds: 1.5 });
    recordSwitchStep("g1", "traffic_manager", { phase: "verify", seconds: 20 });
    recordSwitchStep("g1", "dns", { phase: "apply", seconds: 0.25, errorClass: "server_error" });
    recordSwitchStep("g1", "dns", { phase: "verify", errorClass: "mismatch" });
    recordSwitchDrift("g1", "front_door");
    const collected = await telemetry.collect();
    const sums = (name: string, match: Record<string, unknown>) => points(collected.get(name), match).map((p) => [p.attributes[ATTR.errorType], (p.value as Histogram).sum]);
    expect(sums(METRICS.switchApplyDuration, { [ATTR.stepKind]: "traffic_manager" })).toEqual([[undefined, 1.5]]);
    expect(sums(METRICS.switchVerifyDuration, { [ATTR.stepKind]: "traffic_manager" })).toEqual([[undefined, 20]]);
    expect(sums(METRICS.switchApplyDuration, { [ATTR.stepKind]: "dns" })).toEqual([["server_error", 0.25]]);
    expect(points(collected.get(METRICS.switchVerifyDuration), { [ATTR.stepKind]: "dns" })).toEqual([]);
    const failures = points(collected.get(METRICS.switchStepFailures), { [ATTR.group]: "g1" }).map((p) => [
      p.attributes[ATTR.stepKind],
      p.attributes[ATTR.switchPhase],
      p.attributes[ATTR.errorType],
      p.value,
    ]);
    expect(failures.sort()).toEqual([
      ["dns", "apply", "server_error", 1],
      ["dns", "verify", "mismatch", 1],
    ]);
    expect(points(collected.get(METRICS.switchDrift), { [ATTR.stepKind]: "front_door" }).map((p) => p.value)).toEqual([1]);
  });

  test("one trace per cycle: the root starts at the cycle's start, the check is its child, a later activity joins by traceparent", async () => {
    const cycleStart = new Date(Date.now() - 5_000).toISOString();
    const { result, traceparent } = await traceCycle("g1", cycleStart, "health_check", async () => 42);
    expect(result).toBe(42);
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    await traceActivity("do_failover", "g1", traceparent, async () => "switched");
    await expect(traceActivity("record_check_error", "g1", "not-a-traceparent", async () => Promise.reject(Object.assign(new Error("table down"), { code: "storage_unavailable" })))).rejects.toThrow(
      "table down",
    );

    const spans = telemetry.spans();
    const byName = new Map(spans.map((s) => [s.name, s]));
    const root = byName.get("failover.cycle")!;
    const check = byName.get("health_check")!;
    const failover = byName.get("do_failover")!;
    expect(root.parentSpanContext).toBeUndefined();
    expect(root.attributes).toMatchObject({ [ATTR.group]: "g1", [ATTR.cycleId]: cycleStart });
    expect(root.startTime[0] * 1000 + root.startTime[1] / 1e6).toBeCloseTo(Date.parse(cycleStart), -1);
    expect(check.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(check.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(failover.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(failover.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    const failed = byName.get("record_check_error")!;
    expect(failed.spanContext().traceId).not.toBe(root.spanContext().traceId); // a bad traceparent starts a new trace
    expect(failed.status).toMatchObject({ code: SpanStatusCode.ERROR, message: "table down" });
    expect(failed.attributes[ATTR.errorType]).toBe("storage_unavailable");
  });

  test("secondsBetween: seconds from an ISO time, undefined for a missing or malformed one", () => {
    expect(secondsBetween("2026-01-01T00:00:00Z", new Date("2026-01-01T00:00:04.500Z"))).toBe(4.5);
    expect(secondsBetween(undefined, new Date())).toBeUndefined();
    expect(secondsBetween("yesterday", new Date())).toBeUndefined();
  });
});
