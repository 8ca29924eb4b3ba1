import { fetchFailure } from "../egress";

/**
 * Errors a switch step raises, classified so the row can say what went wrong and the next
 * cycle knows how long to wait: forbidden, not_found, throttled, conflict, timeout,
 * server_error, invalid (the service refused the request as malformed) and refused (the step
 * itself refused, e.g. it would have left no side enabled).
 */

export type StepErrorClass = "forbidden" | "not_found" | "throttled" | "conflict" | "timeout" | "server_error" | "invalid" | "refused";

export class StepError extends Error {
  constructor(
    readonly errorClass: StepErrorClass,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message.slice(0, 1000));
    this.name = "StepError";
  }
}

/** The built-in role that grants an action, for messages that say what to grant. */
const ROLE_FOR_ACTION: ReadonlyArray<[RegExp, string]> = [
  [/^Microsoft\.Network\/trafficManagerProfiles\//i, "Traffic Manager Contributor (a4b10055-b0c7-44c2-b00f-c7b5b3550cf7)"],
  [/^Microsoft\.Cdn\//i, "CDN Profile Contributor (ec156ff8-a8d1-4d15-830c-5b80698ca432)"],
  [/^Microsoft\.Network\/dnszones\//i, "DNS Zone Contributor (befefa01-2a29-4197-83a8-272ff33ce314)"],
  [/^Microsoft\.AppConfiguration\//i, "App Configuration Data Owner (5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b)"],
];

/** A fetch of a step's own HTTP call that threw (timeout, egress refusal, network), as a step error labelled with the step. */
export function fetchStepError(label: string, err: unknown, timeoutMs: number): StepError {
  const failure = fetchFailure(err, timeoutMs);
  return new StepError(failure.kind === "network" ? "server_error" : failure.kind, `${label}: ${failure.message}`);
}

export function roleForAction(action: string): string | undefined {
  return ROLE_FOR_ACTION.find(([pattern]) => pattern.test(action))?.[1];
}

/** Retry-After in seconds or as an HTTP date, in ms from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | undefined {
  if (!value) return undefined;
  if (/^\d{1,6}$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

export function classifyStatus(status: number): StepErrorClass {
  if (status === 401 || status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 429) return "throttled";
  if (status === 409 || status === 412) return "conflict";
  if (status === 408 || status === 504) return "timeout";
  if (status >= 500) return "server_error";
  return "invalid";
}

interface RestErrorLike {
  readonly name: string;
  readonly message: string;
  readonly statusCode?: number;
  readonly code?: string;
  readonly response?: { readonly headers: { get(name: string): string | undefined } };
}

/** Turns whatever a step's SDK call threw into a StepError naming the operation; StepErrors pass through. */
export function toStepError(err: unknown, operation: string, nowMs: number): StepError {
  if (err instanceof StepError) return err;
  const e = err as RestErrorLike;
  if (e && e.name === "RestError" && typeof e.statusCode === "number") {
    const errorClass = classifyStatus(e.statusCode);
    const retryAfterMs = parseRetryAfter(e.response?.headers.get("retry-after"), nowMs);
    let message = `${operation}: HTTP ${e.statusCode}${e.code ? ` ${e.code}` : ""}: ${e.message}`;
    const action = /perform action '([^']+)'/.exec(e.message)?.[1];
    const scope = /over scope '([^']+)'/.exec(e.message)?.[1];
    const role = action ? roleForAction(action) : undefined;
    if (role) message += ` (grant ${role} on ${scope ?? "the resource"})`;
    return new StepError(errorClass, message, retryAfterMs);
  }
  if (e && (e.name === "AbortError" || e.name === "TimeoutError" || e.code === "ETIMEDOUT" || e.code === "REQUEST_SEND_ERROR" && /timeout/i.test(e.message))) {
    return new StepError("timeout", `${operation}: timed out (${e.message})`);
  }
  const message = e instanceof Error ? e.message : String(err);
  return new StepError("server_error", `${operation}: ${message}`);
}
