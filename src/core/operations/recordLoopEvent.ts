import type { FailoverDeps } from "../deps";
import { cleanText, TEXT_LIMITS } from "../text";
import { recordTransition } from "./recordTransition";

/**
 * The watchdog found the group's loop Suspended (nothing was checking) and resumed it: an
 * audit entry (and, with a webhook, a notification) says so. The row is read, not written.
 */
export async function recordLoopResumed(deps: FailoverDeps, group: string, detail: string): Promise<void> {
  await recordLoopEvent(deps, group, "loop_resumed", `the orchestration was Suspended, so no checks ran; the watchdog resumed it (${detail})`);
}

/** The watchdog found the group's loop stuck (alive, not cycling, a wake did not help) and started it again: its audit entry. */
export async function recordLoopRestarted(deps: FailoverDeps, group: string, detail: string): Promise<void> {
  await recordLoopEvent(deps, group, "loop_restarted", `the orchestration was stuck, so no checks ran (${detail}); a wake event did not help, so the watchdog terminated it and started it again`);
}

async function recordLoopEvent(deps: FailoverDeps, group: string, kind: "loop_resumed" | "loop_restarted", reason: string): Promise<void> {
  const { state } = await deps.store.load(group);
  const transition = { at: deps.clock.now().toISOString(), kind, from: state.active_target, to: state.active_target, reason: cleanText(reason, TEXT_LIMITS.reason), actor: "watchdog" };
  await recordTransition(deps, group, transition, state);
}
