import type { TokenCredential } from "@azure/identity";
import { untilAborted } from "./abort";
import { Agent, request, type Dispatcher } from "undici";
import { z } from "zod";
import { CONTROLLER_VANTAGE, formatStatusRanges, regionSchema, vantageNameSchema } from "./knobs";
import { PROBE_ERROR_CLASSES, probeResultSchema, readCapped, type ProbeOptions, type ProbeResult, type Prober } from "./probe";
import { TEXT_LIMITS, cleanText } from "./text";

/**
 * Vantages: the places an endpoint is judged from. The controller's own probe is the vantage
 * `controller`; each vantage agent (src/agent, deployed to other regions) is another. A check
 * asks every vantage of the group at once and counts the votes: an endpoint is unhealthy when
 * at least `quorum` vantages saw it unhealthy; a vantage that does not answer casts no vote;
 * with fewer votes than the quorum the check is inconclusive (it counts neither way).
 */

export { CONTROLLER_VANTAGE };
export const MAX_VANTAGE_AGENTS = 16;

/** Time an agent gets beyond the probe's own timeout (its request, its token, its answer). */
export const AGENT_CALL_MARGIN_MS = 3000;
/** The header that carries the shared key when platform authentication is off (local runs). */
export const AGENT_KEY_HEADER = "x-vantage-key";
/** The app role a caller's token must carry for an agent behind App Service Authentication. */
export const AGENT_ROLE = "vantage.probe";
const MAX_AGENT_ANSWER_BYTES = 64 * 1024;
const VOTE_ERROR_CHARS = 200;

function isLoopback(hostname: string): boolean {
  return hostname === "localhost" || hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(hostname);
}

/** An agent's probe URL: https, or http only to this machine (a local run); a token or key never crosses the network in clear. */
const agentUrlSchema = z.string({ error: "must be a string" }).refine((value) => {
  try {
    const url = new URL(value);
    return !url.username && !url.password && (url.protocol === "https:" || (url.protocol === "http:" && isLoopback(url.hostname)));
  } catch {
    return false;
  }
}, "must be an absolute https:// URL without user:password@ (http:// only to localhost)");

export const vantageAgentSchema = z.strictObject({
  name: vantageNameSchema.refine((n) => n !== CONTROLLER_VANTAGE, `"${CONTROLLER_VANTAGE}" names the controller's own probe`),
  url: agentUrlSchema,
  region: regionSchema.optional(),
});
export type VantageAgent = Readonly<z.infer<typeof vantageAgentSchema>>;

/** VANTAGE_AGENTS: a JSON array of agents, names unique. */
export const vantageAgentsSchema = z.preprocess(
  (v) => {
    if (typeof v !== "string") return v;
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  },
  z
    .array(vantageAgentSchema, { error: 'must be a JSON array like [{"name":"westeurope","url":"https://…/api/probe","region":"westeurope"}]' })
    .max(MAX_VANTAGE_AGENTS, `must list at most ${MAX_VANTAGE_AGENTS} agents`)
    .refine((agents) => new Set(agents.map((a) => a.name)).size === agents.length, "names must be unique"),
);

/** One vantage's answer about one endpoint. `healthy` absent: the vantage did not answer and casts no vote. */
export const voteSchema = z.object({
  vantage: z.string(),
  region: z.string().optional(),
  healthy: z.boolean().optional().describe("The vantage's verdict; absent when it cast no vote (it did not answer, or refused)."),
  latency_ms: z.number().int(),
  status_code: z.number().int().optional(),
  error_class: z.string().optional(),
  error: z.string().optional(),
});
export type Vote = z.infer<typeof voteSchema>;

export type Verdict = "healthy" | "unhealthy" | "inconclusive";

/** The votes about one endpoint and what they add up to; `probe` is the verdict as one probe result (what the row and the policy see). */
export interface Judgement {
  readonly probe: ProbeResult;
  readonly verdict: Verdict;
  readonly votes: Vote[];
  readonly quorum: number;
}

/**
 * The quorum of a group: the knob, or (0) a majority of its vantages. A knob above the number
 * of vantages means all of them: a quorum no count could reach would make every check
 * inconclusive, and the group could never fail over.
 */
export function quorumOf(quorum: number, vantages: number): number {
  return quorum > 0 ? Math.min(quorum, vantages) : Math.floor(vantages / 2) + 1;
}

/** The vantages a group asks, in order: the controller first when it is one of them. */
export function selectedVantages(selection: string, agents: readonly VantageAgent[]): string[] {
  return selection === "all" ? [CONTROLLER_VANTAGE, ...agents.map((a) => a.name)] : selection.split(",");
}

/** A vote from the controller's own probe. */
export function voteOf(vantage: string, region: string | undefined, probe: ProbeResult): Vote {
  return {
    vantage,
    ...(region ? { region } : {}),
    healthy: probe.healthy,
    latency_ms: Math.round(probe.latency_ms),
    ...(probe.status_code !== undefined ? { status_code: probe.status_code } : {}),
    ...(probe.healthy ? {} : { error_class: probe.error_class, ...(probe.error ? { error: cleanText(probe.error, VOTE_ERROR_CHARS) } : {}) }),
  };
}

/** No vote: the vantage did not answer, or its answer could not be used. */
export function noVote(vantage: string, region: string | undefined, latencyMs: number, errorClass: string, error: string): Vote {
  return { vantage, ...(region ? { region } : {}), latency_ms: Math.round(latencyMs), error_class: errorClass, error: cleanText(error, VOTE_ERROR_CHARS) };
}

function describeVote(v: Vote): string {
  if (v.healthy === true) return `${v.vantage} up`;
  if (v.healthy === false) return `${v.vantage} down (${v.error_class ?? "unhealthy"})`;
  return `${v.vantage} no vote (${v.error_class ?? "no answer"})`;
}

/** The votes in one short line: "controller down (timeout), westeurope up, eastus no vote (timeout)". */
export function votesText(votes: readonly Vote[]): string {
  return votes.map(describeVote).join(", ");
}

/**
 * Counts the votes about `url`. Unhealthy when at least `quorum` vantages saw it unhealthy;
 * inconclusive when fewer than `quorum` vantages voted at all (it cannot count toward a
 * failover, nor reset a streak); healthy otherwise. With one vantage the verdict is its probe.
 */
export function judge(url: string, votes: Vote[], quorum: number, own?: ProbeResult): Judgement {
  const cast = votes.filter((v) => v.healthy !== undefined);
  const down = cast.filter((v) => v.healthy === false);
  const verdict: Verdict = down.length >= quorum ? "unhealthy" : cast.length >= quorum ? "healthy" : "inconclusive";
  if (votes.length === 1 && own && verdict !== "inconclusive") return { probe: own, verdict, votes, quorum };
  const latencies = cast.map((v) => v.latency_ms).sort((a, b) => a - b);
  const latency = own?.latency_ms ?? (latencies.length > 0 ? latencies[Math.floor(latencies.length / 2)] : 0);
  const tally = `${down.length} of ${votes.length} vantages saw it unhealthy, ${cast.length} voted (quorum ${quorum}): ${votesText(votes)}`;
  const probe: ProbeResult =
    verdict === "healthy"
      ? { url, healthy: true, latency_ms: latency, ...(own?.healthy && own.status_code !== undefined ? { status_code: own.status_code } : {}), body_bytes_read: own?.body_bytes_read ?? 0 }
      : {
          url,
          healthy: false,
          latency_ms: latency,
          ...(down[0]?.status_code !== undefined ? { status_code: down[0].status_code } : {}),
          error_class: verdict === "inconclusive" ? "inconclusive" : (PROBE_ERROR_CLASSES.find((c) => c === down[0]?.error_class) ?? "network"),
          error: cleanText(tally, TEXT_LIMITS.error),
          body_bytes_read: own?.body_bytes_read ?? 0,
        };
  return { probe, verdict, votes, quorum };
}

/** What a controller sends to an agent: the URL and the group's probe settings. */
export const agentProbeRequestSchema = z.strictObject({
  url: z.string({ error: "must be a string" }).min(1).max(TEXT_LIMITS.url),
  timeout_ms: z.number().int().min(100).max(60000),
  expected_status: z.string().max(256),
  body_match: z.string().max(256).optional(),
  max_body_bytes: z.number().int().min(0).max(10485760),
  follow_redirects: z.boolean(),
});
export type AgentProbeRequest = z.infer<typeof agentProbeRequestSchema>;

/** An agent's answer: its probe, and where it stands. */
export const agentProbeAnswerSchema = probeResultSchema.extend({ vantage: z.string().max(64).optional(), region: z.string().max(64).optional() });

export function agentProbeRequest(url: string, options: ProbeOptions): AgentProbeRequest {
  return {
    url,
    timeout_ms: options.timeoutMs,
    expected_status: formatStatusRanges(options.expectedStatus),
    ...(options.bodyMatch ? { body_match: options.bodyMatch } : {}),
    max_body_bytes: options.maxBodyBytes,
    follow_redirects: options.followRedirects,
  };
}

/** How the controller proves itself to its agents: a token for the agents' app registration (Azure) or the shared key (local runs). */
export interface AgentAuth {
  readonly credential?: TokenCredential;
  /** The agents' application ID URI or client ID (VANTAGE_AGENT_AUDIENCE); a token for `<audience>/.default` is sent. */
  readonly audience?: string;
  readonly key?: string;
}

export type AgentCaller = (agent: VantageAgent, url: string, options: ProbeOptions) => Promise<Vote>;

/**
 * Calls agents over HTTP: POST of the probe request, with the token or key, within the probe's
 * timeout plus AGENT_CALL_MARGIN_MS (the token included). Never throws: an agent that does
 * not answer in time, refuses, or answers something that is not a probe result casts no vote.
 */
export function createAgentCaller(auth: AgentAuth, dispatcher: Dispatcher = new Agent({ keepAliveTimeout: 30_000 })): AgentCaller {
  return async (agent, url, options) => {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const deadline = options.timeoutMs + AGENT_CALL_MARGIN_MS;
    const signal = AbortSignal.timeout(deadline);
    try {
      const headers: Record<string, string> = { "content-type": "application/json", "user-agent": "failover-orchestrator-controller/1" };
      if (auth.audience && auth.credential) {
        const token = await untilAborted(auth.credential.getToken(`${auth.audience.replace(/\/+$/, "")}/.default`), signal);
        if (!token) return noVote(agent.name, agent.region, elapsed(), "agent_auth", "no token for the agents' audience (VANTAGE_AGENT_AUDIENCE)");
        headers.authorization = `Bearer ${token.token}`;
      } else if (auth.key) headers[AGENT_KEY_HEADER] = auth.key;
      const response = await request(agent.url, { method: "POST", body: JSON.stringify(agentProbeRequest(url, options)), headers, signal, dispatcher });
      const body = await readCapped(response.body, MAX_AGENT_ANSWER_BYTES);
      if (response.statusCode !== 200) {
        let message = "";
        try {
          message = String((JSON.parse(body.text) as { message?: unknown }).message ?? "");
        } catch {
          message = body.text;
        }
        return noVote(agent.name, agent.region, elapsed(), "agent_refused", `agent answered HTTP ${response.statusCode}${message ? `: ${message}` : ""}`);
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.text);
      } catch {
        parsed = undefined;
      }
      const answer = agentProbeAnswerSchema.safeParse(parsed);
      if (!answer.success || answer.data.url !== url) return noVote(agent.name, agent.region, elapsed(), "agent_invalid", "the agent's answer is not a probe result of the URL asked");
      return voteOf(agent.name, agent.region ?? answer.data.region, answer.data);
    } catch (err) {
      if (signal.aborted) return noVote(agent.name, agent.region, elapsed(), "agent_timeout", `no answer within ${deadline} ms`);
      const code = (err as { code?: unknown }).code;
      return noVote(agent.name, agent.region, elapsed(), "agent_unreachable", `request failed (${typeof code === "string" ? code : err instanceof Error ? err.message : String(err)})`);
    }
  };
}

/** Everything a check needs to ask its vantages. */
export interface Vantages {
  readonly agents: readonly VantageAgent[];
  /** The controller's region (REGION_NAME, set by the platform), recorded on its votes. */
  readonly region?: string;
  readonly call: AgentCaller;
}

/**
 * Judges endpoints for one operation: asks each vantage of the selection once per URL and
 * settings (a retried decision on a re-read row reuses the votes about an unchanged URL) and
 * counts the votes. With no agent configured and `vantages` = all, it is the controller's probe
 * alone, as before.
 */
export function createJudge(vantages: Vantages, probe: Prober): (url: string, options: ProbeOptions, selection: string, quorumKnob: number) => Promise<Judgement> {
  const done = new Map<string, Promise<Judgement>>();
  return (url, options, selection, quorumKnob) => {
    const key = JSON.stringify([url, options, selection, quorumKnob]);
    let result = done.get(key);
    if (!result) {
      const names = selectedVantages(selection, vantages.agents);
      const quorum = quorumOf(quorumKnob, names.length);
      result = (async () => {
        let own: ProbeResult | undefined;
        const votes = await Promise.all(
          names.map(async (name) => {
            if (name === CONTROLLER_VANTAGE) {
              own = await probe(url, options);
              return voteOf(name, vantages.region, own);
            }
            const agent = vantages.agents.find((a) => a.name === name);
            return agent ? vantages.call(agent, url, options) : noVote(name, undefined, 0, "unknown_vantage", `"${name}" is not a configured vantage agent (VANTAGE_AGENTS)`);
          }),
        );
        return judge(url, votes, quorum, own);
      })();
      done.set(key, result);
    }
    return result;
  };
}
