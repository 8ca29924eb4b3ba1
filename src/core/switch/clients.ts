import type { AppConfigurationClient } from "@azure/app-configuration";
import type { CdnManagementClient } from "@azure/arm-cdn";
import type { DnsManagementClient } from "@azure/arm-dns";
import type { CosmosDBManagementClient } from "@azure/arm-cosmosdb";
import type { SqlManagementClient } from "@azure/arm-sql";
import type { StorageManagementClient } from "@azure/arm-storage";
import type { TrafficManagerManagementClient } from "@azure/arm-trafficmanager";
import type { ServiceClient } from "@azure/core-client";
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
 * Each SDK is loaded when its first client is made, not when the app starts: a function that
 * never switches traffic (most of them, on every cold start) never loads one.
 */

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, see above */
const sdk = {
  trafficManager: () => (require("@azure/arm-trafficmanager") as typeof import("@azure/arm-trafficmanager")).TrafficManagerManagementClient,
  dns: () => (require("@azure/arm-dns") as typeof import("@azure/arm-dns")).DnsManagementClient,
  cdn: () => (require("@azure/arm-cdn") as typeof import("@azure/arm-cdn")).CdnManagementClient,
  sql: () => (require("@azure/arm-sql") as typeof import("@azure/arm-sql")).SqlManagementClient,
  cosmos: () => (require("@azure/arm-cosmosdb") as typeof import("@azure/arm-cosmosdb")).CosmosDBManagementClient,
  storage: () => (require("@azure/arm-storage") as typeof import("@azure/arm-storage")).StorageManagementClient,
  appConfiguration: () => (require("@azure/app-configuration") as typeof import("@azure/app-configuration")).AppConfigurationClient,
  serviceClient: () => (require("@azure/core-client") as typeof import("@azure/core-client")).ServiceClient,
  pipelineRequest: () => (require("@azure/core-rest-pipeline") as typeof import("@azure/core-rest-pipeline")).createPipelineRequest,
};
/* eslint-enable @typescript-eslint/no-require-imports */

export interface SwitchClients {
  readonly settings: ControlPlaneSettings;
  trafficManager(subscriptionId: string): TrafficManagerManagementClient;
  dns(subscriptionId: string): DnsManagementClient;
  cdn(subscriptionId: string): CdnManagementClient;
  sql(subscriptionId: string): SqlManagementClient;
  cosmos(subscriptionId: string): CosmosDBManagementClient;
  storage(subscriptionId: string): StorageManagementClient;
  /** Throws a StepError (refused) for a host that is not an App Configuration store of this cloud or allowed by setting. */
  appConfiguration(endpoint: string): AppConfigurationClient;
  /** A GET of an ARM path (with its query), answered as JSON; a non-2xx answer throws a classified StepError. */
  armGet(pathAndQuery: string, abortSignal: AbortSignal): Promise<unknown>;
  /** A POST of an ARM action with no body (one an SDK cannot send as the API allows it), answered with its status; a non-2xx answer throws a classified StepError. */
  armPost(pathAndQuery: string, abortSignal: AbortSignal): Promise<number>;
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
  const armClient = () => cached<ServiceClient>("arm", () => new (sdk.serviceClient())({ ...arm, credential }));
  return {
    settings,
    fetch,
    trafficManager: (sub) => cached<TrafficManagerManagementClient>(`tm:${sub}`, () => new (sdk.trafficManager())(credential, sub, arm)),
    dns: (sub) => cached<DnsManagementClient>(`dns:${sub}`, () => new (sdk.dns())(credential, sub, arm)),
    cdn: (sub) => cached<CdnManagementClient>(`cdn:${sub}`, () => new (sdk.cdn())(credential, sub, arm)),
    sql: (sub) => cached<SqlManagementClient>(`sql:${sub}`, () => new (sdk.sql())(credential, sub, arm)),
    cosmos: (sub) => cached<CosmosDBManagementClient>(`cosmos:${sub}`, () => new (sdk.cosmos())(credential, sub, arm)),
    storage: (sub) => cached<StorageManagementClient>(`storage:${sub}`, () => new (sdk.storage())(credential, sub, arm)),
    appConfiguration: (endpoint) => {
      const refusal = appConfigurationRefusal(endpoint, settings.appConfigurationHosts);
      if (refusal) throw new StepError("refused", `app_configuration endpoint ${endpoint.slice(0, 200)}: ${refusal}`);
      return cached<AppConfigurationClient>(
        `ac:${endpoint}`,
        () => new (sdk.appConfiguration())(endpoint, credential, { ...common, ...(settings.appConfigurationAudience ? { audience: settings.appConfigurationAudience } : {}) }),
      );
    },
    async armGet(pathAndQuery, abortSignal) {
      const response = await armRequest("GET", pathAndQuery, abortSignal);
      const text = response.bodyAsText ?? "";
      return text ? (JSON.parse(text) as unknown) : undefined;
    },
    async armPost(pathAndQuery, abortSignal) {
      return (await armRequest("POST", pathAndQuery, abortSignal)).status;
    },
  };

  /** One ARM request through the app's pipeline (its credential, egress and CA); a non-2xx answer throws a classified StepError. */
  async function armRequest(method: "GET" | "POST", pathAndQuery: string, abortSignal: AbortSignal) {
    const url = `${settings.armEndpoint}${pathAndQuery}`;
    const response = await armClient().sendRequest(sdk.pipelineRequest()({ url, method, abortSignal }));
    const text = response.bodyAsText ?? "";
    if (response.status >= 200 && response.status < 300) return response;
    let code: string | undefined;
    let message = text.slice(0, 500);
    try {
      const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
      code = body.error?.code;
      message = body.error?.message ?? message;
    } catch {
      // Not JSON: the text as it came.
    }
    throw new StepError(classifyStatus(response.status, code), `HTTP ${response.status}${code ? ` ${code}` : ""}: ${message}`, parseRetryAfter(response.headers.get("retry-after"), Date.now()), {
      status: response.status,
      ...(code ? { code } : {}),
    });
  }
}
