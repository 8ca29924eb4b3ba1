import { FailoverError } from "../errors";
import type { FailoverDeps } from "../deps";
import { effectivePolicy, type FailoverState } from "../state";
import type { LoadedState, StateStore } from "../storage";

/** What a decision returns: the row to write (or none) and the caller's result. */
export interface Decision<R> {
  readonly next?: FailoverState;
  readonly result: R;
}

export const MAX_WRITE_ATTEMPTS = 5;

/**
 * The one retry loop of the core: read the row, decide on it (a decision may probe first),
 * write the result conditionally on that row's ETag. When another writer got there first
 * (412) the row is read again and the decision made again on the fresh row, at most
 * MAX_WRITE_ATTEMPTS reads in all. Whatever a decision probed belongs to the row it read,
 * so a probe made while the row changed can never be written over the newer row.
 */
export async function readDecideWrite<R>(store: StateStore, group: string, decide: (loaded: LoadedState) => Decision<R> | Promise<Decision<R>>, recent?: LoadedState): Promise<R> {
  // `recent`, the row as this process last wrote it (StateStore.lastWritten), saves the read when
  // nobody wrote the row since: the write on its ETag proves it. A decision that writes nothing, or
  // a write refused, is made again on a fresh read.
  if (recent) {
    const decision = await decide(recent);
    if (decision.next && (await store.replace(recent, decision.next))) return decision.result;
  }
  for (let attempt = 1; ; attempt++) {
    const loaded = await store.load(group);
    const decision = await decide(loaded);
    if (!decision.next || (await store.replace(loaded, decision.next))) return decision.result;
    if (attempt >= MAX_WRITE_ATTEMPTS) {
      throw new FailoverError("conflict", `Group "${group}" changed under ${MAX_WRITE_ATTEMPTS} write attempts in a row; nothing was written by this call`);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * attempt));
  }
}

/**
 * The row as this process last wrote it, when that was less than two intervals ago: then this
 * process most likely made the last write, and the loop's check (or the automatic switch right
 * after it) needs one storage call, the conditional write, instead of two. Older, the previous
 * check ran elsewhere (another instance), and reading first saves a write refused on a stale ETag.
 */
export function recentlyWritten(deps: FailoverDeps, group: string): LoadedState | undefined {
  const recent = deps.store.lastWritten(group);
  if (!recent) return undefined;
  const interval = effectivePolicy(deps.config.policy, recent.loaded.overrides).check_interval_seconds;
  return recent.ageMs < 2 * interval * 1000 ? recent.loaded : undefined;
}
