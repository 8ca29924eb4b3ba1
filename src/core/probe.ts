import { request } from "undici";
import { z } from "zod";
import { EgressRefusedError, egressAgent, urlRefusal, type EgressPolicy } from "./egress";
import type { Policy, StatusRange } from "./knobs";

/** How a probe failed; `undefined` when it was healthy. `inconclusive`: fewer vantages voted than the quorum (see vantage.ts). */
export const PROBE_ERROR_CLASSES = ["timeout", "dns", "refused", "tls", "network", "http_status", "body_mismatch", "invalid_url", "egress_refused", "inconclusive"] as const;
export type ProbeErrorClass = (typeof PROBE_ERROR_CLASSES)[number];

export interface ProbeOptions {
  readonly timeoutMs: number;
  readonly expectedStatus: readonly StatusRange[];
  /** Text the body must contain; empty or absent: the body is not read. */
  readonly bodyMatch?: string;
  readonly maxBodyBytes: number;
  readonly followRedirects: boolean;
}

/** One probe of one endpoint. */
export const probeResultSchema = z.object({
  url: z.string(),
  healthy: z.boolean(),
  status_code: z.number().int().optional(),
  latency_ms: z.number(),
  error_class: z.enum(PROBE_ERROR_CLASSES).optional(),
  error: z.string().optional(),
  body_bytes_read: z.number().int().describe("Bytes of the body read: never more than probe_max_body_bytes (the last chunk is cut at the cap)."),
});
export type ProbeResult = Readonly<z.infer<typeof probeResultSchema>>;

export type Prober = (url: string, options: ProbeOptions) => Promise<ProbeResult>;

const TLS_CODES = /^(CERT_|ERR_TLS_|ERR_SSL_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_|EPROTO$|ERR_OSSL)/;

function errorCode(err: unknown): string | undefined {
  // fetch wraps socket errors: TypeError("fetch failed", { cause: { code } }), sometimes nested once more.
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current && typeof current === "object"; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string") return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function egressMessage(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current; depth++) {
    if (current instanceof EgressRefusedError) return current.message;
    current = (current as { cause?: unknown }).cause;
  }
  return "address not allowed";
}

function classify(err: unknown, signal: AbortSignal): { error_class: ProbeErrorClass; error: string } {
  const code = errorCode(err);
  const detail = code ?? (err instanceof Error ? err.message : String(err));
  if (signal.aborted || (err instanceof Error && err.name === "TimeoutError") || code === "UND_ERR_CONNECT_TIMEOUT" || code === "UND_ERR_HEADERS_TIMEOUT") {
    return { error_class: "timeout", error: "no complete answer within the probe timeout" };
  }
  if (code === "EGRESS_REFUSED") return { error_class: "egress_refused", error: `refused by the egress policy: ${egressMessage(err)}` };
  if (code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "EAI_FAIL") return { error_class: "dns", error: `name resolution failed (${detail})` };
  if (code === "ECONNREFUSED") return { error_class: "refused", error: "connection refused" };
  if (code !== undefined && TLS_CODES.test(code)) return { error_class: "tls", error: `TLS handshake failed (${detail})` };
  return { error_class: "network", error: `request failed (${detail})` };
}

function parseTarget(url: string): URL | undefined {
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Reads at most `cap` bytes of a body (a web or a Node stream), then lets go of the rest (the stream is cancelled). */
export async function readCapped(body: AsyncIterable<Uint8Array>, cap: number): Promise<{ text: string; bytes: number }> {
  const decoder = new TextDecoder();
  let text = "";
  let bytes = 0;
  if (cap <= 0) return { text, bytes };
  // Leaving the loop early (break or throw) cancels the stream.
  for await (const value of body) {
    const chunk = value.byteLength > cap - bytes ? value.subarray(0, cap - bytes) : value;
    bytes += chunk.byteLength;
    text += decoder.decode(chunk, { stream: true });
    if (bytes >= cap) break;
  }
  return { text: text + decoder.decode(), bytes };
}

/** Redirects followed at most (fetch's limit); one more fails the probe. */
const MAX_REDIRECTS = 20;

/**
 * The HTTP GET health probe under an egress policy (see egress.ts): every connection it opens,
 * redirect hops included, is checked on the address actually connected to. Never throws:
 * every failure, including a URL that does not parse or is refused, comes back as an
 * unhealthy result with an error class.
 */
export function createHttpProbe(egress: EgressPolicy): Prober {
  const dispatcher = egressAgent(egress);
  return async (url, options) => {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    const target = parseTarget(url);
    if (!target) {
      return { url, healthy: false, latency_ms: 0, error_class: "invalid_url", error: `"${url}" is not an absolute http(s) URL`, body_bytes_read: 0 };
    }
    const refused = urlRefusal(target, egress);
    if (refused) return { url, healthy: false, latency_ms: 0, error_class: "egress_refused", error: `refused by the egress policy: ${refused}`, body_bytes_read: 0 };
    // A timer cleared when the probe is done, not AbortSignal.timeout: that one fires on every
    // probe a timeout later, building a DOMException each time (1 % of a busy loop's CPU).
    const controller = new AbortController();
    const { signal } = controller;
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    let background = false;
    let status: number | undefined;
    try {
      // undici's request, not fetch: the probe needs the status and at most a capped body, and
      // fetch's streams, headers and abort objects cost several times the CPU of the call itself.
      const response = await request(target, {
        // One redirect too many fails as fetch does, instead of judging the last 3xx.
        ...{ throwOnMaxRedirect: true },
        method: "GET",
        maxRedirections: options.followRedirects ? MAX_REDIRECTS : 0,
        signal,
        dispatcher,
        headers: { "user-agent": "failover-orchestrator-probe/1", "cache-control": "no-cache", accept: "*/*" },
      });
      status = response.statusCode;
      const statusOk = options.expectedStatus.some((r) => status! >= r.min && status! <= r.max);
      const needle = options.bodyMatch ?? "";
      if (!statusOk || needle === "") {
        const latency = elapsed();
        // Read what is left of a small body in the background, so the connection is reused; the timeout still bounds it.
        background = true;
        response.body
          .dump()
          .catch(() => undefined)
          .finally(() => clearTimeout(timer));
        return statusOk
          ? { url, healthy: true, status_code: status, latency_ms: latency, body_bytes_read: 0 }
          : { url, healthy: false, status_code: status, latency_ms: latency, error_class: "http_status", error: `unexpected HTTP status ${status}`, body_bytes_read: 0 };
      }
      const body = await readCapped(response.body, options.maxBodyBytes);
      if (!body.text.includes(needle)) {
        return {
          url,
          healthy: false,
          status_code: status,
          latency_ms: elapsed(),
          error_class: "body_mismatch",
          error: `the first ${body.bytes} bytes of the body do not contain "${needle}"`,
          body_bytes_read: body.bytes,
        };
      }
      return { url, healthy: true, status_code: status, latency_ms: elapsed(), body_bytes_read: body.bytes };
    } catch (err) {
      return { url, healthy: false, ...(status !== undefined ? { status_code: status } : {}), latency_ms: elapsed(), ...classify(err, signal), body_bytes_read: 0 };
    } finally {
      if (!background) clearTimeout(timer);
    }
  };
}

/** The probe with loopback and private networks allowed (until the app's settings choose: see createHttpProbe). */
export const httpProbe: Prober = createHttpProbe({ allowPrivate: true, selfHosts: [] });

/** The probe settings of a group's effective policy. */
export function probeOptions(policy: Policy): ProbeOptions {
  return {
    timeoutMs: policy.probe_timeout_ms,
    expectedStatus: policy.probe_expected_status,
    bodyMatch: policy.probe_body_match,
    maxBodyBytes: policy.probe_max_body_bytes,
    followRedirects: policy.probe_follow_redirects,
  };
}

/**
 * A prober that probes each URL (with the same options) once per operation: a retried
 * decision on a re-read row reuses the probe of an unchanged URL and probes an edited one.
 */
export function probeOncePerUrl(probe: Prober): Prober {
  const done = new Map<string, Promise<ProbeResult>>();
  return (url, options) => {
    const key = JSON.stringify([url, options]);
    let result = done.get(key);
    if (!result) {
      result = probe(url, options);
      done.set(key, result);
    }
    return result;
  };
}
