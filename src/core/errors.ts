import { formatIssues, type ValidationIssue } from "./validation";
import { redact } from "./redact";

/**
 * Errors the core raises on purpose. Each carries a stable machine-readable code so the
 * HTTP layer can map it to a status without string matching, and a message that names the
 * offending field, setting or group.
 */
export type FailoverErrorCode = "invalid_config" | "invalid_request" | "forbidden" | "too_large" | "state_not_found" | "malformed_state" | "conflict" | "precondition_failed" | "storage_unavailable";

export class FailoverError extends Error {
  /** The validation problems behind an invalid_request, invalid_config or malformed_state, as data. */
  readonly issues?: readonly ValidationIssue[];

  constructor(
    readonly code: FailoverErrorCode,
    message: string,
    options?: { cause?: unknown; issues?: readonly ValidationIssue[] },
  ) {
    super(message, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = "FailoverError";
    if (options?.issues && options.issues.length > 0) this.issues = options.issues;
  }
}

/** A bad request: the message is `path: message; ...`, and the issues travel with it as data. */
export function invalidRequest(...issues: readonly ValidationIssue[]): FailoverError {
  return new FailoverError("invalid_request", formatIssues(issues), { issues });
}

export function isFailoverError(err: unknown, code?: FailoverErrorCode): err is FailoverError {
  return err instanceof FailoverError && (code === undefined || err.code === code);
}

/** A short description of any thrown value, secrets redacted, for last_error, logs and error bodies. */
export function describeError(err: unknown): string {
  const text = err instanceof FailoverError ? err.message : err instanceof Error ? `${err.name === "Error" ? "" : `${err.name}: `}${err.message}` : String(err);
  return redact(text).slice(0, 1000);
}
