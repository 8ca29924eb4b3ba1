/**
 * Where the local task hub gets its time and its timers. The wall clock is what `func start`
 * has; the virtual clock lets a soak run days of durable timers in seconds through the same
 * task hub code: time stands still until the driver advances it to the next scheduled moment.
 */

export interface HubClock {
  now(): Date;
  /** Calls `fn` at `at` (at once when it is past); the returned function cancels it. */
  schedule(at: Date, fn: () => void): () => void;
}

export const wallClock: HubClock = {
  now: () => new Date(),
  schedule(at, fn) {
    const timer = setTimeout(fn, Math.max(0, at.getTime() - Date.now()));
    return () => clearTimeout(timer);
  },
};

interface Entry {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

export class VirtualClock implements HubClock {
  private time: number;
  private seq = 0;
  private queue: Entry[] = [];

  constructor(start: Date) {
    this.time = start.getTime();
  }

  now(): Date {
    return new Date(this.time);
  }

  schedule(at: Date, fn: () => void): () => void {
    const entry: Entry = { at: Math.max(at.getTime(), this.time), seq: this.seq++, fn };
    this.queue.push(entry);
    return () => {
      this.queue = this.queue.filter((e) => e !== entry);
    };
  }

  /** Things scheduled and not yet run. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Moves time to the earliest scheduled moment and runs what is due then, in scheduling order.
   * With a window, it moves to the last moment scheduled within `windowMs` of the earliest and
   * runs all of that batch: some things then run up to `windowMs` late, never early (the way
   * timers behave on a polled queue). Returns false when nothing is scheduled.
   */
  advance(windowMs = 0): boolean {
    if (this.queue.length === 0) return false;
    const earliest = Math.min(...this.queue.map((e) => e.at));
    const next = Math.max(...this.queue.filter((e) => e.at <= earliest + windowMs).map((e) => e.at));
    this.time = next;
    const due = this.queue.filter((e) => e.at <= next).sort((a, b) => a.seq - b.seq);
    this.queue = this.queue.filter((e) => e.at > next);
    for (const entry of due) entry.fn();
    return true;
  }
}
