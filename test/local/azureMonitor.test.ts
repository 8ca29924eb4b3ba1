import type { TokenCredential } from "@azure/identity";
import { ATTR, METRICS, recordCycle, recordSwitch, recordSwitchStep, traceActivity, traceCycle } from "../../src/core/telemetry";
import { disableAzureMonitor, enableAzureMonitor } from "../../src/functions/shared/azureMonitor";
import { registeredHooks, workerCapabilities } from "../../src/local/host/functionsCore";
// The worker loads the app's function files (registering one sets @azure/functions' programming model).
import "../../src/functions/statusHttp";
import { startIngestionStandIn, type IngestionStandIn } from "../helpers/ingestion";

/**
 * The Azure path: the app's telemetry through the Azure Monitor exporters, exactly
 * as src/functions/shared/azureMonitor.ts starts it in Azure, sent to a local stand-in of the
 * ingestion endpoint over HTTPS with a bearer token. The managed identity is not reachable
 * here, so the test hands in a TokenCredential with a static token, and the stand-in's
 * throwaway CA. Shutting the providers down flushes them: no waiting for the 60 s export.
 */

const TOKEN = "static-test-token";
const credential: TokenCredential = { getToken: async () => ({ token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 }) };
const IKEY = "11111111-2222-3333-4444-555555555555";

describe("the Azure Monitor exporters against a local ingestion stand-in", () => {
  let ingestion: IngestionStandIn;
  const saved = { ...process.env };

  beforeAll(async () => {
    ingestion = await startIngestionStandIn();
    // The SDK's own usage statistics go to Microsoft's endpoints, which are not the app's telemetry.
    process.env.APPLICATIONINSIGHTS_STATSBEAT_DISABLED = "true";
    // What a Flex Consumption app's environment says about it: the cloud role Application Insights shows.
    Object.assign(process.env, { WEBSITE_SITE_NAME: "fo-app-test", WEBSITE_SKU: "FlexConsumption", REGION_NAME: "West Europe" });
  });
  afterAll(async () => {
    await disableAzureMonitor();
    await ingestion.close();
    process.env = saved;
  });

  const env = () => ({
    APPLICATIONINSIGHTS_CONNECTION_STRING: `InstrumentationKey=${IKEY};IngestionEndpoint=${ingestion.url}/;LiveEndpoint=${ingestion.url}/`,
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: "ClientId=00000000-0000-0000-0000-0000000000c1;Authorization=AAD",
  });

  test("metrics arrive as MetricData envelopes with our names and the group attribute; spans as requests and dependencies of one trace; every call carries the bearer token", async () => {
    expect(enableAzureMonitor(env(), { credential, extraCaPem: ingestion.caPem })).toBe(true);

    recordCycle("g-azure", "ok", 30);
    recordSwitch("g-azure", { kind: "failover", trigger: "automatic", detection_seconds: 4 });
    recordSwitchStep("g-azure", "dns", { phase: "apply", seconds: 0.2, errorClass: "server_error" });
    const { traceparent } = await traceCycle("g-azure", new Date().toISOString(), "health_check", async () => "ok");
    expect(traceparent).toMatch(/-01$/); // sampled
    await traceActivity("do_failover", "g-azure", traceparent, async () => "switched");
    await disableAzureMonitor();

    const metrics = ingestion.metrics();
    const cycles = metrics.get(METRICS.cycles) ?? [];
    expect(cycles).toEqual([{ value: 1, count: 1, properties: expect.objectContaining({ [ATTR.group]: "g-azure", [ATTR.cycleOutcome]: "ok", [ATTR.checkInterval]: "30" }) }]);
    expect(metrics.get(METRICS.switches)).toEqual([
      expect.objectContaining({ value: 1, properties: expect.objectContaining({ [ATTR.group]: "g-azure", [ATTR.switchKind]: "failover", [ATTR.switchTrigger]: "automatic" }) }),
    ]);
    expect(metrics.get(METRICS.detectionDuration)).toEqual([expect.objectContaining({ value: 4, count: 1, properties: expect.objectContaining({ [ATTR.group]: "g-azure" }) })]);
    expect(metrics.get(METRICS.switchStepFailures)).toEqual([
      expect.objectContaining({ value: 1, properties: expect.objectContaining({ [ATTR.group]: "g-azure", [ATTR.stepKind]: "dns", [ATTR.switchPhase]: "apply", [ATTR.errorType]: "server_error" }) }),
    ]);
    expect(ingestion.envelopes.filter((e) => e.data?.baseType === "MetricData").every((e) => e.iKey === IKEY)).toBe(true);
    // Only the app's own, and the exporter's resource record that goes with each export of spans: no
    // performance counters, standard metrics or live metrics (docs/cost.md, items per instance).
    expect([...metrics.keys()].filter((name) => !name.startsWith("failover."))).toEqual(["_OTELRESOURCE_"]);
    expect(new Set(ingestion.envelopes.map((e) => e.data?.baseType))).toEqual(new Set(["MetricData", "RemoteDependencyData"]));

    const spans = ingestion.envelopes.filter((e) => e.data?.baseType === "RequestData" || e.data?.baseType === "RemoteDependencyData");
    const byName = new Map(spans.map((e) => [e.data!.baseData!.name as string, e]));
    expect([...byName.keys()].sort()).toEqual(expect.arrayContaining(["do_failover", "failover.cycle", "health_check"]));
    const operation = byName.get("failover.cycle")!.tags!["ai.operation.id"];
    expect(operation).toMatch(/^[0-9a-f]{32}$/);
    for (const name of ["health_check", "do_failover"]) expect(byName.get(name)!.tags!["ai.operation.id"]).toBe(operation);
    expect(byName.get("failover.cycle")!.data!.baseData!.properties).toMatchObject({ [ATTR.group]: "g-azure" });
    expect(byName.get("failover.cycle")!.tags!["ai.cloud.role"]).toBe("fo-app-test");

    const tracks = ingestion.requests.filter((r) => r.path.endsWith("/track"));
    expect(tracks.length).toBeGreaterThan(0);
    expect(tracks.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
  }, 30_000);

  // Runs last: asking for the worker's capabilities locks @azure/functions' setup, as the worker's start does.
  test("under the Functions host in OpenTelemetry mode: the worker claims its telemetry, an invocation runs in the host's trace, a span of the cycle's trace links to it, logs go out correlated", async () => {
    ingestion.envelopes.length = 0;
    expect(enableAzureMonitor(env(), { credential, extraCaPem: ingestion.caPem })).toBe(true);
    expect(await workerCapabilities()).toMatchObject({ WorkerOpenTelemetryEnabled: "true" });
    expect(registeredHooks("preInvocation").length).toBeGreaterThan(0);
    expect(registeredHooks("log").length).toBeGreaterThan(0);

    // What the worker does for each invocation: the host's trace context in, the preInvocation hooks, the function, its logs.
    const hostTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    const hostSpan = "00f067aa0ba902b7";
    const { traceparent: cycle } = await traceCycle("g-host", new Date().toISOString(), "health_check", async () => "ok");
    const invocation: Record<string, unknown> = {
      invocationContext: { traceContext: { traceParent: `00-${hostTrace}-${hostSpan}-01`, traceState: "" } },
      functionCallback: async () => {
        await traceActivity("record_check_error", "g-host", undefined, async () => {
          for (const hook of registeredHooks("log")) await hook({ level: "warning", message: "storage slow", category: "user" });
        });
        await traceActivity("do_failover", "g-host", cycle, async () => "switched");
      },
    };
    for (const hook of registeredHooks("preInvocation")) await hook(invocation);
    await (invocation.functionCallback as () => Promise<void>)();
    await disableAzureMonitor();

    const envelope = (baseName: string) => {
      const found = ingestion.envelopes.find((e) => e.data?.baseData?.name === baseName || e.data?.baseData?.message === baseName);
      if (!found) throw new Error(`no envelope "${baseName}" among ${ingestion.envelopes.map((e) => e.data?.baseData?.name ?? e.data?.baseData?.message ?? e.name).join(", ")}`);
      return found;
    };
    const ownTrace = envelope("record_check_error");
    expect(ownTrace.tags).toMatchObject({ "ai.operation.id": hostTrace, "ai.operation.parentId": hostSpan });
    const joined = envelope("do_failover");
    expect(joined.tags!["ai.operation.id"]).toBe(cycle!.split("-")[1]);
    expect(JSON.parse(joined.data!.baseData!.properties["_MS.links"])).toEqual([{ operation_Id: hostTrace, id: hostSpan }]);
    const log = envelope("storage slow");
    expect(log.data!.baseType).toBe("MessageData");
    expect(log.data!.baseData!.severityLevel).toBe("Warning");
    expect(log.tags!["ai.operation.id"]).toBe(hostTrace);
  }, 30_000);
});
