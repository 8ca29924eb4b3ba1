import { z } from "zod";
import { FailoverError } from "./errors";
import { PUBLIC_CLOUD, appConfigurationSuffixes, type ControlPlaneSettings } from "./switch/controlPlane";
import { egressPolicyFromSettings, type EgressPolicy } from "./egress";
import { platformAuthEnabled } from "./identity";
import { POLICY_KNOBS, boolean, integer, policySchema, regionSchema, settingOf, type Policy, type PolicyField } from "./knobs";
import { registerSecrets } from "./redact";
import { WebhookSignatureError, secretKey } from "./webhookSignature";
import { zodIssues, type ValidationIssue } from "./validation";
import { vantageAgentsSchema, type VantageAgent } from "./vantage";

/**
 * Application configuration, read once from app settings (environment variables) and
 * validated as a whole: every bad or missing setting is named in one error.
 */

export const DEFAULT_GROUP = "state";
export const STORAGE_SETTING = "AzureWebJobsStorage";

export type StorageConfig = { readonly kind: "connection_string"; readonly connectionString: string } | { readonly kind: "identity"; readonly tableServiceUri: string; readonly clientId?: string };

export interface AppConfig {
  readonly storage: StorageConfig;
  readonly tableName: string;
  readonly auditTableName: string;
  readonly defaultGroup: string;
  /** Endpoints used when the default group's row is created; absent when not configured. */
  readonly primaryEndpoint?: string;
  readonly secondaryEndpoint?: string;
  /** Regions written on the default group's row when it is created (PRIMARY_REGION, SECONDARY_REGION). */
  readonly primaryRegion?: string;
  readonly secondaryRegion?: string;
  /** Region of the state storage account (STATE_STORAGE_REGION), for the topology check. */
  readonly stateStorageRegion?: string;
  readonly notifyWebhookUrl?: string;
  /** Standard Webhooks secret the notifications are signed with; absent: sent unsigned (with their webhook-id). */
  readonly notifyWebhookSecret?: string;
  /** Defaults for every group; a group's row may override each knob. */
  readonly policy: Policy;
  /** The default group's switch plan (JSON), parsed when used so a bad plan never stops the loop. */
  readonly switchPlan?: string;
  readonly controlPlane: ControlPlaneSettings;
  /** Bounds on what callers may ask for (LIMIT_SETTINGS). */
  readonly limits: Limits;
  /** Where probes and webhooks may connect (EGRESS_ALLOW_PRIVATE and the app's own host). */
  readonly egress: EgressPolicy;
  /** The platform authenticates callers (App Service Authentication, WEBSITE_AUTH_ENABLED). */
  readonly authEnabled: boolean;
  /** The vantage agents a check may ask besides the controller's own probe (VANTAGE_AGENTS), and how the controller proves itself to them. */
  readonly vantages: VantageSettings;
}

export interface VantageSettings {
  readonly agents: readonly VantageAgent[];
  /** VANTAGE_AGENT_AUDIENCE: the agents' application ID URI; a token for it is sent (Azure). */
  readonly audience?: string;
  /** VANTAGE_AGENT_KEY: the agents' shared key, sent when there is no audience (local runs). */
  readonly key?: string;
  /** The controller's region (REGION_NAME, set by the platform). */
  readonly region?: string;
}

export interface Limits {
  readonly maxGroups: number;
  readonly maxPauseSeconds: number;
  /** A notification not delivered this long after its transition is given up and recorded as expired. */
  readonly notifyExpirySeconds: number;
  /** Audit entries older than this are deleted by the watchdog. */
  readonly auditRetentionDays: number;
  /** Audit entries kept per group at most (newest first); older ones are deleted by the watchdog. */
  readonly auditMaxEntries: number;
}

interface LimitSetting {
  readonly setting: string;
  readonly defaultText: string;
  readonly schema: z.ZodType;
  readonly description: string;
}

/** Settings that bound what callers may do; README, Bicep and the sample settings are checked against these. */
export const LIMIT_SETTINGS: readonly LimitSetting[] = [
  {
    setting: "EGRESS_ALLOW_PRIVATE",
    defaultText: "false",
    schema: boolean,
    description: "Allow probes and webhooks to loopback and private networks (link-local, metadata and the app itself are always refused).",
  },
  { setting: "MAX_GROUPS", defaultText: "100", schema: integer(1, 1000), description: "Most failover groups POST /api/init creates (each is an eternal loop)." },
  { setting: "MAX_PAUSE_SECONDS", defaultText: "604800", schema: integer(60, 31_536_000), description: "Longest pause a caller may ask for (7 days by default)." },
  {
    setting: "NOTIFY_EXPIRY_SECONDS",
    defaultText: "86400",
    schema: integer(60, 604_800),
    description: "How long the loop keeps retrying a notification before it records it as expired (24 hours by default).",
  },
  { setting: "AUDIT_RETENTION_DAYS", defaultText: "90", schema: integer(1, 3650), description: "Audit entries older than this are deleted by the watchdog." },
  { setting: "AUDIT_MAX_ENTRIES", defaultText: "10000", schema: integer(100, 1_000_000), description: "Audit entries kept per group at most; the watchdog deletes the oldest beyond it." },
  {
    setting: "SWITCH_CALL_TIMEOUT_SECONDS",
    defaultText: "10",
    schema: integer(1, 120),
    description: "Deadline of one call of a switch step to ARM or App Configuration; a call that does not answer in time is a transient timeout and the cycle makes no more calls.",
  },
  {
    setting: "SWITCH_CYCLE_BUDGET_SECONDS",
    defaultText: "30",
    schema: integer(5, 600),
    description: "Most time one switch cycle (apply, verify, drift, readiness) may take before the loop goes on to its next check; no call starts after it.",
  },
];

/** Group names become RowKeys and orchestration instance ids. */
export const groupNameSchema = z.string({ error: "must be a string" }).regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/, "must be 1-63 letters, digits, '-' or '_', starting with a letter or digit");

const tableNameSchema = z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, "must be 3-63 letters or digits, starting with a letter (Azure Table naming)");

export const httpUrlSchema = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}, "must be an absolute http:// or https:// URL");

interface SettingDefinition {
  readonly setting: string;
  readonly defaultText: string;
  readonly description: string;
}

/** The non-policy settings the app reads besides storage (README and Bicep are checked against these). */
export const GENERAL_SETTINGS: readonly SettingDefinition[] = [
  { setting: "FAILOVER_GROUP", defaultText: DEFAULT_GROUP, description: "Default failover group (RowKey of its state row)." },
  { setting: "FAILOVER_TABLE", defaultText: "failoverstate", description: "Table holding one state row per group." },
  { setting: "FAILOVER_HISTORY_TABLE", defaultText: "failoverhistory", description: "Table holding the audit log (one entry per transition)." },
  { setting: "PRIMARY_ENDPOINT", defaultText: "", description: "Primary health URL written when the default group's row is created." },
  { setting: "SECONDARY_ENDPOINT", defaultText: "", description: "Secondary health URL written when the default group's row is created." },
  { setting: "PRIMARY_REGION", defaultText: "", description: "Azure region of the default group's primary, written on its row when it is created (readiness checks the topology against it)." },
  { setting: "SECONDARY_REGION", defaultText: "", description: "Azure region of the default group's secondary, written on its row when it is created." },
  { setting: "STATE_STORAGE_REGION", defaultText: "", description: "Azure region of the state storage account (the Bicep sets it): readiness reports it when it is the primary's." },
  { setting: "NOTIFY_WEBHOOK_URL", defaultText: "", description: "Optional Teams/Slack-compatible webhook that receives every transition." },
  { setting: "NOTIFY_WEBHOOK_SECRET", defaultText: "", description: "Optional Standard Webhooks secret (whsec_...): notifications then carry webhook-signature headers." },
  { setting: "SWITCH_PLAN", defaultText: "", description: "The default group's switch plan (JSON); a group's row field switch_plan takes precedence." },
  { setting: "ARM_ENDPOINT", defaultText: "", description: "Azure Resource Manager endpoint for the switch steps; empty: the public cloud's (a sovereign cloud's here)." },
  { setting: "ARM_AUDIENCE", defaultText: "", description: "Token scope for ARM calls; empty: the public cloud's." },
  { setting: "APP_CONFIGURATION_AUDIENCE", defaultText: "", description: "Token audience for App Configuration (empty: the public cloud's)." },
  { setting: "SWITCH_EXTRA_CA_PEM", defaultText: "", description: "PEM of CA certificates trusted for switch calls besides the system roots (a private CA or TLS-inspecting proxy)." },
  {
    setting: "APP_CONFIGURATION_ALLOWED_HOSTS",
    defaultText: "",
    description:
      "Hosts (host or host:port, comma-separated) an app_configuration step may name besides the App Configuration stores of the ARM endpoint's cloud; the app's token goes to no other host.",
  },
  {
    setting: "VANTAGE_AGENTS",
    defaultText: "",
    description:
      'Vantage agents that judge endpoints with the controller, as a JSON array: [{"name":"westeurope","url":"https://<agent>/api/probe","region":"westeurope"}] (empty: the controller judges alone).',
  },
  { setting: "VANTAGE_AGENT_AUDIENCE", defaultText: "", description: "The agents' application ID URI (api://<client id>): the controller sends its managed identity's token for it." },
  { setting: "VANTAGE_AGENT_KEY", defaultText: "", description: "Shared key sent to the agents when there is no audience (local runs; an agent in Azure requires the token)." },
];

/** Every app setting name the configuration reads, apart from the storage connection. */
export const APP_SETTING_NAMES: readonly string[] = [...GENERAL_SETTINGS.map((s) => s.setting), ...POLICY_KNOBS.map((k) => k.setting), ...LIMIT_SETTINGS.map((s) => s.setting)];

/** Fallback poll interval of a long-running ARM operation; the service's Retry-After wins. */
const LRO_POLL_INTERVAL_MS = 2000;

const httpsUrlSchema = z.string().refine((value) => {
  try {
    return new URL(value).protocol === "https:";
  } catch {
    return false;
  }
}, "must be an absolute https:// URL");

type Env = Readonly<Record<string, string | undefined>>;

export function setting(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value.trim();
}

/** A storage connection from the setting `name` (a connection string) or its `__accountName` / `__tableServiceUri` / `__clientId` parts (an identity). */
export function readStorage(env: Env, problems: ValidationIssue[], name: string = STORAGE_SETTING): StorageConfig | undefined {
  const connectionString = setting(env, name);
  if (connectionString !== undefined) {
    if (connectionString !== "UseDevelopmentStorage=true" && !/(^|;)\s*(AccountName|TableEndpoint|SharedAccessSignature)\s*=/i.test(connectionString)) {
      problems.push({ path: name, message: `not a storage connection string (expected UseDevelopmentStorage=true or one with AccountName= or TableEndpoint=)` });
      return undefined;
    }
    return { kind: "connection_string", connectionString };
  }
  const clientId = setting(env, `${name}__clientId`);
  const tableServiceUri = setting(env, `${name}__tableServiceUri`);
  if (tableServiceUri !== undefined) {
    const parsed = httpUrlSchema.safeParse(tableServiceUri);
    if (!parsed.success) {
      problems.push({ path: `${name}__tableServiceUri`, message: `must be an absolute http:// or https:// URL (got "${tableServiceUri}")` });
      return undefined;
    }
    return { kind: "identity", tableServiceUri, ...(clientId ? { clientId } : {}) };
  }
  const accountName = setting(env, `${name}__accountName`);
  if (accountName !== undefined) {
    if (!/^[a-z0-9]{3,24}$/.test(accountName)) {
      problems.push({ path: `${name}__accountName`, message: `"${accountName}" is not a storage account name (3-24 lowercase letters or digits)` });
      return undefined;
    }
    return { kind: "identity", tableServiceUri: `https://${accountName}.table.core.windows.net`, ...(clientId ? { clientId } : {}) };
  }
  problems.push({
    path: name,
    message:
      `storage is not configured; set ${name} to a connection string (UseDevelopmentStorage=true for Azurite) ` + `or ${name}__accountName / ${name}__tableServiceUri for an identity-based connection`,
  });
  return undefined;
}

export function readWith<T>(env: Env, name: string, fallback: string, schema: z.ZodType<T>, problems: ValidationIssue[]): T | undefined {
  const raw = setting(env, name) ?? fallback;
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  problems.push(...zodIssues(result.error, { root: name, input: raw, pathName: (path) => settingPath(name, path) }));
  return undefined;
}

/** Where inside a JSON setting a problem lies: `VANTAGE_AGENTS[0].url`; the setting's name when it is the whole value. */
function settingPath(name: string, path: string): string {
  if (path === name) return name;
  return (
    name +
    path
      .split(".")
      .map((part) => (/^\d+$/.test(part) ? `[${part}]` : `.${part}`))
      .join("")
  );
}

function readOptionalUrl(env: Env, name: string, problems: ValidationIssue[]): string | undefined {
  const raw = setting(env, name);
  return raw === undefined ? undefined : readWith(env, name, "", httpUrlSchema, problems);
}

/** A URL that may carry a secret (a webhook): a bad value is reported without being quoted. */
function readSecretUrl(env: Env, name: string, problems: ValidationIssue[]): string | undefined {
  const raw = setting(env, name);
  if (raw === undefined) return undefined;
  if (httpUrlSchema.safeParse(raw).success) return raw;
  problems.push({ path: name, message: "must be an absolute http:// or https:// URL (the value is not shown: it may hold a secret)" });
  return undefined;
}

/** Reads and validates the whole configuration; throws one error naming every bad setting. */
export function loadConfig(env: Env = process.env): AppConfig {
  const problems: ValidationIssue[] = [];
  const storage = readStorage(env, problems);
  const defaultGroup = readWith(env, "FAILOVER_GROUP", DEFAULT_GROUP, groupNameSchema, problems);
  const tableName = readWith(env, "FAILOVER_TABLE", "failoverstate", tableNameSchema, problems);
  const auditTableName = readWith(env, "FAILOVER_HISTORY_TABLE", "failoverhistory", tableNameSchema, problems);
  const primaryEndpoint = readOptionalUrl(env, "PRIMARY_ENDPOINT", problems);
  const secondaryEndpoint = readOptionalUrl(env, "SECONDARY_ENDPOINT", problems);
  const [primaryRegion, secondaryRegion, stateStorageRegion] = ["PRIMARY_REGION", "SECONDARY_REGION", "STATE_STORAGE_REGION"].map((name) =>
    setting(env, name) === undefined ? undefined : readWith(env, name, "", regionSchema, problems),
  );
  const armEndpoint = readWith(env, "ARM_ENDPOINT", PUBLIC_CLOUD.armEndpoint, httpsUrlSchema, problems);
  const armAudience = readWith(env, "ARM_AUDIENCE", PUBLIC_CLOUD.armAudience, httpsUrlSchema, problems);
  const appConfigurationAudience = setting(env, "APP_CONFIGURATION_AUDIENCE") === undefined ? undefined : readWith(env, "APP_CONFIGURATION_AUDIENCE", "", httpsUrlSchema, problems);
  const extraCaPem = setting(env, "SWITCH_EXTRA_CA_PEM");
  if (extraCaPem !== undefined && !/-----BEGIN CERTIFICATE-----[\s\S]+-----END CERTIFICATE-----/.test(extraCaPem))
    problems.push({ path: "SWITCH_EXTRA_CA_PEM", message: "must be PEM text with at least one -----BEGIN CERTIFICATE----- block" });
  const switchPlan = setting(env, "SWITCH_PLAN");
  const allowedHosts = (setting(env, "APP_CONFIGURATION_ALLOWED_HOSTS") ?? "")
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "");
  for (const host of allowedHosts) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/.test(host)) problems.push({ path: "APP_CONFIGURATION_ALLOWED_HOSTS", message: `"${host.slice(0, 100)}" is not a host or host:port` });
  }
  const notifyWebhookUrl = readSecretUrl(env, "NOTIFY_WEBHOOK_URL", problems);
  const notifyWebhookSecret = setting(env, "NOTIFY_WEBHOOK_SECRET");
  if (notifyWebhookSecret !== undefined) {
    try {
      secretKey(notifyWebhookSecret);
    } catch (err) {
      // The value is never quoted; the signer's message names only what is wrong with it.
      problems.push({ path: "NOTIFY_WEBHOOK_SECRET", message: err instanceof WebhookSignatureError ? err.message.replace(/^webhook secret: /, "") : "not a usable secret" });
    }
  }
  const vantageAgents = readWith(env, "VANTAGE_AGENTS", "[]", vantageAgentsSchema, problems);
  const vantageAudience = setting(env, "VANTAGE_AGENT_AUDIENCE");
  const vantageKey = setting(env, "VANTAGE_AGENT_KEY");
  if (vantageAgents && vantageAgents.length > 0 && !vantageAudience && !vantageKey)
    problems.push({ path: "VANTAGE_AGENTS", message: "agents are listed but neither VANTAGE_AGENT_AUDIENCE (Azure) nor VANTAGE_AGENT_KEY (local) says how to call them" });
  registerSecrets(setting(env, STORAGE_SETTING), setting(env, "NOTIFY_WEBHOOK_URL"), notifyWebhookSecret, vantageKey);
  const [allowPrivate, maxGroups, maxPauseSeconds, notifyExpirySeconds, auditRetentionDays, auditMaxEntries, callTimeoutSeconds, cycleBudgetSeconds] = LIMIT_SETTINGS.map((s) =>
    readWith(env, s.setting, s.defaultText, s.schema, problems),
  ) as [boolean, number, number, number, number, number, number, number];
  const policyText = Object.fromEntries(POLICY_KNOBS.map((k) => [k.field, setting(env, k.setting) ?? k.defaultText]));
  const policy = policySchema.safeParse(policyText);
  if (!policy.success) {
    const issues = zodIssues(policy.error, { root: "policy", input: policyText, pathName: (field) => settingOf(field as PolicyField) });
    problems.push(...issues);
  }
  if (problems.length > 0 || !storage || !defaultGroup || !tableName || !auditTableName || !policy.success || !armEndpoint || !armAudience || maxGroups === undefined) {
    const lines = problems.map((i) => `${i.path}: ${i.message}`);
    throw new FailoverError("invalid_config", `Invalid configuration:\n  - ${lines.join("\n  - ")}`, { issues: problems });
  }
  return {
    storage,
    tableName,
    auditTableName,
    defaultGroup,
    ...(primaryEndpoint ? { primaryEndpoint } : {}),
    ...(secondaryEndpoint ? { secondaryEndpoint } : {}),
    ...(primaryRegion ? { primaryRegion } : {}),
    ...(secondaryRegion ? { secondaryRegion } : {}),
    ...(stateStorageRegion ? { stateStorageRegion } : {}),
    ...(notifyWebhookUrl ? { notifyWebhookUrl } : {}),
    ...(notifyWebhookSecret ? { notifyWebhookSecret } : {}),
    policy: policy.data,
    ...(switchPlan ? { switchPlan } : {}),
    controlPlane: {
      armEndpoint: armEndpoint.replace(/\/+$/, ""),
      armAudience,
      ...(appConfigurationAudience ? { appConfigurationAudience } : {}),
      ...(extraCaPem ? { extraCaPem } : {}),
      pollIntervalMs: LRO_POLL_INTERVAL_MS,
      callTimeoutMs: callTimeoutSeconds * 1000,
      cycleBudgetMs: cycleBudgetSeconds * 1000,
      appConfigurationHosts: [...appConfigurationSuffixes(armEndpoint), ...allowedHosts],
    },
    limits: { maxGroups, maxPauseSeconds, notifyExpirySeconds, auditRetentionDays, auditMaxEntries },
    // WEBSITE_HOSTNAME and WEBSITE_AUTH_ENABLED are set by the platform (the local host sets the first), not app settings.
    egress: egressPolicyFromSettings(allowPrivate, env.WEBSITE_HOSTNAME),
    authEnabled: platformAuthEnabled(env.WEBSITE_AUTH_ENABLED),
    vantages: {
      agents: vantageAgents ?? [],
      ...(vantageAudience ? { audience: vantageAudience } : {}),
      ...(vantageKey ? { key: vantageKey } : {}),
      ...(setting(env, "REGION_NAME") ? { region: setting(env, "REGION_NAME")!.toLowerCase().replace(/\s+/g, "") } : {}),
    },
  };
}
