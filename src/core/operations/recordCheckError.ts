import type { FailoverDeps } from "../deps";

/** Records that a check could not run (last_status CHECK_ERROR, last_error), even on a malformed row. */
export async function recordCheckError(deps: FailoverDeps, group: string, message: string): Promise<void> {
  await deps.store.recordError(group, "CHECK_ERROR", message, deps.clock.now());
}
