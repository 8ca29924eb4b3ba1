import { fetchFailure } from "../egress";

/**
 * Errors a switch step raises, classified so the row can say what went wrong and the saga
 * knows what to do next.
 *
 * Transient (retried after a backoff that honours Retry-After): throttled (429), server_error
 * (5xx, a connection error, a long-running operation that ended Failed), timeout (no answer
 * within the call's deadline, 408, 504), mismatch (the service answered, but a read shows
 * something else than was written).
 * Permanent (the saga stops writing and a human must act): forbidden (401, 403), not_found
 * (404), locked (409 ScopeLocked: a resource lock), conflict (any other 409, or a 412 that
 * kept failing), invalid (400 and other 4xx: the service refused the request as malformed),
 * refused (the step itself refused: the egress policy, an alias record set, a host that is no
 * App Configuration store).
 * superseded: the row's intent changed while the apply ran; it stopped without writing more.
 */

export const TRANSIENT_CLASSES = ["throttled", "server_error", "timeout", "mismatch"] as const;
export const PERMANENT_CLASSES = ["forbidden", "not_found", "locked", "conflict", "invalid", "refused"] as const;
export type StepErrorClass = (typeof TRANSIENT_CLASSES)[number] | (typeof PERMANENT_CLASSES)[number] | "superseded";

export function isPermanent(errorClass: string | undefined): boolean {
  return (PERMANENT_CLASSES as readonly string[]).includes(errorClass ?? "");
}

export class StepError extends Error {
  /** The HTTP status the service answered, when it answered. */
  readonly status?: number;
  /** The service's error code (AuthorizationFailed, ScopeLocked, ...). */
  readonly code?: string;
  /** The request was never sent (the cycle had already stopped): nothing changed. */
  readonly notSent?: boolean;

  constructor(
    readonly errorClass: StepErrorClass,
    message: string,
    readonly retryAfterMs?: number,
    extra: { status?: number; code?: string; notSent?: boolean } = {},
  ) {
    super(message.slice(0, 1000));
    this.name = "StepError";
    if (extra.status !== undefined) this.status = extra.status;
    if (extra.code !== undefined) this.code = extra.code;
    if (extra.notSent) this.notSent = true;
  }
}

/** The built-in role that grants an action, for messages that say what to grant. */
const ROLE_FOR_ACTION: ReadonlyArray<[RegExp, string]> = [
  [/^Microsoft\.Network\/trafficManagerProfiles\//i, "Traffic Manager Contributor (a4b10055-b0c7-44c2-b00f-c7b5b3550cf7)"],
  [/^Microsoft\.Cdn\//i, "CDN Profile Contributor (ec156ff8-a8d1-4d15-830c-5b80698ca432)"],
  [/^Microsoft\.Network\/dnszones\//i, "DNS Zone Contributor (befefa01-2a29-4197-83a8-272ff33ce314)"],
  [/^Microsoft\.AppConfiguration\//i, "App Configuration Data Owner (5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b)"],
  [/^Microsoft\.Sql\//i, "SQL Server Contributor (6d8ee4ec-f05a-4a1d-8b00-a9b17e38b437)"],
  [/^Microsoft\.DocumentDB\//i, "DocumentDB Account Contributor (5bd9cd88-fe45-4216-938b-f97437e15450)"],
  [/^Microsoft\.Storage\//i, "Storage Account Contributor (17d1049b-9a84-46fb-8f53-869881c3d3ab)"],
];

/** A fetch of a step's own HTTP call that threw (timeout, egress refusal, network), as a step error labelled with the step. */
export function fetchStepError(label: string, err: unknown, timeoutMs: number): StepError {
  if (err instanceof StepError) return err;
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

export function classifyStatus(status: number, code?: string): StepErrorClass {
  if (status === 401 || status === 403) return "forbidden";
  if (status === 404) return "not_found";
  if (status === 429) return "throttled";
  if (status === 409 && code === "ScopeLocked") return "locked";
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
    const errorClass = classifyStatus(e.statusCode, e.code);
    const retryAfterMs = parseRetryAfter(e.response?.headers.get("retry-after"), nowMs);
    let message = `${operation}: HTTP ${e.statusCode}${e.code ? ` ${e.code}` : ""}: ${e.message}`;
    const action = /perform action '([^']+)'/.exec(e.message)?.[1];
    const scope = /over scope '([^']+)'/.exec(e.message)?.[1];
    const role = action ? roleForAction(action) : undefined;
    if (role) message += ` (grant ${role} on ${scope ?? "the resource"})`;
    return new StepError(errorClass, message, retryAfterMs, { status: e.statusCode, ...(e.code ? { code: e.code } : {}) });
  }
  if (e && (e.name === "AbortError" || e.name === "TimeoutError" || e.code === "ETIMEDOUT" || (e.code === "REQUEST_SEND_ERROR" && /timeout/i.test(e.message)))) {
    return new StepError("timeout", `${operation}: timed out (${e.message})`);
  }
  const message = e instanceof Error ? e.message : String(err);
  if ((e as { code?: string })?.code === "EGRESS_REFUSED" || (e as { cause?: { code?: string } })?.cause?.code === "EGRESS_REFUSED") {
    return new StepError("refused", `${operation}: refused by the egress policy: ${message}`);
  }
  // A long-running operation that ended Failed (core-lro throws a plain Error) and connection errors: transient.
  return new StepError("server_error", `${operation}: ${message}`);
}

/** What a human should do about a permanent error, by its class (the message names the resource). */
export function operatorAction(errorClass: string | undefined): string {
  switch (errorClass) {
    case "forbidden":
      return "grant the app's identity the role named in the error (GET /api/readiness names it), then retry the switch";
    case "locked":
      return "remove the resource lock named in the error (az lock list), or ask its owner, then retry the switch";
    case "not_found":
      return "the resource is missing: create it or correct the step in the switch plan, then retry the switch";
    case "conflict":
      return "someone else keeps changing the resource or an operation is in progress on it: find out who, then retry the switch";
    case "invalid":
      return "the service refused the request as malformed: correct the step in the switch plan, then retry the switch";
    case "refused":
      return "the step refused to run: correct the switch plan or the settings named in the error, then retry the switch";
    default:
      return "read the error, fix its cause, then retry the switch";
  }
}
