/**
 * Which Traffic Manager endpoints and Front Door origins were enabled when, as the stand-in saw
 * it: on the control plane (what ARM reads) and, for Front Door, in the deployed view (what the
 * edge serves once a write's global deployment has finished; a write whose operation ended
 * Failed is never deployed). The tests measure from it the longest time a pair had nowhere to
 * send traffic, which must be 0.
 */

export type ServingView = "control" | "deployed";

export interface ServingEvent {
  readonly at: number;
  readonly id: string;
  readonly view: ServingView;
  readonly serving: boolean;
}

export class ServingLog {
  readonly events: ServingEvent[] = [];

  record(at: number, id: string, view: ServingView, serving: boolean): void {
    this.events.push({ at, id: id.toLowerCase(), view, serving });
  }

  /**
   * The longest stretch, in ms up to `until`, during which none of `ids` served in `view`
   * (counted from the first time every one of them has a known state), and when it began.
   */
  longestUnserved(ids: readonly string[], view: ServingView, until: number): { ms: number; from?: number } {
    const wanted = new Set(ids.map((id) => id.toLowerCase()));
    const events = this.events.filter((e) => e.view === view && wanted.has(e.id) && e.at <= until).sort((a, b) => a.at - b.at);
    const state = new Map<string, boolean>();
    let longest = { ms: 0 } as { ms: number; from?: number };
    let since: number | undefined;
    for (const e of events) {
      state.set(e.id, e.serving);
      if (state.size < wanted.size) continue;
      const none = [...state.values()].every((s) => !s);
      if (none && since === undefined) since = e.at;
      if (!none && since !== undefined) {
        if (e.at - since > longest.ms) longest = { ms: e.at - since, from: since };
        since = undefined;
      }
    }
    if (since !== undefined && until - since > longest.ms) longest = { ms: until - since, from: since };
    return longest;
  }
}
