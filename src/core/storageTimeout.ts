import type { TableClient } from "@azure/data-tables";
import type { PipelinePolicy } from "@azure/core-rest-pipeline";

/**
 * Every storage call has a deadline. A frozen storage (connections accepted, nothing
 * answered) would otherwise hold a request or an orchestration cycle for as long as it stays
 * frozen. The deadline covers the whole call, retries included, so a caller gets its JSON 503
 * in bounded time and the loop's next cycle simply tries again.
 */

/** Whole-call deadline of one storage operation (retries included). */
export const STORAGE_CALL_TIMEOUT_MS = 8000;

export class StorageTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer from Table storage within ${timeoutMs / 1000} s`);
    this.name = "StorageTimeoutError";
  }
}

/** A pipeline policy (no phase: it runs before the retry policy) that aborts the call at the deadline. */
export function deadlinePolicy(timeoutMs: number): PipelinePolicy {
  return {
    name: "failoverStorageDeadline",
    async sendRequest(request, next) {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      const caller = request.abortSignal;
      const passOn = () => controller.abort();
      if (caller?.aborted) controller.abort();
      caller?.addEventListener("abort", passOn);
      request.abortSignal = controller.signal;
      try {
        return await next(request);
      } catch (err) {
        if (controller.signal.aborted && !caller?.aborted) throw new StorageTimeoutError(timeoutMs);
        throw err;
      } finally {
        clearTimeout(timer);
        caller?.removeEventListener("abort", passOn);
      }
    },
  };
}

/** Adds the deadline to a table client's pipeline; returns the client. */
export function withDeadline(client: TableClient, timeoutMs: number = STORAGE_CALL_TIMEOUT_MS): TableClient {
  client.pipeline.addPolicy(deadlinePolicy(timeoutMs));
  return client;
}
