import type { FailoverDeps } from "../deps";
import { cleanText, TEXT_LIMITS } from "../text";
import { recordTransition } from "./recordTransition";

/**
 * The watchdog found the group's loop Suspended (nothing was checking) and resumed it: an
 * audit entry (and, with a webhook, a notification) says so. The row is read, not written.
 */
export async function recordLoopResumed(deps: FailoverDeps, group: string, detail: string): Promise<void> {
  const { state } = await deps.store.load(group);
  const transition = {
    at: deps.clock.now().toISOString(),
    kind: "loop_resumed" as const,
    from: state.active_target,
    to: state.active_target,
    reason: cleanText(`the orchestration was Suspended, so no checks ran; the watchdog resumed it (${detail})`, TEXT_LIMITS.reason),
    actor: "watchdog",
  };
  await recordTransition(deps, group, transition, state);
}
