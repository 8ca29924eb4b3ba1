import { history } from "../../src/local/host/replayHistory";
import { executionAnomalies, runSoak } from "../../src/local/tools/soak";

/** The soak (npm run soak runs 10,000 cycles in CI) in small, and what its checks catch. */

test("a short soak in chaos mode and virtual time: every cycle checked, no anomaly", async () => {
  const result = await runSoak({ cycles: 120, seed: 5, groups: 4 });
  expect(result.anomalies).toEqual([]);
  expect(result.cycles).toBeGreaterThanOrEqual(120);
  expect(result.virtualHours).toBeGreaterThan(0.2);
  // The watchdog ran every 5 virtual minutes and found every loop alive (a wake or a restart would be an anomaly: a logged line).
  expect(result.watchdogRuns).toBeGreaterThanOrEqual(2);
  expect(result.chaos.duplicateActivities + result.chaos.lateTimers + result.chaos.eventsOnContinueAsNew).toBeGreaterThan(0);
}, 120_000);

describe("the soak's checks flag", () => {
  const t0 = new Date("2026-01-01T00:00:00Z");
  const at = (s: number) => new Date(t0.getTime() + s * 1000);
  const record = (events: ReturnType<typeof history.orchestratorStarted>[]) => ({ instanceId: "failover-g", executionId: "e1", outcome: "ContinuedAsNew" as const, history: events });
  const start = history.executionStarted(t0, "failover_orchestrator", {});

  test("an execution without its health check, and a short cycle without a wake", () => {
    const found = executionAnomalies(record([start, history.timerCreated(at(0), 0, at(30))]), at(5).getTime(), 30);
    expect(found).toEqual([expect.stringContaining("ran 0 health checks, not 1"), expect.stringContaining("lasted 5 s without a wake")]);
  });

  test("after a woken cycle, a cycle may be short, but not shorter than the pace of the last counted check", () => {
    const events = (next: string) => [start, history.taskScheduled(at(0), 0, "health_check", {}), history.taskCompleted(at(0), 0, { next_counted_check_utc: next })];
    expect(executionAnomalies(record(events(at(12).toISOString())), at(12).getTime(), 30, true)).toEqual([]);
    expect(executionAnomalies(record(events(at(12).toISOString())), at(12).getTime(), 30, false)).toEqual([expect.stringContaining("lasted 12 s without a wake")]);
    expect(executionAnomalies(record(events(at(20).toISOString())), at(12).getTime(), 30, true)).toEqual([expect.stringContaining("after a woken cycle")]);
  });

  test("nothing when the short cycle was woken and the check ran", () => {
    const events = [start, history.taskScheduled(at(0), 0, "health_check", {}), history.taskCompleted(at(0), 0, {}), history.eventRaised(at(4), "wake", null)];
    expect(executionAnomalies(record(events), at(5).getTime(), 30)).toEqual([]);
  });

  test("a failed health check and an execution that did not continue as new", () => {
    const events = [start, history.taskScheduled(at(0), 0, "health_check", {}), history.taskFailed(at(0), 0, "Activity function 'health_check' failed: x")];
    expect(executionAnomalies({ ...record(events), outcome: "Failed" }, undefined, 30)).toEqual([expect.stringContaining("ended Failed"), expect.stringContaining("health check failed")]);
  });
});
