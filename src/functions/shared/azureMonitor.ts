import type { TokenCredential } from "@azure/identity";

/**
 * In Azure: the Azure Monitor OpenTelemetry distro receives the app's metrics and spans
 * (src/core/telemetry.ts) and sends them to Application Insights, authenticated with the app's
 * managed identity. Application Insights has local (key) auth off, so the connection string
 * only says where to send; the token says who sends.
 *
 * Enabled only when APPLICATIONINSIGHTS_CONNECTION_STRING is set (the Bicep sets it); the
 * distro is loaded only then, so the local host and the tests never load it. runtimeDeps.ts
 * calls it when the worker loads the function files, before the first invocation.
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

let enabled = false;

export function enableAzureMonitor(env: NodeJS.ProcessEnv = process.env): boolean {
  const connectionString = env.APPLICATIONINSIGHTS_CONNECTION_STRING;
  if (enabled || !connectionString) return enabled;
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { useAzureMonitor } = require("@azure/monitor-opentelemetry") as typeof import("@azure/monitor-opentelemetry");
  const { ManagedIdentityCredential } = require("@azure/identity") as typeof import("@azure/identity");
  const auth = parseAuthenticationString(env.APPLICATIONINSIGHTS_AUTHENTICATION_STRING);
  if (!auth.aad) console.warn("APPLICATIONINSIGHTS_AUTHENTICATION_STRING does not say Authorization=AAD: telemetry is sent without a token and is refused where local auth is off");
  const credential: TokenCredential | undefined = auth.aad ? new ManagedIdentityCredential(auth.clientId ? { clientId: auth.clientId } : {}) : undefined;
  useAzureMonitor({ azureMonitorExporterOptions: { connectionString, ...(credential ? { credential } : {}) } });
  enabled = true;
  return enabled;
}
