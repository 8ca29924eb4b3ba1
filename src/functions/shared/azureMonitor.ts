import type { TokenCredential } from "@azure/identity";
import { rootCertificates } from "node:tls";

/**
 * In Azure: the Azure Monitor OpenTelemetry distro receives the app's metrics and spans
 * (src/core/telemetry.ts) and sends them to Application Insights, authenticated with the app's
 * managed identity. Application Insights has local (key) auth off, so the connection string
 * only says where to send; the token says who sends.
 *
 * Enabled only when APPLICATIONINSIGHTS_CONNECTION_STRING is set (the Bicep sets it); the
 * distro is loaded only then, so the local host and the tests never load it. runtimeDeps.ts
 * calls it when the worker loads the function files, before the first invocation.
 *
 * With the Functions host in OpenTelemetry mode (host.json "telemetryMode"), the documented
 * worker setup: the distro binds each invocation to the host's trace context (its
 * preInvocation hook), the worker tells the host it exports its own telemetry
 * (WorkerOpenTelemetryEnabled), and the worker's logs go out through the OpenTelemetry logs API.
 */

/** The credential APPLICATIONINSIGHTS_AUTHENTICATION_STRING asks for ("ClientId=<id>;Authorization=AAD"), if any. */
export function parseAuthenticationString(value: string | undefined): { aad: boolean; clientId?: string } {
  const fields = new Map<string, string>();
  for (const part of (value ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0) fields.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
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

let enabled = false;

export function enableAzureMonitor(env: NodeJS.ProcessEnv = process.env, overrides: AzureMonitorOverrides = {}): boolean {
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING;
  if (enabled || !connectionString) return enabled;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { useAzureMonitor } = require("@azure/monitor-opentelemetry") as typeof import("@azure/monitor-opentelemetry");
  const { ManagedIdentityCredential } = require("@azure/identity") as typeof import("@azure/identity");
  const auth = parseAuthenticationString(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING);
  if (!auth.aad) console.warn("APPLICATIONINSIGHTS_AUTHENTICATION_STRING does not say Authorization=AAD: telemetry is sent without a token and is refused where local auth is off");
  const credential: TokenCredential | undefined = auth.aad ? (overrides.credential ?? new ManagedIdentityCredential(auth.clientId ? { clientId: auth.clientId } : {})) : undefined;
  useAzureMonitor({
    // Every trace: they are few (one per group per cycle, plus API calls), and the default rate
    // limiter starts empty, so it would drop the first cycles after a cold start.
    samplingRatio: 1,
    tracesPerSecond: 0,
    azureMonitorExporterOptions: {
      connectionString,
      ...(credential ? { credential } : {}),
      ...(overrides.extraCaPem ? { tlsOptions: { ca: [...rootCertificates, overrides.extraCaPem] } } : {}),
    },
  });
  setUpWorker();
  enabled = true;
  return enabled;
}

let workerSetUp = false;

/** Once per process: the worker's capability and its log hook (they outlive a distro restart). */
function setUpWorker(): void {
  if (workerSetUp) return;
  workerSetUp = true;
  const { app } = require("@azure/functions") as typeof import("@azure/functions");
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
  app.hook.log((log) => {
    logs
      .getLogger("failover-orchestrator")
      .emit({ body: log.message, severityNumber: severity[log.level] ?? SeverityNumber.UNSPECIFIED, severityText: log.level, attributes: { "log.category": log.category } });
  });
}

/** Flushes what the distro holds (metrics are otherwise exported every 60 s) and stops it. */
export async function disableAzureMonitor(): Promise<void> {
  if (!enabled) return;
  enabled = false;
  const { shutdownAzureMonitor } = require("@azure/monitor-opentelemetry") as typeof import("@azure/monitor-opentelemetry");
  await shutdownAzureMonitor();
}
