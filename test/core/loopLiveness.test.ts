import { WATCHDOG_PERIOD_SECONDS, isLooping, nextCheckDue, shouldResume, shouldStart, stuckLoopAction } from "../../src/core/orchestrationContract";

/** What the watchdog does with each loop, as pure decisions of its status and the time. */
describe("the watchdog's view of a loop", () => {
  const now = new Date("2026-06-01T12:00:00Z");
  const ago = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
  const cycle = (lastAgo: number, interval: number) => ({ runtime_status: "Running", last_cycle_utc: ago(lastAgo), next_check_utc: ago(lastAgo - interval) });

  test("start a missing or ended loop, resume a Suspended one, leave a running one", () => {
    expect([undefined, "Completed", "Failed", "Terminated", "Canceled"].map(shouldStart)).toEqual([true, true, true, true, true]);
    expect(["Running", "Pending", "ContinuedAsNew", "Suspended"].map(shouldStart)).toEqual([false, false, false, false]);
    expect(["Suspended", "Running"].map(shouldResume)).toEqual([true, false]);
    expect(["Running", "Pending", "Suspended", "Failed"].map(isLooping)).toEqual([true, true, false, false]);
  });

  test("a loop whose next check is up to 3 intervals late is left alone; later it is woken; a watchdog period after that it is restarted", () => {
    expect(stuckLoopAction(cycle(30, 30), 30, now)).toEqual({ action: "none", overdueSeconds: 0, intervalSeconds: 30 });
    expect(stuckLoopAction(cycle(30 + 90, 30), 30, now)).toMatchObject({ action: "none", overdueSeconds: 90 });
    expect(stuckLoopAction(cycle(30 + 91, 30), 30, now)).toMatchObject({ action: "wake", overdueSeconds: 91 });
    expect(stuckLoopAction(cycle(30 + 90 + WATCHDOG_PERIOD_SECONDS, 30), 30, now)).toMatchObject({ action: "wake" });
    expect(stuckLoopAction(cycle(30 + 91 + WATCHDOG_PERIOD_SECONDS, 30), 30, now)).toMatchObject({ action: "restart" });
    // The group's own interval, from its custom status, not the default setting.
    expect(stuckLoopAction(cycle(10 + 31, 10), 300, now)).toMatchObject({ action: "wake", intervalSeconds: 10 });
  });

  test("a Pending loop with no cycle yet is judged by its last update; a Suspended or ended loop is not this decision's", () => {
    expect(stuckLoopAction({ runtime_status: "Pending", last_updated_time: ago(100) }, 30, now)).toMatchObject({ action: "wake" });
    expect(stuckLoopAction({ runtime_status: "Pending", last_updated_time: ago(60) }, 30, now)).toMatchObject({ action: "none" });
    expect(stuckLoopAction({ ...cycle(10_000, 30), runtime_status: "Suspended" }, 30, now)).toMatchObject({ action: "none" });
    expect(stuckLoopAction({ ...cycle(10_000, 30), runtime_status: "Failed" }, 30, now)).toMatchObject({ action: "none" });
  });
});

describe("when the next cycle is due", () => {
  const start = new Date("2026-05-01T12:00:00.000Z");
  const at = (s: number) => new Date(start.getTime() + s * 1000);
  const now = at(0.2);

  test("one interval after the last counted check; after this cycle's start when the check failed; never in the past", () => {
    expect(nextCheckDue({ next_counted_check_utc: at(30).toISOString() }, undefined, start, 30, now)).toEqual(at(30));
    expect(nextCheckDue(undefined, undefined, start, 30, now)).toEqual(at(30));
    expect(nextCheckDue({ next_counted_check_utc: at(-5).toISOString() }, undefined, start, 30, now)).toEqual(now);
  });

  test("a waiting proposal's timeout when it comes first (and is still ahead); a drill's switchback at once", () => {
    const counted = at(30).toISOString();
    expect(nextCheckDue({ next_counted_check_utc: counted, approval_due_utc: at(10).toISOString() }, undefined, start, 30, now)).toEqual(at(10));
    expect(nextCheckDue({ next_counted_check_utc: counted, approval_due_utc: at(40).toISOString() }, undefined, start, 30, now)).toEqual(at(30));
    // A timeout already past (proceed waiting on a refused switch) does not make the loop spin.
    expect(nextCheckDue({ next_counted_check_utc: counted, approval_due_utc: at(-1).toISOString() }, undefined, start, 30, now)).toEqual(at(30));
    expect(nextCheckDue({ next_counted_check_utc: counted }, { run_again: true }, start, 30, now)).toEqual(now);
  });
});
