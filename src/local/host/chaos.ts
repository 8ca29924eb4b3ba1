/**
 * Chaos mode of the local task hub: what the Durable extension on Azure Storage may do to an
 * app and a quiet local run never does. Tests and the soak switch it on; it is off by default.
 *
 * - Activities delivered twice (at-least-once delivery, as after a host restart between the
 *   activity's work and its completion message). The task hub keeps the first completion and
 *   drops the second, as the extension does; the activity's side effects happen twice.
 * - Timers firing late, by up to the queue polling interval plus jitter.
 * - An external event raised while an execution is continuing as new (it then reaches the new
 *   execution, as the extension carries it over).
 */

export interface ChaosOptions {
  /** Seed of the pseudo-random choices, so a failing run can be replayed. */
  readonly seed: number;
  /** Probability (0-1) that an activity runs and reports twice. */
  readonly duplicateActivities: number;
  /** Upper bound of a timer's lateness, in ms (queue polling interval plus jitter). */
  readonly lateTimersMs: number;
  /** An event raised, with this probability, at each continueAsNew. */
  readonly eventOnContinueAsNew?: { readonly name: string; readonly probability: number };
}

export interface ChaosCounters {
  duplicateActivities: number;
  duplicateCompletionsDropped: number;
  lateTimers: number;
  eventsOnContinueAsNew: number;
}

/** Chaos as the extension with the Azure Storage provider and a 2 s polling interval could produce it. */
export function azureStorageChaos(seed: number, eventName: string): ChaosOptions {
  return { seed, duplicateActivities: 0.1, lateTimersMs: 2_000 + 500, eventOnContinueAsNew: { name: eventName, probability: 0.05 } };
}

/** mulberry32: a small seeded generator; the same seed gives the same run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
