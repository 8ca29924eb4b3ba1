import { DELIVER_NOTIFICATIONS_ACTIVITY, DO_FAILOVER_ACTIVITY, HEALTH_CHECK_ACTIVITY, RECORD_ERROR_ACTIVITY, WAKE_EVENT } from "../../src/core/orchestrationContract";
import { ActionType, history } from "../../src/local/host/replayHistory";
import { HistoryBuilder, T0, at, check, failoverResult, replay } from "../helpers/replay";

const input = { group: "state", interval_seconds: 30 };

describe("failover orchestrator through the durable-functions replay engine", () => {
  test("first episode: schedules the health_check activity and nothing else", async () => {
    const h = new HistoryBuilder(input);
    const result = await replay(h.events, input);
    expect(result.actions).toEqual([expect.objectContaining({ actionType: ActionType.CallActivity, functionName: HEALTH_CHECK_ACTIVITY, input: { group: "state", cycle: T0.toISOString() } })]);
    expect(result.isDone).toBe(false);
  });

  test("healthy cycle: check -> durable timer for the interval raced with wake -> continueAsNew", async () => {
    const h = new HistoryBuilder(input);
    const id = h.scheduled(HEALTH_CHECK_ACTIVITY, { group: "state" }, T0);
    h.episode(at(1), history.taskCompleted(at(1), id, check({ check_interval_seconds: 20 })));
    const waiting = await replay(h.events, input);
    const timer = waiting.actions.find((a) => a.actionType === ActionType.CreateTimer);
    // The cycle's start + the group's interval: a check that took 1 s does not stretch the period.
    expect(new Date(timer!.fireAt!).toISOString()).toBe(at(20).toISOString());
    expect(waiting.actions.map((a) => a.actionType)).toEqual([ActionType.CallActivity, ActionType.CreateTimer, ActionType.WaitForExternalEvent]);
    expect(waiting.actions[2]).toMatchObject({ externalEventName: WAKE_EVENT });
    expect(waiting.actions.some((a) => a.functionName === DO_FAILOVER_ACTIVITY)).toBe(false);
    expect(waiting.customStatus).toMatchObject({ group: "state", active_target: "primary", healthy: true, last_status: "OK", next_check_utc: at(20).toISOString() });
    expect(waiting.isDone).toBe(false);

    const timerId = h.timer(at(20), at(1));
    h.episode(at(20), history.timerFired(at(20), timerId, at(20)));
    const done = await replay(h.events, input);
    expect(done.isDone).toBe(true);
    expect(done.actions.at(-1)).toMatchObject({ actionType: ActionType.ContinueAsNew, input: { group: "state", interval_seconds: 20 } });
    expect(done.actions.find((a) => a.actionType === ActionType.CreateTimer)?.isCanceled).toBe(false);
  });

  test("failover when the policy says so: do_failover carries the target it moves away from", async () => {
    const h = new HistoryBuilder(input);
    const id = h.scheduled(HEALTH_CHECK_ACTIVITY, { group: "state" }, T0);
    const unhealthy = check({ healthy: false, recommendation: "failover", reason: "3 consecutive failed checks of the primary (threshold 3)", last_status: "UNHEALTHY" });
    h.episode(at(1), history.taskCompleted(at(1), id, unhealthy));
    const result = await replay(h.events, input);
    expect(result.actions.at(-1)).toMatchObject({
      actionType: ActionType.CallActivity,
      functionName: DO_FAILOVER_ACTIVITY,
      input: { group: "state", kind: "failover", expected_from: "primary", automatic: true, actor: "orchestrator", reason: unhealthy.reason },
    });

    const failoverId = h.scheduled(DO_FAILOVER_ACTIVITY, {}, at(1));
    h.episode(at(2), history.taskCompleted(at(2), failoverId, failoverResult()));
    const after = await replay(h.events, input);
    expect(after.actions.map((a) => a.actionType).slice(-2)).toEqual([ActionType.CreateTimer, ActionType.WaitForExternalEvent]);
    expect(after.customStatus).toMatchObject({ active_target: "secondary", last_status: "FAILOVER_DONE", failover: { changed: true } });
  });

  test("automatic failback is asked for the same way", async () => {
    const h = new HistoryBuilder(input);
    const id = h.scheduled(HEALTH_CHECK_ACTIVITY, { group: "state" }, T0);
    h.episode(at(1), history.taskCompleted(at(1), id, check({ active_target: "secondary", recommendation: "failback", reason: "primary recovered" })));
    const result = await replay(h.events, input);
    expect(result.actions.at(-1)).toMatchObject({ functionName: DO_FAILOVER_ACTIVITY, input: { kind: "failback", expected_from: "secondary" } });
  });

  test("a check slower than the interval: the next cycle is due at once, not an interval later", async () => {
    const h = new HistoryBuilder(input);
    const id = h.scheduled(HEALTH_CHECK_ACTIVITY, { group: "state" }, T0);
    h.episode(at(45), history.taskCompleted(at(45), id, check({ healthy: false, error_class: "timeout" })));
    const result = await replay(h.events, input);
    const timer = result.actions.find((a) => a.actionType === ActionType.CreateTimer);
    expect(new Date(timer!.fireAt!).toISOString()).toBe(at(45).toISOString());
  });

  test("cooldown: an unhealthy check during the cooldown schedules no failover, only the timer", async () => {
    const h = new HistoryBuilder(input);
    const id = h.scheduled(HEALTH_CHECK_ACTIVITY, { group: "state" }, T0);
    h.episode(at(1), history.taskCompleted(at(1), id, check({ healthy: false, recommendation: "none", reason: "cooldown_active", lock_until_utc: at(300).toISOString() })));
    const result = await replay(h.events, input);
    expect(result.actions.some((a) => a.functionName === DO_FAILOVER_ACTIVITY)).toBe(false);
    expect(result.actions.map((a) => a.actionType)).toEqual([ActionType.CallActivity, ActionType.CreateTimer, ActionType.WaitForExternalEvent]);
  });

  test("cooldown reported by do_failover: the loop goes on to the timer", async () => {
    const h = new HistoryBuilder(input);
    const id = h.scheduled(HEALTH_CHECK_ACTIVITY, { group: "state" }, T0);
    h.episode(at(1), history.taskCompleted(at(1), id, check({ healthy: false, recommendation: "failover", reason: "threshold" })));
    const fid = h.scheduled(DO_FAILOVER_ACTIVITY, {}, at(1));
    h.episode(at(2), history.taskCompleted(at(2), fid, failoverResult({ changed: false, reason: "cooldown_active", active_target: "primary", last_status: "UNHEALTHY" })));
    const result = await replay(h.events, input);
    expect(result.actions.at(-2)).toMatchObject({ actionType: ActionType.CreateTimer });
    expect(result.customStatus).toMatchObject({ failover: { changed: false, reason: "cooldown_active" } });
  });

  test("activity failure: recorded through record_check_error, and the loop continues (never Failed)", async () => {
    const h = new HistoryBuilder(input);
    const id = h.scheduled(HEALTH_CHECK_ACTIVITY, { group: "state" }, T0);
    h.episode(at(1), history.taskFailed(at(1), id, 'Malformed state row for group "state": failover_count: must be an integer (got "abc")', "stack"));
    const recording = await replay(h.events, input);
    expect(recording.actions.at(-1)).toMatchObject({
      functionName: RECORD_ERROR_ACTIVITY,
      input: { group: "state", error: expect.stringContaining("failover_count: must be an integer") },
    });

    // Even the recording fails (storage down): the cycle still ends in a timer, with the default interval.
    const rid = h.scheduled(RECORD_ERROR_ACTIVITY, {}, at(1));
    h.episode(at(2), history.taskFailed(at(2), rid, "Table storage failed", "stack"));
    const waiting = await replay(h.events, input);
    const timer = waiting.actions.find((a) => a.actionType === ActionType.CreateTimer);
    expect(new Date(timer!.fireAt!).toISOString()).toBe(at(30).toISOString());
    expect(waiting.customStatus).toMatchObject({ last_status: "CHECK_ERROR", error: expect.stringContaining("failover_count") });
    expect(waiting.isDone).toBe(false);
  });

  test("a wake event wins the race: the timer is cancelled and the orchestration continues as new at once", async () => {
    const h = new HistoryBuilder(input);
    const id = h.scheduled(HEALTH_CHECK_ACTIVITY, { group: "state" }, T0);
    h.episode(at(1), history.taskCompleted(at(1), id, check()));
    h.timer(at(31), at(1));
    h.episode(at(5), history.eventRaised(at(5), WAKE_EVENT, { reason: "pause" }));
    const result = await replay(h.events, input);
    expect(result.isDone).toBe(true);
    expect(result.actions.find((a) => a.actionType === ActionType.CreateTimer)?.isCanceled).toBe(true);
    expect(result.actions.at(-1)).toMatchObject({ actionType: ActionType.ContinueAsNew, input });
  });

  test("a cycle a wake event started early waits for one interval after the last counted check, not after itself", async () => {
    const h = new HistoryBuilder(input);
    const id = h.scheduled(HEALTH_CHECK_ACTIVITY, { group: "state" }, T0);
    // This cycle (started at T0) was not counted; the last counted one started 20 s earlier.
    h.episode(at(1), history.taskCompleted(at(1), id, check({ next_counted_check_utc: at(10).toISOString() })));
    const waiting = await replay(h.events, input);
    const timer = waiting.actions.find((a) => a.actionType === ActionType.CreateTimer);
    expect(new Date(timer!.fireAt!).toISOString()).toBe(at(10).toISOString());
  });

  test("a wake event that arrived before the orchestrator waits for it is still delivered", async () => {
    const h = new HistoryBuilder(input);
    const id = h.scheduled(HEALTH_CHECK_ACTIVITY, { group: "state" }, T0);
    h.episode(at(1), history.eventRaised(at(1), WAKE_EVENT, {}), history.taskCompleted(at(1), id, check()));
    const result = await replay(h.events, input);
    expect(result.isDone).toBe(true);
    expect(result.actions.at(-1)).toMatchObject({ actionType: ActionType.ContinueAsNew });
  });

  test("a group whose row was deleted ends its orchestration instead of failing every cycle", async () => {
    const h = new HistoryBuilder(input);
    const id = h.scheduled(HEALTH_CHECK_ACTIVITY, { group: "state" }, T0);
    h.episode(at(1), history.taskCompleted(at(1), id, { group: "state", removed: true }));
    const result = await replay(h.events, input);
    expect(result.isDone).toBe(true);
    expect(result.actions.some((a) => a.actionType === ActionType.ContinueAsNew || a.actionType === ActionType.CreateTimer)).toBe(false);
  });

  test("determinism: the same history replayed twice gives identical actions and status", async () => {
    const h = new HistoryBuilder(input);
    const id = h.scheduled(HEALTH_CHECK_ACTIVITY, { group: "state" }, T0);
    h.episode(at(1), history.taskCompleted(at(1), id, check({ healthy: false, recommendation: "failover", reason: "r" })));
    const fid = h.scheduled(DO_FAILOVER_ACTIVITY, {}, at(1));
    h.episode(at(2), history.taskCompleted(at(2), fid, failoverResult()));
    const first = await replay(h.events, input);
    await new Promise((resolve) => setTimeout(resolve, 20)); // wall-clock time moves; the replay must not care
    const second = await replay(h.events, input);
    expect(second.raw).toEqual(first.raw);
  });

  test("an invalid input is rejected with the field named (a programming error, not a silent default)", async () => {
    const bad = { group: "a/b", interval_seconds: 30 };
    const h = new HistoryBuilder(bad);
    await expect(replay(h.events, bad)).rejects.toMatchObject({ message: expect.stringContaining("group") });
  });

  test("with a webhook: the outbox is delivered after the check and the switch, before the timer; its failure neither records a check error nor stops the loop", async () => {
    const h = new HistoryBuilder(input);
    const id = h.scheduled(HEALTH_CHECK_ACTIVITY, { group: "state" }, T0);
    h.episode(at(1), history.taskCompleted(at(1), id, check({ healthy: false, recommendation: "failover", reason: "threshold", has_webhook: true })));
    const failoverId = h.scheduled(DO_FAILOVER_ACTIVITY, {}, at(1));
    h.episode(at(2), history.taskCompleted(at(2), failoverId, failoverResult()));
    const delivering = await replay(h.events, input);
    expect(delivering.actions.at(-1)).toMatchObject({ actionType: ActionType.CallActivity, functionName: DELIVER_NOTIFICATIONS_ACTIVITY, input: { group: "state" } });

    const deliverId = h.scheduled(DELIVER_NOTIFICATIONS_ACTIVITY, { group: "state" }, at(2));
    h.episode(at(3), history.taskFailed(at(3), deliverId, "Activity function 'deliver_notifications' failed: storage down"));
    const after = await replay(h.events, input);
    expect(after.actions.map((a) => a.functionName ?? a.actionType).slice(-3)).toEqual([DELIVER_NOTIFICATIONS_ACTIVITY, ActionType.CreateTimer, ActionType.WaitForExternalEvent]);
    expect(after.actions.some((a) => a.functionName === RECORD_ERROR_ACTIVITY)).toBe(false);
    expect(after.customStatus).toMatchObject({ last_status: "FAILOVER_DONE", next_check_utc: at(30).toISOString() });
    expect(after.customStatus).not.toHaveProperty("error");
  });

  test("without a webhook no delivery activity is scheduled", async () => {
    const h = new HistoryBuilder(input);
    const id = h.scheduled(HEALTH_CHECK_ACTIVITY, { group: "state" }, T0);
    h.episode(at(1), history.taskCompleted(at(1), id, check()));
    const waiting = await replay(h.events, input);
    expect(waiting.actions.some((a) => a.functionName === DELIVER_NOTIFICATIONS_ACTIVITY)).toBe(false);
  });
});
