/**
 * Concurrent callers asking the same question share one answer in flight: while a call for
 * `key` runs, every other call for `key` gets the same promise instead of starting its own.
 * Nothing is cached once it settles. Manual health checks use it so a crowd of pollers makes
 * one probe, not one each.
 */
export class InFlight<T> {
  private readonly running = new Map<string, Promise<T>>();

  run(key: string, start: () => Promise<T>): Promise<T> {
    const existing = this.running.get(key);
    if (existing) return existing;
    const promise = start().finally(() => this.running.delete(key));
    this.running.set(key, promise);
    return promise;
  }

  get size(): number {
    return this.running.size;
  }
}
