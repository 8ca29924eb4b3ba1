import type { TokenCredential } from "@azure/identity";
import { rootCertificates } from "node:tls";
import { connectionStringFields } from "../../core/connectionString";

/**
 * In Azure: the app's metrics, spans and logs (src/core/telemetry.ts and the worker's log hook)
 * go to Application Insights through the Azure Monitor exporters
 * (@azure/monitor-opentelemetry-exporter) under the OpenTelemetry SDK's tracer, meter and logger
 * providers, authenticated with the app's managed identity. Application Insights has local (key)
 * auth off, so the connection string only says where to send; the token says who sends.
 *
 * Not the Azure Monitor distro (@azure/monitor-opentelemetry): it loads the whole OpenTelemetry
 * Node SDK, its OTLP exporters and instrumentations this app does not use, about 0.6 s of every
 * cold start (npm run bench -- cold). What it gave that this setup leaves out: automatic
 * dependency spans for outbound HTTP and Azure SDK calls (the app's own spans and metrics cover
 * its probes and switch steps; the host reports invocations), live metrics and performance
 * counters (the Flex Consumption plan's platform metrics show CPU and memory).
 *
 * Enabled only when APPLICATIONINSIGHTS_CONNECTION_STRING is set (the Bicep sets it); the
 * exporters are loaded only then, so the local host and the tests never load them. runtimeDeps.ts
 * calls it when the worker loads the function files, before the first invocation.
 *
 * With the Functions host in OpenTelemetry mode (host.json "telemetryMode"), the documented
 * worker setup: each invocation runs in the host's trace context (a preInvocation hook), the
 * worker tells the host it exports its own telemetry (WorkerOpenTelemetryEnabled), and the
 * worker's logs go out through the OpenTelemetry logs API.
 */

/** The credential APPLICATIONINSIGHTS_AUTHENTICATION_STRING asks for ("ClientId=<id>;Authorization=AAD"), if any. */
export function parseAuthenticationString(value: string | undefined): { aad: boolean; clientId?: string } {
  const fields = connectionStringFields(value);
  const clientId = fields.get("clientid");
  return { aad: fields.get("authorization")?.toUpperCase() === "AAD", ...(clientId ? { clientId } : {}) };
}

/** For tests: what replaces the managed identity and the public CAs. Azure passes none. */
export interface AzureMonitorOverrides {
  /** Used in place of the managed identity when the authentication string says AAD. */
  readonly credential?: TokenCredential;
  /** A CA the exporter trusts besides the public ones (a local ingestion stand-in's). */
  readonly extraCaPem?: string;
}

/** What enableAzureMonitor() started: flushed and stopped by disableAzureMonitor(). */
interface Providers {
  readonly shutdown: () => Promise<void>;
}

let providers: Providers | undefined;

export function enableAzureMonitor(env: NodeJS.ProcessEnv = process.env, overrides: AzureMonitorOverrides = {}): boolean {
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING;
  if (providers || !connectionString) return providers !== undefined;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const exporters = require("@azure/monitor-opentelemetry-exporter") as typeof import("@azure/monitor-opentelemetry-exporter");
  const { ManagedIdentityCredential } = require("@azure/identity") as typeof import("@azure/identity");
  const api = require("@opentelemetry/api") as typeof import("@opentelemetry/api");
  const { logs } = require("@opentelemetry/api-logs") as typeof import("@opentelemetry/api-logs");
  const { AsyncLocalStorageContextManager } = require("@opentelemetry/context-async-hooks") as typeof import("@opentelemetry/context-async-hooks");
  const { W3CTraceContextPropagator } = require("@opentelemetry/core") as typeof import("@opentelemetry/core");
  const { detectResources } = require("@opentelemetry/resources") as typeof import("@opentelemetry/resources");
  const { azureFunctionsDetector } = require("@opentelemetry/resource-detector-azure") as typeof import("@opentelemetry/resource-detector-azure");
  const { BasicTracerProvider, BatchSpanProcessor, AlwaysOnSampler } = require("@opentelemetry/sdk-trace-base") as typeof import("@opentelemetry/sdk-trace-base");
  const { MeterProvider, PeriodicExportingMetricReader } = require("@opentelemetry/sdk-metrics") as typeof import("@opentelemetry/sdk-metrics");
  const { LoggerProvider, BatchLogRecordProcessor } = require("@opentelemetry/sdk-logs") as typeof import("@opentelemetry/sdk-logs");

  const auth = parseAuthenticationString(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING);
  if (!auth.aad) console.warn("APPLICATIONINSIGHTS_AUTHENTICATION_STRING does not say Authorization=AAD: telemetry is sent without a token and is refused where local auth is off");
  const credential: TokenCredential | undefined = auth.aad ? (overrides.credential ?? new ManagedIdentityCredential(auth.clientId ? { clientId: auth.clientId } : {})) : undefined;
  const options = {
    connectionString,
    ...(credential ? { credential } : {}),
    ...(overrides.extraCaPem ? { tlsOptions: { ca: [...rootCertificates, overrides.extraCaPem] } } : {}),
  };
  // The app's name, region and instance as Application Insights' cloud role (WEBSITE_SITE_NAME and friends).
  const resource = detectResources({ detectors: [azureFunctionsDetector] });

  const contextManager = new AsyncLocalStorageContextManager().enable();
  api.context.setGlobalContextManager(contextManager);
  api.propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  // Every trace: they are few (one per group per cycle, plus API calls), whatever the host's sampling flag.
  const tracerProvider = new BasicTracerProvider({ resource, sampler: new AlwaysOnSampler(), spanProcessors: [new BatchSpanProcessor(new exporters.AzureMonitorTraceExporter(options))] });
  api.trace.setGlobalTracerProvider(tracerProvider);
  // Exported every 60 s; counters and histograms as deltas (the exporter's choice).
  const meterProvider = new MeterProvider({ resource, readers: [new PeriodicExportingMetricReader({ exporter: new exporters.AzureMonitorMetricExporter(options), exportIntervalMillis: 60_000 })] });
  api.metrics.setGlobalMeterProvider(meterProvider);
  const loggerProvider = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: new exporters.AzureMonitorLogExporter(options) })] });
  logs.setGlobalLoggerProvider(loggerProvider);

  providers = {
    shutdown: async () => {
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown(), loggerProvider.shutdown()]);
      api.trace.disable();
      api.metrics.disable();
      logs.disable();
      api.propagation.disable();
      api.context.disable();
    },
  };
  setUpWorker();
  return true;
}

let workerSetUp = false;

/** Once per process: the worker's capability, its invocation hook and its log hook (they outlive a restart of the providers). */
function setUpWorker(): void {
  if (workerSetUp) return;
  workerSetUp = true;
  const { app } = require("@azure/functions") as typeof import("@azure/functions");
  const api = require("@opentelemetry/api") as typeof import("@opentelemetry/api");
  const { logs, SeverityNumber } = require("@opentelemetry/api-logs") as typeof import("@opentelemetry/api-logs");
  const severity: Record<string, number> = {
    trace: SeverityNumber.TRACE,
    debug: SeverityNumber.DEBUG,
    information: SeverityNumber.INFO,
    warning: SeverityNumber.WARN,
    error: SeverityNumber.ERROR,
    critical: SeverityNumber.FATAL,
  };
  app.setup({ capabilities: { WorkerOpenTelemetryEnabled: true } });
  // The invocation runs in the host's trace: its spans and logs are children of the host's invocation span.
  app.hook.preInvocation((invocation) => {
    const carrier = invocation.invocationContext.traceContext;
    if (!carrier?.traceParent) return;
    const hostContext = api.propagation.extract(api.context.active(), { traceparent: carrier.traceParent, tracestate: carrier.traceState ?? "" });
    invocation.functionHandler = api.context.bind(hostContext, invocation.functionHandler);
  });
  app.hook.log((log) => {
    logs
      .getLogger("failover-orchestrator")
      .emit({ body: log.message, severityNumber: severity[log.level] ?? SeverityNumber.UNSPECIFIED, severityText: log.level, attributes: { "log.category": log.category } });
  });
}

/** Flushes what the providers hold (metrics are otherwise exported every 60 s) and stops them. */
export async function disableAzureMonitor(): Promise<void> {
  const running = providers;
  if (!running) return;
  providers = undefined;
  await running.shutdown();
}
