import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import type { RequestOptions } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { Duplex } from "node:stream";
import { createSecureContext } from "node:tls";
import { isIP, type LookupFunction, type Socket } from "node:net";
import { Agent, buildConnector, fetch, type Dispatcher, type RequestInit, type Response } from "undici";
import { classifyAddress, embeddedIpv4 } from "./addressClass";
import { isSecretQueryName } from "./redact";
import { TEXT_LIMITS } from "./text";

/**
 * Where probes and webhooks may connect. The check is made on the address a connection is
 * actually opened to, by the connector itself: names are resolved and filtered before the
 * connection (no DNS rebinding between a check and the connect), literal addresses are checked
 * as they are, every redirect hop goes through the same connector, and the socket's remote
 * address is checked once more after the connect.
 *
 * - Always refused: link-local (169.254.0.0/16 with the cloud metadata endpoint, fe80::/10),
 *   Azure's wire server 168.63.129.16, unspecified, multicast and broadcast addresses.
 * - Loopback and private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7): only when
 *   `allowPrivate` is set (off by default; on in the demo, local runs and tests).
 * - The app's own host: never (an endpoint pointing at the app would fan out into itself).
 */

export interface EgressPolicy {
  /** Allow loopback and private-network addresses (EGRESS_ALLOW_PRIVATE). */
  readonly allowPrivate: boolean;
  /** The app's own host names, `host` or `host:port` (WEBSITE_HOSTNAME; the local host's address). */
  readonly selfHosts: readonly string[];
}

export const STRICT_EGRESS: EgressPolicy = { allowPrivate: false, selfHosts: [] };

/** Why an address may not be connected to, or undefined when it may. */
export function addressRefusal(address: string, policy: EgressPolicy): string | undefined {
  const kind = classifyAddress(address);
  switch (kind) {
    case "public":
      return undefined;
    case "wire_server":
      return `${address} is Azure's wire server (168.63.129.16), never a health endpoint`;
    case "link_local":
      return `${address} is link-local (cloud metadata endpoints live there), never a health endpoint`;
    case "reserved":
      return `${address} is an unspecified, multicast or reserved address`;
    default:
      return policy.allowPrivate ? undefined : `${address} is a ${kind} address; set EGRESS_ALLOW_PRIVATE=true to allow loopback and private networks`;
  }
}

function defaultPort(protocol: string): string {
  return protocol === "https:" ? "443" : "80";
}

/**
 * A host as compared with the app's own: a name in lower case without its final dot; an
 * address in one canonical form, an IPv4-mapped or NAT64 IPv6 address as its IPv4 address
 * (so `[::ffff:127.0.0.1]` is `127.0.0.1`) and IPv6 compressed.
 */
function canonicalHost(raw: string): string {
  const host = raw
    .trim()
    .replace(/^\[|\]$/g, "")
    .split("%")[0]
    .replace(/\.$/, "")
    .toLowerCase();
  const v4 = embeddedIpv4(host);
  if (v4) return v4;
  if (isIP(host) === 6) return new URL(`http://[${host}]/`).hostname.replace(/^\[|\]$/g, "");
  return host;
}

/** True when host:port is the app itself, the address compared, not its spelling. `selfHosts` entries without a port match any port. */
export function isSelfHost(hostname: string, port: string, policy: EgressPolicy): boolean {
  const host = canonicalHost(hostname);
  return policy.selfHosts.some((entry) => {
    const [entryHost, entryPort] = hostAndPort(entry.trim());
    return canonicalHost(entryHost) === host && (entryPort === undefined || entryPort === port);
  });
}

/** `host`, `host:port`, `[v6]`, `[v6]:port` or a bare IPv6 address, split. */
function hostAndPort(entry: string): [string, string | undefined] {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return [bracketed[1], bracketed[2]];
  const colons = entry.split(":").length - 1;
  if (colons === 1) {
    const [h, p] = entry.split(":") as [string, string];
    return [h, p];
  }
  return [entry, undefined];
}

/**
 * Checks a URL before anything is sent: the scheme, the app's own host, and a literal address.
 * Names are checked when they are resolved (see egressAgent). Returns why it is refused.
 */
export function urlRefusal(url: URL, policy: EgressPolicy): string | undefined {
  if (url.protocol !== "http:" && url.protocol !== "https:") return `${url.protocol} is not http or https`;
  const port = url.port || defaultPort(url.protocol);
  if (isSelfHost(url.hostname, port, policy)) return `${url.host} is this app itself`;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return isIP(host) ? addressRefusal(host, policy) : undefined;
}

/** The error a refused connection fails with; its code lets the probe classify it. */
export class EgressRefusedError extends Error {
  readonly code = "EGRESS_REFUSED";
  constructor(message: string) {
    super(message);
    this.name = "EgressRefusedError";
  }
}

/** A DNS lookup that leaves out refused addresses, and fails when none is left. */
export function filteredLookup(policy: EgressPolicy): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, "", 0);
      const allowed = addresses.filter((a) => addressRefusal(a.address, policy) === undefined);
      if (allowed.length === 0) {
        const reason = addresses.length > 0 ? addressRefusal(addresses[0].address, policy) : "no address";
        return callback(new EgressRefusedError(`${hostname} resolves only to refused addresses: ${reason}`), "", 0);
      }
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
      callback(null, allowed[0].address, allowed[0].family);
    });
  };
}

/**
 * An undici dispatcher that enforces the policy on every connection it opens (each redirect
 * hop included). Use it with undici's fetch: `fetch(url, { dispatcher })`.
 */
export function egressAgent(policy: EgressPolicy, connectTimeoutMs = 10_000): Agent {
  const base = buildConnector({ lookup: filteredLookup(policy), timeout: connectTimeoutMs });
  return new Agent({
    connect(options, callback) {
      const port = options.port || defaultPort(options.protocol);
      if (isSelfHost(options.hostname, port, policy)) return callback(new EgressRefusedError(`${options.hostname}:${port} is this app itself`), null);
      const host = options.hostname.replace(/^\[|\]$/g, "");
      const literal = isIP(host) ? addressRefusal(host, policy) : undefined;
      if (literal) return callback(new EgressRefusedError(literal), null);
      base(options, (err, socket) => {
        if (err || !socket) return callback(err ?? new Error("no socket"), null);
        const remote = socket.remoteAddress ?? "";
        const refusal = addressRefusal(remote, policy) ?? (isSelfHost(remote, String(socket.remotePort), policy) ? `${remote} is this app itself` : undefined);
        if (refusal) {
          socket.destroy();
          return callback(new EgressRefusedError(refusal), null);
        }
        callback(null, socket);
      });
    },
  });
}

/**
 * The same policy for the Azure SDK clients, whose pipeline takes a Node https.Agent: the app's
 * own host and a refused literal address fail before any connection, names go through the
 * filtered lookup, and the connected socket's address is checked again. `ca` is the set of
 * trusted CA certificates (the system roots plus any extra). Connections are kept alive.
 */
export function egressHttpsAgent(policy: EgressPolicy, ca?: readonly string[]): HttpsAgent {
  class EgressHttpsAgent extends HttpsAgent {
    // Node's https.Agent returns the socket synchronously; undefined plus the callback's error refuses it.
    override createConnection(options: RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | undefined {
      const host = String(options.host ?? options.hostname ?? "").replace(/^\[|\]$/g, "");
      const port = String(options.port ?? 443);
      const refusal = isSelfHost(host, port, policy) ? `${host}:${port} is this app itself` : isIP(host) ? addressRefusal(host, policy) : undefined;
      if (refusal) {
        (callback as unknown as (err: Error) => void)?.(new EgressRefusedError(refusal));
        return undefined;
      }
      const socket = super.createConnection({ ...options, lookup: filteredLookup(policy) }, callback) as Socket;
      socket.once("connect", () => {
        const remote = socket.remoteAddress ?? "";
        const late = addressRefusal(remote, policy) ?? (isSelfHost(remote, String(socket.remotePort), policy) ? `${remote} is this app itself` : undefined);
        if (late) socket.destroy(new EgressRefusedError(late));
      });
      return socket;
    }
  }
  // The CAs go in one secure context made once: as the agent's `ca` option Node would join every
  // certificate into the connection pool's key on each request (most of a switch call's CPU).
  return new EgressHttpsAgent({ keepAlive: true, ...(ca ? { secureContext: createSecureContext({ ca: [...ca] }) } : {}) });
}

/** A fetch under the policy: the URL is checked before anything is sent, every connection by the agent. */
export type EgressFetch = (url: string, init?: Omit<RequestInit, "dispatcher">) => Promise<Response>;

/** The one egress-checked fetch for outbound calls that are not probes (switch-plan webhooks, the data-path probe). */
export function egressFetch(policy: EgressPolicy, dispatcher: Dispatcher = egressAgent(policy)): EgressFetch {
  return async (url, init = {}) => {
    const refused = urlRefusal(new URL(url), policy);
    if (refused) throw new TypeError("fetch failed", { cause: new EgressRefusedError(refused) });
    return fetch(url, { ...init, dispatcher });
  };
}

/** Why an outbound fetch threw: it timed out, the egress policy refused it, or the network failed (its code or message). */
export function fetchFailure(err: unknown, timeoutMs: number): { kind: "timeout" | "refused" | "network"; message: string } {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === "TimeoutError" || e.name === "AbortError") return { kind: "timeout", message: `no answer within ${timeoutMs} ms` };
  if (e.cause?.code === "EGRESS_REFUSED") return { kind: "refused", message: `refused by the egress policy: ${e.cause.message}` };
  return { kind: "network", message: e.cause?.code ?? e.message };
}

/** Reads the policy from app settings: EGRESS_ALLOW_PRIVATE, and the app's own host name. */
export function egressPolicyFromSettings(allowPrivate: boolean, websiteHostname: string | undefined): EgressPolicy {
  const selfHosts = (websiteHostname ?? "")
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "");
  return { allowPrivate, selfHosts };
}

/**
 * The problems of a pair of health endpoints, checked when a group is created: each an
 * absolute http(s) URL of at most 2048 characters, without user:password@, allowed by the
 * egress policy, and the two different. Each issue names its field.
 */
export function endpointIssues(endpoints: { primary_endpoint: string; secondary_endpoint: string }, policy: EgressPolicy): Array<{ path: string; message: string }> {
  const issues: Array<{ path: string; message: string }> = [];
  for (const field of ["primary_endpoint", "secondary_endpoint"] as const) {
    const value = endpoints[field];
    if (value.length > TEXT_LIMITS.url) {
      issues.push({ path: field, message: `must be at most ${TEXT_LIMITS.url} characters (got ${value.length})` });
      continue;
    }
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      issues.push({ path: field, message: "must be an absolute http:// or https:// URL" });
      continue;
    }
    if (url.username !== "" || url.password !== "") {
      issues.push({ path: field, message: "must not carry user:password@ (credentials in a health URL end up in logs)" });
      continue;
    }
    const secrets = [...url.searchParams.keys()].filter(isSecretQueryName);
    if (secrets.length > 0) {
      issues.push({
        path: field,
        message: `must not carry a secret in its query (${secrets.map((n) => `${n}=`).join(", ")}): a health URL is shown to every reader and written to logs; use a health path that needs no key`,
      });
      continue;
    }
    const refusal = urlRefusal(url, policy);
    if (refusal) issues.push({ path: field, message: `refused by the egress policy: ${refusal}` });
  }
  if (issues.length === 0 && new URL(endpoints.primary_endpoint).href === new URL(endpoints.secondary_endpoint).href) {
    issues.push({ path: "secondary_endpoint", message: "must differ from primary_endpoint (a failover to the same endpoint changes nothing)" });
  }
  return issues;
}
