import type { Histogram } from "@opentelemetry/sdk-metrics";
import { call, eventually } from "../../src/local/tools/client";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { ATTR, METRICS } from "../../src/core/telemetry";
import { standInCredential } from "../../src/local/services/azureStandIn/credential";
import { samplePlan, seedSampleTargets } from "../../src/local/services/azureStandIn/sampleTargets";
import { startAzureStandIn } from "../../src/local/services/azureStandIn/server";
import { backendPair } from "../helpers/backends";
import { testEnv } from "../helpers/env";
import { captureTelemetry, points, type CapturedTelemetry } from "../helpers/telemetry";

/**
 * The app's metrics and traces while the local host runs a real failover (Azurite, sample
 * backends, the replay engine), read through the OpenTelemetry SDK's in-memory exporters; and
 * the local host's Prometheus endpoint scraped over HTTP.
 */

const INTERVAL = 1;
const THRESHOLD = 2;
const PROBE_TIMEOUT_MS = 1000;

describe("telemetry of a failover on the local host", () => {
  const backends = backendPair();
  let host: LocalHost | undefined;
  let telemetry: CapturedTelemetry | undefined;

  afterEach(async () => {
    await host?.stop();
    await telemetry?.stop();
    host = undefined;
    telemetry = undefined;
  });

  const settings = () =>
    testEnv({
      PRIMARY_ENDPOINT: backends.primary.url,
      SECONDARY_ENDPOINT: backends.secondary.url,
      CHECK_INTERVAL_SECONDS: String(INTERVAL),
      FAILURE_THRESHOLD: String(THRESHOLD),
      PROBE_TIMEOUT_MS: String(PROBE_TIMEOUT_MS),
      COOLDOWN_SECONDS: "600",
    });

  test("one automatic failover counted, detection within interval x threshold + probe timeout, cycles, probes, gauges; one trace per cycle", async () => {
    telemetry = captureTelemetry();
    host = await startLocalHost({ env: settings(), timers: false });
    const api = (method: string, path: string) => call(host!.url, method, path);
    await api("POST", "/api/init");
    await api("POST", "/api/start");
    await eventually("two healthy cycles", async () => ((await api("GET", "/api/status")).body?.state?.consecutive_successes >= 2 ? true : undefined));

    backends.primary.behave({ kind: "status", status: 503 });
    await eventually("the failover", async () => ((await api("GET", "/api/status")).body?.state?.active_target === "secondary" ? true : undefined));
    await eventually("a cycle after the switch", async () => ((await api("GET", "/api/status")).body?.orchestration?.custom_status?.active_target === "secondary" ? true : undefined));
    const collected = await telemetry.collect();
    const group = { [ATTR.group]: "state" };

    const switches = points(collected.get(METRICS.switches), group);
    expect(switches.map((p) => [p.attributes[ATTR.switchKind], p.attributes[ATTR.switchTrigger], p.value])).toEqual([["failover", "automatic", 1]]);

    const detection = points(collected.get(METRICS.detectionDuration), group);
    expect(detection).toHaveLength(1);
    const measured = detection[0].value as Histogram;
    expect(measured.count).toBe(1);
    // From the first failed check to the switch: at least the (threshold - 1) intervals between the
    // failed checks, at most the documented bound.
    expect(measured.sum).toBeGreaterThanOrEqual((THRESHOLD - 1) * INTERVAL * 0.9);
    expect(measured.sum).toBeLessThanOrEqual(INTERVAL * THRESHOLD + PROBE_TIMEOUT_MS / 1000);

    const cycles = points(collected.get(METRICS.cycles), { ...group, [ATTR.cycleOutcome]: "ok", [ATTR.checkInterval]: INTERVAL });
    expect(cycles).toHaveLength(1);
    expect(cycles[0].value as number).toBeGreaterThanOrEqual(THRESHOLD + 2);

    const failedProbes = points(collected.get(METRICS.probeDuration), { ...group, [ATTR.role]: "primary", [ATTR.probeResult]: "unhealthy" });
    // The 503s, with their status; on a loaded machine a probe may also time out (no status).
    expect(failedProbes.map((p) => [p.attributes[ATTR.errorType], p.attributes[ATTR.httpStatus]])).toContainEqual(["http_status", 503]);
    for (const p of failedProbes) expect(["http_status", "timeout"]).toContain(p.attributes[ATTR.errorType]);
    expect(failedProbes.reduce((n, p) => n + (p.value as Histogram).count, 0)).toBeGreaterThanOrEqual(THRESHOLD);
    expect(points(collected.get(METRICS.probeDuration), { ...group, [ATTR.role]: "secondary", [ATTR.probeResult]: "healthy" }).length).toBe(1);
    expect(points(collected.get(METRICS.activeTarget), { ...group, [ATTR.target]: "secondary" }).map((p) => p.value)).toEqual([1]);
    expect(points(collected.get(METRICS.activeTarget), { ...group, [ATTR.target]: "primary" }).map((p) => p.value)).toEqual([0]);
    expect(points(collected.get(METRICS.consecutiveFailures), group).map((p) => p.value)).toEqual([0]);
    expect(points(collected.get(METRICS.switches), { ...group, [ATTR.switchTrigger]: "manual" })).toEqual([]);

    // Traces: the cycle that switched is one trace, its root failover.cycle, with the check and the switch as children.
    const spans = telemetry.spans();
    const switchSpan = spans.find((s) => s.name === "do_failover");
    expect(switchSpan).toBeDefined();
    const trace = spans.filter((s) => s.spanContext().traceId === switchSpan!.spanContext().traceId);
    const root = trace.find((s) => s.name === "failover.cycle")!;
    expect(root).toBeDefined();
    expect(root.parentSpanContext).toBeUndefined();
    expect(trace.map((s) => s.name).sort()).toEqual(["do_failover", "failover.cycle", "health_check"]);
    for (const child of trace.filter((s) => s !== root)) expect(child.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    expect(root.attributes[ATTR.group]).toBe("state");
    // Every cycle has its own trace.
    const roots = spans.filter((s) => s.name === "failover.cycle");
    expect(new Set(roots.map((s) => s.spanContext().traceId)).size).toBe(roots.length);
    expect(roots.length).toBeGreaterThanOrEqual(THRESHOLD + 2);
  });

  test("the watchdog reports every group's loop on every run: 0 s overdue while it cycles, more than 3 intervals once it is stuck", async () => {
    telemetry = captureTelemetry();
    host = await startLocalHost({ env: settings(), timers: false });
    const api = (method: string, path: string) => call(host!.url, method, path);
    await api("POST", "/api/init");
    await api("POST", "/api/start");
    await eventually("a cycle", async () => ((await api("GET", "/api/status")).body?.orchestration?.last_cycle_utc ? true : undefined));
    const overdue = async () => points((await telemetry!.collect()).get(METRICS.loopOverdue), { [ATTR.group]: "state" }).map((p) => [p.attributes[ATTR.checkInterval], p.value]);

    await host.runTimer("watchdog");
    expect(await overdue()).toEqual([[INTERVAL, 0]]);
    // Its timer lost, and its times moved back 300 s: the watchdog finds it overdue and says by how much.
    host.taskHub.stall("failover-state", { events: true, backdateSeconds: 300 });
    await host.runTimer("watchdog");
    const [[interval, late]] = (await overdue()) as [[number, number]];
    expect(interval).toBe(INTERVAL);
    expect(late).toBeGreaterThan(3 * INTERVAL);
  });
  test("the local host's /metrics endpoint serves the same metrics in the Prometheus text format", async () => {
    host = await startLocalHost({ env: settings(), timers: false, metrics: true });
    expect(host.metricsUrl).toBe(`${host.url}/metrics`);
    await call(host.url, "POST", "/api/init");
    await call(host.url, "POST", "/api/start");
    await eventually("two cycles", async () => ((await call(host!.url, "GET", "/api/status")).body?.state?.consecutive_successes >= 2 ? true : undefined));
    await call(host.url, "POST", "/api/do_failover", { reason: "drill" });

    const response = await fetch(host.metricsUrl!);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toMatch(/^# HELP failover_switches_total /m);
    expect(text).toMatch(/^failover_switches_total\{[^}]*failover_group="state"[^}]*failover_switch_trigger="manual"[^}]*\} 1\b/m);
    expect(text).toMatch(/^failover_cycles_total\{[^}]*failover_group="state"[^}]*\} [2-9]/m);
    expect(text).toMatch(/^failover_probe_duration_bucket\{[^}]*failover_endpoint_role="primary"[^}]*le="\+Inf"\} \d+/m);
    expect(text).toMatch(/^failover_active_target\{[^}]*failover_target="secondary"[^}]*\} 1\b/m);
    expect(text).toMatch(/^failover_cycle_age\{[^}]*failover_group="state"[^}]*\} \d/m);

    // The meter provider belongs to this host: stopping it frees the slot for the next one.
    await host.stop();
    host = await startLocalHost({ env: settings(), timers: false, metrics: true });
    expect((await fetch(host.metricsUrl!)).status).toBe(200);
  });

  test("with a switch plan: the switch_cycle span joins the cycle's trace, and the steps' apply and verify times are recorded through the orchestration", async () => {
    const standIn = await startAzureStandIn();
    try {
      seedSampleTargets(standIn);
      telemetry = captureTelemetry();
      const env = {
        ...settings(),
        SWITCH_PLAN: JSON.stringify(samplePlan(standIn, ["traffic_manager", "dns"])),
        ...standIn.appSettings(),
      };
      host = await startLocalHost({ env, timers: false, credential: standInCredential });
      const api = (method: string, path: string) => call(host!.url, method, path);
      await api("POST", "/api/init");
      await api("POST", "/api/start");
      await eventually("the plan adopted", async () => ((await api("GET", "/api/status")).body?.state?.switch_state === "verified" ? true : undefined));
      backends.primary.behave({ kind: "status", status: 503 });
      await eventually("the switch verified on the secondary", async () => {
        const state = (await api("GET", "/api/status")).body?.state;
        return state?.active_target === "secondary" && state?.switch_state === "verified" ? true : undefined;
      });
      // The row says "verified" while the switch activity is still returning: its span, and the cycle's, end a moment later.
      const cycleSpans = () => {
        const spans = telemetry!.spans();
        const applied = spans.find((s) => s.name === "do_failover");
        return applied ? spans.filter((s) => s.spanContext().traceId === applied.spanContext().traceId) : [];
      };
      await eventually("the cycle's spans ended", async () => (["switch_cycle", "failover.cycle"].every((name) => cycleSpans().some((s) => s.name === name)) ? true : undefined));
      const collected = await telemetry.collect();
      const group = { [ATTR.group]: "state" };
      for (const kind of ["traffic_manager", "dns"]) {
        const step = { ...group, [ATTR.stepKind]: kind };
        expect([kind, points(collected.get(METRICS.switchApplyDuration), step).map((p) => [p.attributes[ATTR.errorType], (p.value as Histogram).count])]).toEqual([kind, [[undefined, 1]]]);
        expect([kind, points(collected.get(METRICS.switchVerifyDuration), step).map((p) => (p.value as Histogram).count)]).toEqual([kind, [1]]);
      }
      expect(points(collected.get(METRICS.switchStepFailures), group)).toEqual([]);

      const cycle = cycleSpans();
      expect(cycle.map((s) => s.name).sort()).toEqual(["do_failover", "failover.cycle", "health_check", "switch_cycle"]);
      const root = cycle.find((s) => s.name === "failover.cycle")!;
      expect(cycle.find((s) => s.name === "switch_cycle")!.parentSpanContext?.spanId).toBe(root.spanContext().spanId);
    } finally {
      await host?.stop();
      host = undefined;
      await standIn.stop();
    }
  });
});
