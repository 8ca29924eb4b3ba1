import { AppConfigurationClient } from "@azure/app-configuration";
import { CdnManagementClient } from "@azure/arm-cdn";
import { DnsManagementClient } from "@azure/arm-dns";
import { TrafficManagerManagementClient } from "@azure/arm-trafficmanager";
import { ServiceClient } from "@azure/core-client";
import { createPipelineRequest } from "@azure/core-rest-pipeline";
import type { TokenCredential } from "@azure/identity";
import { rootCertificates } from "node:tls";
import { egressHttpsAgent, type EgressFetch, type EgressPolicy } from "../egress";
import { appConfigurationRefusal, type ControlPlaneSettings } from "./controlPlane";
import { StepError, classifyStatus, parseRetryAfter } from "./stepErrors";

/**
 * One place that builds the Azure SDK clients the switch steps use, from the app's credential
 * and the control-plane settings: the ARM endpoint and token audience (public cloud by default,
 * sovereign clouds by setting), the App Configuration audience, and optionally extra CA
 * certificates to trust besides the system roots (a private CA or a TLS-inspecting proxy).
 * Every client connects through the egress policy (egressHttpsAgent): no token is sent to a
 * link-local, metadata or refused address. An App Configuration client is made only for a host
 * of the configured cloud or of APP_CONFIGURATION_ALLOWED_HOSTS.
 * The SDKs' own retries are off: a failed call fails the step, and the switch retries from the
 * row on its next cycle, honouring Retry-After, so an activity never sleeps inside an SDK.
 */

export interface SwitchClients {
  readonly settings: ControlPlaneSettings;
  trafficManager(subscriptionId: string): TrafficManagerManagementClient;
  dns(subscriptionId: string): DnsManagementClient;
  cdn(subscriptionId: string): CdnManagementClient;
  /** Throws a StepError (refused) for a host that is not an App Configuration store of this cloud or allowed by setting. */
  appConfiguration(endpoint: string): AppConfigurationClient;
  /** A GET of an ARM path (with its query), answered as JSON; a non-2xx answer throws a classified StepError. */
  armGet(pathAndQuery: string, abortSignal: AbortSignal): Promise<unknown>;
  /** HTTP for the webhook step and the data-path probe, under the app's egress policy. */
  readonly fetch: EgressFetch;
}

export function createSwitchClients(credential: TokenCredential, settings: ControlPlaneSettings, fetch: EgressFetch, egress: EgressPolicy): SwitchClients {
  const agent = egressHttpsAgent(egress, settings.extraCaPem ? [...rootCertificates, settings.extraCaPem] : undefined);
  const common = { retryOptions: { maxRetries: 0 }, agent };
  const arm = { ...common, endpoint: settings.armEndpoint, credentialScopes: [settings.armAudience] };
  const cache = new Map<string, unknown>();
  function cached<T>(key: string, make: () => T): T {
    if (!cache.has(key)) cache.set(key, make());
    return cache.get(key) as T;
  }
  const armClient = () => cached("arm", () => new ServiceClient({ ...arm, credential }));
  return {
    settings,
    fetch,
    trafficManager: (sub) => cached(`tm:${sub}`, () => new TrafficManagerManagementClient(credential, sub, arm)),
    dns: (sub) => cached(`dns:${sub}`, () => new DnsManagementClient(credential, sub, arm)),
    cdn: (sub) => cached(`cdn:${sub}`, () => new CdnManagementClient(credential, sub, arm)),
    appConfiguration: (endpoint) => {
      const refusal = appConfigurationRefusal(endpoint, settings.appConfigurationHosts);
      if (refusal) throw new StepError("refused", `app_configuration endpoint ${endpoint.slice(0, 200)}: ${refusal}`);
      return cached(`ac:${endpoint}`, () => new AppConfigurationClient(endpoint, credential, { ...common, ...(settings.appConfigurationAudience ? { audience: settings.appConfigurationAudience } : {}) }));
    },
    async armGet(pathAndQuery, abortSignal) {
      const url = `${settings.armEndpoint}${pathAndQuery}`;
      const response = await armClient().sendRequest(createPipelineRequest({ url, method: "GET", abortSignal }));
      const text = response.bodyAsText ?? "";
      if (response.status >= 200 && response.status < 300) return text ? (JSON.parse(text) as unknown) : undefined;
      let code: string | undefined;
      let message = text.slice(0, 500);
      try {
        const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
        code = body.error?.code;
        message = body.error?.message ?? message;
      } catch {
        // Not JSON: the text as it came.
      }
      throw new StepError(classifyStatus(response.status, code), `HTTP ${response.status}${code ? ` ${code}` : ""}: ${message}`, parseRetryAfter(response.headers.get("retry-after"), Date.now()), { status: response.status, ...(code ? { code } : {}) });
    },
  };
}
