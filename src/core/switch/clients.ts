import { AppConfigurationClient } from "@azure/app-configuration";
import { AuthorizationManagementClient } from "@azure/arm-authorization";
import { CdnManagementClient } from "@azure/arm-cdn";
import { DnsManagementClient } from "@azure/arm-dns";
import { TrafficManagerManagementClient } from "@azure/arm-trafficmanager";
import type { TokenCredential } from "@azure/identity";
import { rootCertificates } from "node:tls";
import type { EgressFetch } from "../egress";
import type { ControlPlaneSettings } from "./controlPlane";

/**
 * One place that builds the Azure SDK clients the switch steps use, from the app's credential
 * and the control-plane settings: the ARM endpoint and token audience (public cloud by default,
 * sovereign clouds by setting), the App Configuration audience, and optionally extra CA
 * certificates to trust besides the system roots (a private CA or a TLS-inspecting proxy).
 * The SDKs' own retries are off: a failed call fails the step, and the switch retries from the
 * row on its next cycle, honouring Retry-After, so an activity never sleeps inside an SDK.
 */

export interface SwitchClients {
  readonly settings: ControlPlaneSettings;
  trafficManager(subscriptionId: string): TrafficManagerManagementClient;
  dns(subscriptionId: string): DnsManagementClient;
  cdn(subscriptionId: string): CdnManagementClient;
  authorization(subscriptionId: string): AuthorizationManagementClient;
  appConfiguration(endpoint: string): AppConfigurationClient;
  /** HTTP for the webhook step and the data-path probe, under the app's egress policy. */
  readonly fetch: EgressFetch;
}

export function createSwitchClients(credential: TokenCredential, settings: ControlPlaneSettings, fetch: EgressFetch): SwitchClients {
  const common = {
    retryOptions: { maxRetries: 0 },
    ...(settings.extraCaPem ? { tlsOptions: { ca: [...rootCertificates, settings.extraCaPem] } } : {}),
  };
  const arm = { ...common, endpoint: settings.armEndpoint, credentialScopes: [settings.armAudience] };
  const cache = new Map<string, unknown>();
  function cached<T>(key: string, make: () => T): T {
    if (!cache.has(key)) cache.set(key, make());
    return cache.get(key) as T;
  }
  return {
    settings,
    fetch,
    trafficManager: (sub) => cached(`tm:${sub}`, () => new TrafficManagerManagementClient(credential, sub, arm)),
    dns: (sub) => cached(`dns:${sub}`, () => new DnsManagementClient(credential, sub, arm)),
    cdn: (sub) => cached(`cdn:${sub}`, () => new CdnManagementClient(credential, sub, arm)),
    authorization: (sub) => cached(`auth:${sub}`, () => new AuthorizationManagementClient(credential, sub, arm)),
    appConfiguration: (endpoint) =>
      cached(`ac:${endpoint}`, () => new AppConfigurationClient(endpoint, credential, { ...common, ...(settings.appConfigurationAudience ? { audience: settings.appConfigurationAudience } : {}) })),
  };
}
