import { FailoverError, describeError } from "./errors";
import { ERROR_STATUS, INTERNAL_ERROR } from "./httpRoutes";
import { redact, redactDeep } from "./redact";

/**
 * The JSON answer of a failure, and the line to log when it is the server's fault (a 5xx).
 * Secrets are redacted from both. The controller's and the agent's HTTP functions answer with it.
 */
export function errorAnswer(err: unknown): { status: number; jsonBody: unknown; logLine?: string } {
  if (err instanceof FailoverError) {
    const status = ERROR_STATUS[err.code];
    return {
      status,
      jsonBody: redactDeep({ error: err.code, message: err.message, ...(err.issues ? { issues: err.issues } : {}) }),
      ...(status >= 500 ? { logLine: redact(err.message) } : {}),
    };
  }
  const message = describeError(err);
  return { status: 500, jsonBody: { error: INTERNAL_ERROR, message }, logLine: message };
}
