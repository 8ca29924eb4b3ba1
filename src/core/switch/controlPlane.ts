/** Control-plane settings of the switch steps (no SDK import here, so reading settings stays cheap). */

export interface ControlPlaneSettings {
  readonly armEndpoint: string;
  readonly armAudience: string;
  readonly appConfigurationAudience?: string;
  /** PEM text of CA certificates trusted in addition to the system roots. */
  readonly extraCaPem?: string;
  /** How often a long-running operation (a Front Door origin update) is polled, in ms. */
  readonly pollIntervalMs: number;
  /** Deadline of one call to ARM or App Configuration, in ms (SWITCH_CALL_TIMEOUT_SECONDS). */
  readonly callTimeoutMs: number;
  /** Budget of one switch cycle, in ms (SWITCH_CYCLE_BUDGET_SECONDS): no call starts after it. */
  readonly cycleBudgetMs: number;
  /**
   * Hosts an `app_configuration` step may name: the App Configuration host suffixes of the
   * cloud the ARM endpoint belongs to, plus APP_CONFIGURATION_ALLOWED_HOSTS. The app's token
   * is sent to no other host.
   */
  readonly appConfigurationHosts: readonly string[];
}

export const PUBLIC_CLOUD: Pick<ControlPlaneSettings, "armEndpoint" | "armAudience"> = {
  armEndpoint: "https://management.azure.com",
  armAudience: "https://management.azure.com/.default",
};

/** App Configuration host suffixes per cloud, by ARM host (the public, US Government and China clouds). */
const APP_CONFIGURATION_SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  "management.azure.com": [".azconfig.io"],
  "management.usgovcloudapi.net": [".azconfig.azure.us", ".appconfig.azure.us"],
  "management.chinacloudapi.cn": [".azconfig.azure.cn", ".appconfig.azure.cn"],
};

/** The App Configuration host suffixes of the cloud whose ARM endpoint this is; none for an unknown cloud. */
export function appConfigurationSuffixes(armEndpoint: string): readonly string[] {
  return APP_CONFIGURATION_SUFFIXES[new URL(armEndpoint).host.toLowerCase()] ?? [];
}

/**
 * Why an `app_configuration` endpoint may not be used, or undefined when it may: its host must
 * end with one of the allowed suffixes (entries starting with a dot) or equal an allowed
 * `host` or `host:port`.
 */
export function appConfigurationRefusal(endpoint: string, allowed: readonly string[]): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return "is not a URL";
  }
  if (url.protocol !== "https:") return "must be an https:// URL";
  if (url.username || url.password || url.search || url.hash || (url.pathname !== "/" && url.pathname !== ""))
    return "must be the store's endpoint alone (https://<store>.azconfig.io), without a path, query or credentials";
  const host = url.hostname.toLowerCase();
  const hostPort = url.port ? `${host}:${url.port}` : host;
  const ok = allowed.some((entry) => {
    const e = entry.toLowerCase();
    return e.startsWith(".") ? !url.port && host.endsWith(e) && host.length > e.length : e === hostPort || (!url.port && e === host);
  });
  if (ok) return undefined;
  const shown = allowed.length > 0 ? allowed.map((a) => (a.startsWith(".") ? `*${a}` : a)).join(", ") : "none for this ARM endpoint";
  return `host ${hostPort} is not an App Configuration store of this cloud (allowed: ${shown}; add it to APP_CONFIGURATION_ALLOWED_HOSTS to allow it)`;
}
