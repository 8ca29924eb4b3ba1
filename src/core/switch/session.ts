import { randomUUID } from "node:crypto";
import { z } from "zod";
import { StepError, toStepError } from "./stepErrors";

/**
 * What one switch cycle gives its steps for every outbound call: a deadline, a fence and a
 * ledger entry.
 *
 * - Deadline: each call gets an abort signal that fires at the call timeout, at the end of the
 *   cycle's budget, or as soon as another call of the same cycle has timed out (a service that
 *   hangs is not asked again in that cycle: the loop goes on to its next check and the saga
 *   retries on a later cycle). A call that ignores its signal is still abandoned at the deadline.
 * - Fence: before each write the apply asks whether its intent is still the row's; a superseded
 *   apply stops before writing anything more.
 * - Ledger: every write that reaches a service is recorded (what, before -> after, the result,
 *   the intent, how long), also when it fails or times out, so the audit record of the switch
 *   shows every change made to the world. With `record` (a switch cycle's), the entry reaches the
 *   row before the write is sent, as pending, and the cycle's row write replaces it with the
 *   outcome: a write whose outcome never reached the row (the storage refused it) is still there.
 */

/** One write a switch made to the world. */
export const ledgerEntrySchema = z.object({
  id: z.string().optional().describe("Names one write: its pending entry, recorded before it was sent, and its outcome share it."),
  at: z.string().describe("When the write was sent (ISO)."),
  step: z.string().describe('The step\'s label, e.g. "traffic_manager tm-app".'),
  method: z.string(),
  resource: z.string().describe('The resource written, short: "trafficManagerProfiles/tm-app/ExternalEndpoints/app-west".'),
  change: z.string().describe('"Disabled -> Enabled".'),
  result: z.string().describe('"ok", what the service answered ("ok (Enabled)", "accepted; operation Succeeded") or the error class with the status ("locked 409", "timeout").'),
  intent: z.string().describe("The switch intent the write belonged to (the row's switch_intent_id)."),
  ms: z.number(),
});
export type LedgerEntry = z.infer<typeof ledgerEntrySchema>;

export interface WriteDescription {
  readonly method: string;
  readonly resource: string;
  readonly before: string;
  readonly after: string;
}

/** The calls of one step: reads and writes with the cycle's deadline, fence and ledger, errors named after the step. */
export interface StepCalls {
  readonly label: string;
  readonly now: () => number;
  /** A read (or any call that changes nothing): runs with the call's deadline; errors become StepErrors naming the operation. */
  read<T>(operation: string, fn: (signal: AbortSignal) => Promise<T>, timeoutMs?: number): Promise<T>;
  /** A write: the fence (or the pending entry recorded), then the call with its deadline, then a ledger entry (also when it fails). */
  write<T>(change: WriteDescription, fn: (signal: AbortSignal) => Promise<T>, options?: { timeoutMs?: number; result?: (value: T) => string }): Promise<T>;
  /** Replaces the result of this step's last write in the ledger (a long-running operation's outcome, known later). */
  amend(result: string): void;
}

export interface SessionOptions {
  /** Deadline of one call, in ms. */
  readonly callTimeoutMs: number;
  /** Budget of the whole cycle, in ms: no call starts after it, a call running at its end is aborted. */
  readonly budgetMs: number;
  readonly now?: () => number;
  /** The switch intent the writes belong to, for the ledger. */
  readonly intent?: string;
  /** Throws (a StepError of class superseded) when the row's intent is no longer this one. Absent: writes are refused. */
  readonly fence?: () => Promise<void>;
  /**
   * Records a write's pending entry (result PENDING_RESULT) on the row before the write is sent,
   * conditionally on the row's intent being still this one (it throws a superseded StepError if
   * not): the fence of that write. A write whose entry cannot be recorded is not sent.
   */
  readonly record?: (entry: LedgerEntry) => Promise<void>;
}

/** The result of a write's entry recorded before it was sent; the cycle's row write replaces it with the outcome. */
export const PENDING_RESULT = "pending: recorded before it was sent; no outcome recorded";

/** How old a fence read may be when a write relies on it. */
const FENCE_FRESH_MS = 1000;

export class SwitchSession {
  readonly ledger: LedgerEntry[] = [];
  readonly now: () => number;
  /** The switch intent the writes belong to (the ledger names it). */
  intent: string;
  private readonly cycle = new AbortController();
  private readonly budgetTimer: NodeJS.Timeout;

  constructor(private readonly options: SessionOptions) {
    this.now = options.now ?? Date.now;
    this.intent = options.intent ?? "";
    this.budgetTimer = setTimeout(() => this.stop(`the switch cycle's budget of ${options.budgetMs} ms is spent`), options.budgetMs);
    this.budgetTimer.unref();
  }

  /**
   * The fence read runs beside the read that precedes a write (a step reads a resource, then
   * writes it), so it costs no extra round trip: a write waits for a fence read that started
   * after the previous write and at most FENCE_FRESH_MS ago, else for a new one.
   */
  private fence?: { readonly promise: Promise<void>; readonly startedAt: number };

  /** Set while the cycle applies (it will write): only then do reads start fence reads beside them. */
  applying = false;

  private startFence(): void {
    if (!this.options.fence || this.options.record || (this.fence && Date.now() - this.fence.startedAt <= FENCE_FRESH_MS)) return;
    const promise = this.options.fence();
    promise.catch(() => undefined); // awaited (and thrown) by the write that needs it
    this.fence = { promise, startedAt: Date.now() };
  }

  private async fenced(): Promise<void> {
    this.startFence();
    const fence = this.fence!;
    this.fence = undefined; // the next write needs a fence read that starts after this one
    await fence.promise;
  }

  /** Why no more calls are made in this cycle, once that is so. */
  get stopped(): string | undefined {
    return this.cycle.signal.aborted ? String(this.cycle.signal.reason) : undefined;
  }

  stop(reason: string): void {
    if (!this.cycle.signal.aborted) this.cycle.abort(reason);
  }

  /** Ends the session's timer; calls still running are not touched. */
  close(): void {
    clearTimeout(this.budgetTimer);
  }

  calls(label: string): StepCalls {
    return {
      label,
      now: this.now,
      amend: (result) => {
        const last = [...this.ledger].reverse().find((e) => e.step === label);
        if (last) last.result = result;
      },
      read: (operation, fn, timeoutMs) => {
        if (this.applying) this.startFence();
        return this.run(`${label}: ${operation}`, fn, timeoutMs ?? this.options.callTimeoutMs);
      },
      write: async (change, fn, options = {}) => {
        if (!this.options.fence) throw new StepError("refused", `${label}: ${change.method} ${change.resource}: this session only reads`);
        const id = randomUUID().slice(0, 13);
        let started = this.now();
        const entry = (result: string): LedgerEntry => ({
          id,
          at: new Date(started).toISOString(),
          step: label,
          method: change.method,
          resource: change.resource,
          change: `${change.before} -> ${change.after}`,
          result,
          intent: this.intent,
          ms: Math.max(0, this.now() - started),
        });
        if (this.options.record) {
          const record = this.options.record;
          const operation = `${label}: ${change.method} ${change.resource}: its ledger entry, recorded on the row before the write`;
          try {
            await this.run(operation, () => record(entry(PENDING_RESULT)), this.options.callTimeoutMs);
          } catch (err) {
            const e = err instanceof StepError ? err : toStepError(err, operation, this.now());
            if (e.errorClass === "superseded") throw e;
            // Not recorded, not sent: a write the row cannot show is never made.
            throw new StepError(e.errorClass, `${e.message}; the write was not sent`, e.retryAfterMs, { notSent: true });
          }
          started = this.now();
        } else await this.fenced();
        try {
          const value = await this.run(`${label}: ${change.method} ${change.resource}`, fn, options.timeoutMs ?? this.options.callTimeoutMs);
          this.ledger.push(entry(options.result ? options.result(value) : "ok"));
          return value;
        } catch (err) {
          const e = err as StepError;
          // A write never sent (the cycle had already stopped) changed nothing and is not in the ledger.
          if (!e.notSent) this.ledger.push(entry(`${e.errorClass}${e.status ? ` ${e.status}` : ""}`));
          throw err;
        }
      },
    };
  }

  private async run<T>(operation: string, fn: (signal: AbortSignal) => Promise<T>, timeoutMs: number): Promise<T> {
    if (this.cycle.signal.aborted) throw new StepError("timeout", `${operation}: not attempted: ${this.stopped}`, undefined, { notSent: true });
    const own = new AbortController();
    const timer = setTimeout(() => own.abort(new StepError("timeout", `${operation}: no answer within ${timeoutMs} ms`)), timeoutMs);
    const signal = AbortSignal.any([own.signal, this.cycle.signal]);
    // The deadline holds even for a call that ignores its signal: the race ends the wait.
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason instanceof StepError ? signal.reason : new StepError("timeout", `${operation}: abandoned: ${String(signal.reason)}`));
      signal.addEventListener("abort", onAbort, { once: true });
    });
    aborted.catch(() => undefined);
    try {
      return await Promise.race([fn(signal), aborted]);
    } catch (err) {
      if (own.signal.aborted) {
        // This call hung: the rest of the cycle makes no more calls to anyone.
        this.stop(`an earlier call of this cycle timed out (${operation})`);
        throw own.signal.reason as StepError;
      }
      if (signal.aborted) throw new StepError("timeout", `${operation}: abandoned: ${this.stopped}`);
      throw toStepError(err, operation, this.now());
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  }
}

const MAX_LEDGER = 40;

/** A switch's ledger as the row and its audit entries keep it: the newest writes, and how many older ones were left out. */
export interface Ledger {
  readonly writes: readonly LedgerEntry[];
  readonly omitted: number;
}

export const EMPTY_LEDGER: Ledger = { writes: [], omitted: 0 };

/** The ledger with more writes, keeping the newest 40; a write whose entry is there already (the same id: its pending entry) replaces it. */
export function appendLedger(ledger: Ledger, writes: readonly LedgerEntry[]): Ledger {
  const all = [...ledger.writes];
  for (const write of writes) {
    const at = write.id === undefined ? -1 : all.findIndex((e) => e.id === write.id);
    if (at >= 0) all[at] = write;
    else all.push(write);
  }
  const kept = all.slice(-MAX_LEDGER);
  return { writes: kept, omitted: ledger.omitted + all.length - kept.length };
}

/** The ledger as JSON text (`{ writes, omitted }`), undefined when empty. */
export function ledgerText(ledger: Ledger): string | undefined {
  return ledger.writes.length === 0 && ledger.omitted === 0 ? undefined : JSON.stringify(ledger);
}

/** The ledger a row or an audit entry stores; an unreadable value yields an empty one. */
export function parseLedger(text: string | undefined): Ledger {
  if (!text) return EMPTY_LEDGER;
  try {
    const value = JSON.parse(text) as { writes?: unknown; omitted?: unknown };
    const writes = Array.isArray(value.writes) ? (value.writes.filter((e) => e && typeof e === "object" && typeof (e as LedgerEntry).method === "string") as LedgerEntry[]) : [];
    return { writes, omitted: typeof value.omitted === "number" && Number.isInteger(value.omitted) && value.omitted >= 0 ? value.omitted : 0 };
  } catch {
    return EMPTY_LEDGER;
  }
}
