import type { TableClient } from "@azure/data-tables";
import { createHash, timingSafeEqual } from "node:crypto";
import { systemClock, type Clock } from "./clock";
import { readStorage, readWith, setting, type StorageConfig } from "./config";
import { egressPolicyFromSettings, type EgressPolicy } from "./egress";
import { FailoverError, invalidRequest } from "./errors";
import { callerOf, platformAuthEnabled } from "./identity";
import { boolean, parseStatusRanges } from "./knobs";
import { createHttpProbe, type ProbeResult, type Prober } from "./probe";
import { registerSecrets } from "./redact";
import { PARTITION_KEY } from "./state";
import { createTableClient } from "./tableClient";
import { AGENT_KEY_HEADER, AGENT_ROLE, agentProbeRequestSchema } from "./vantage";
import { zodIssues, type ValidationIssue } from "./validation";

/**
 * The vantage agent (src/agent): probes a URL when the controller asks, with the project's
 * probe and egress policy, and answers the result. It is no open probing service:
 * - only the controller may call it: behind App Service Authentication the caller's token must
 *   carry the `vantage.probe` app role (the controller's managed identity holds it); without
 *   platform authentication (local runs) the request must carry AGENT_KEY, and an agent with
 *   neither refuses everything;
 * - it probes only endpoints registered on the controller's group rows (its state table, read
 *   with a read-only role), cached briefly.
 */

/** The state storage setting of an agent: the controller's state table, read-only. */
export const AGENT_STATE_STORAGE = "AGENT_STATE_STORAGE";

export interface AgentSettings {
  readonly storage: StorageConfig;
  readonly tableName: string;
  readonly key?: string;
  readonly authEnabled: boolean;
  readonly region?: string;
  readonly egress: EgressPolicy;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The agent's settings, validated as a whole: every bad or missing setting is named in one error. */
export function loadAgentSettings(env: Env = process.env): AgentSettings {
  const problems: ValidationIssue[] = [];
  const storage = readStorage(env, problems, AGENT_STATE_STORAGE);
  const tableName = setting(env, "FAILOVER_TABLE") ?? "failoverstate";
  if (!/^[A-Za-z][A-Za-z0-9]{2,62}$/.test(tableName)) problems.push({ path: "FAILOVER_TABLE", message: "must be 3-63 letters or digits, starting with a letter (Azure Table naming)" });
  const allowPrivate = readWith(env, "EGRESS_ALLOW_PRIVATE", "false", boolean, problems);
  const key = setting(env, "AGENT_KEY");
  if (key !== undefined && key.length < 16) problems.push({ path: "AGENT_KEY", message: "must be at least 16 characters (the value is not shown)" });
  const authEnabled = platformAuthEnabled(env.WEBSITE_AUTH_ENABLED);
  if (!authEnabled && key === undefined) problems.push({ path: "AGENT_KEY", message: "is not set and App Service Authentication is off: the agent would refuse every caller" });
  registerSecrets(key, setting(env, AGENT_STATE_STORAGE));
  if (problems.length > 0 || !storage || allowPrivate === undefined) {
    throw new FailoverError("invalid_config", `Invalid agent configuration:\n  - ${problems.map((p) => `${p.path}: ${p.message}`).join("\n  - ")}`, { issues: problems });
  }
  const region = setting(env, "REGION_NAME");
  return {
    storage,
    tableName,
    ...(key ? { key } : {}),
    authEnabled,
    ...(region ? { region: region.toLowerCase().replace(/\s+/g, "") } : {}),
    egress: egressPolicyFromSettings(allowPrivate, env.WEBSITE_HOSTNAME),
  };
}

/** How long the registered endpoints are trusted before they are read again; a miss reads again sooner. */
const REGISTRY_FRESH_MS = 30_000;
const REGISTRY_MISS_REFRESH_MS = 2_000;
/** With the state table unreachable, the last endpoints read serve this long. */
const REGISTRY_STALE_MS = 10 * 60_000;

/** The endpoints of the controller's groups (their primary and secondary URLs), read from its state table. */
export class EndpointRegistry {
  private urls = new Set<string>();
  private readAt = -Infinity;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly table: TableClient,
    private readonly clock: Clock = systemClock,
  ) {}

  private age(): number {
    return this.clock.now().getTime() - this.readAt;
  }

  private refresh(): Promise<void> {
    this.reading ??= (async () => {
      try {
        const urls = new Set<string>();
        const rows = this.table.listEntities<Record<string, unknown>>({
          queryOptions: { filter: `PartitionKey eq '${PARTITION_KEY}'`, select: ["primary_endpoint", "secondary_endpoint"] },
        });
        for await (const row of rows) {
          for (const field of ["primary_endpoint", "secondary_endpoint"]) if (typeof row[field] === "string") urls.add(row[field]);
        }
        this.urls = urls;
        this.readAt = this.clock.now().getTime();
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  /** True when `url` is a group's endpoint; reads the table when the set is old, or on a miss that is not recent. */
  async has(url: string): Promise<boolean> {
    const age = this.age();
    if (age < REGISTRY_FRESH_MS && (this.urls.has(url) || age < REGISTRY_MISS_REFRESH_MS)) return this.urls.has(url);
    try {
      await this.refresh();
    } catch (err) {
      if (this.age() > REGISTRY_STALE_MS) {
        throw new FailoverError("storage_unavailable", `the controller's state table cannot be read to check the endpoint (${err instanceof Error ? err.message : String(err)})`);
      }
    }
    return this.urls.has(url);
  }
}

export interface AgentDeps {
  readonly settings: AgentSettings;
  readonly registry: EndpointRegistry;
  readonly probe: Prober;
}

export function createAgentDeps(settings: AgentSettings, overrides: { probe?: Prober; clock?: Clock } = {}): AgentDeps {
  return {
    settings,
    registry: new EndpointRegistry(createTableClient(settings.storage, settings.tableName), overrides.clock),
    probe: overrides.probe ?? createHttpProbe(settings.egress),
  };
}

function sameKey(given: string, expected: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Refuses a caller that is not the controller: the app role behind platform authentication, else the shared key. */
function checkCaller(settings: AgentSettings, header: (name: string) => string | null): void {
  if (settings.authEnabled) {
    const caller = callerOf(header, true);
    if (!caller.roles.includes(AGENT_ROLE)) throw new FailoverError("forbidden", `${caller.actor} lacks the ${AGENT_ROLE} app role: only the controller may ask this agent to probe`);
    return;
  }
  const given = header(AGENT_KEY_HEADER);
  if (!settings.key || given === null || !sameKey(given, settings.key)) throw new FailoverError("forbidden", `missing or wrong ${AGENT_KEY_HEADER}: only the controller may ask this agent to probe`);
}

/** An agent's answer: the probe, with the agent's region. */
export type AgentAnswer = ProbeResult & { readonly region?: string };

/**
 * One probe request: the caller first, then the body (a JSON probe request), then the URL must be
 * a registered endpoint; then the probe, with the settings the controller sent.
 */
export async function answerProbeRequest(deps: AgentDeps, header: (name: string) => string | null, bodyText: string): Promise<AgentAnswer> {
  checkCaller(deps.settings, header);
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    throw invalidRequest({ path: "body", message: "is not JSON" });
  }
  const parsed = agentProbeRequestSchema.safeParse(json);
  if (!parsed.success) throw invalidRequest(...zodIssues(parsed.error, { root: "body", input: json }));
  const request = parsed.data;
  let expectedStatus;
  try {
    expectedStatus = parseStatusRanges(request.expected_status);
  } catch (err) {
    throw invalidRequest({ path: "expected_status", message: (err as Error).message });
  }
  if (!(await deps.registry.has(request.url))) throw new FailoverError("forbidden", "the URL is not an endpoint of any of the controller's groups: this agent probes only those");
  const result = await deps.probe(request.url, {
    timeoutMs: request.timeout_ms,
    expectedStatus,
    ...(request.body_match ? { bodyMatch: request.body_match } : {}),
    maxBodyBytes: request.max_body_bytes,
    followRedirects: request.follow_redirects,
  });
  return { ...result, ...(deps.settings.region ? { region: deps.settings.region } : {}) };
}
