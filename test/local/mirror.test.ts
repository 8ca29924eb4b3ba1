import { ActionType, EventType, REPLAY_SCHEMA_V3, history, orchestrationTriggerInput } from "../../src/local/host/replayHistory";

/**
 * The local host speaks the replay engine's wire format with values it mirrors from
 * durable-functions internals (not part of its public API). This test reads them from the
 * installed package, so an upgrade that changes one fails here, not as a silently broken host.
 */

const internal = (path: string) => require(`durable-functions/lib/src/${path}`) as Record<string, any>;
const { HistoryEventType } = internal("history/HistoryEventType");
const { ActionType: RealActionType } = internal("actions/ActionType");
const { ReplaySchema } = internal("orchestrations/ReplaySchema");
const { TaskOrchestrationExecutor } = internal("orchestrations/TaskOrchestrationExecutor");
const { DurableOrchestrationBindingInfo } = internal("orchestrations/DurableOrchestrationBindingInfo");

/** Names and numbers of a TypeScript numeric enum. */
const entries = (e: Record<string, unknown>) => Object.entries(e).filter(([, v]) => typeof v === "number");

test("history event types: every one the local host writes has the package's number", () => {
  const mirrored = entries(EventType);
  expect(mirrored.length).toBeGreaterThan(0);
  for (const [name, value] of mirrored) expect([name, value]).toEqual([name, HistoryEventType[name]]);
});

test("action types: every one the local host reads has the package's number", () => {
  for (const [name, value] of entries(ActionType)) expect([name, value]).toEqual([name, RealActionType[name]]);
});

test("replay schema: the host's V3 is the package's V3, and the package still accepts it", () => {
  expect(REPLAY_SCHEMA_V3).toBe(ReplaySchema.V3);
  expect(Object.values(ReplaySchema)).toContain(REPLAY_SCHEMA_V3);
});

test("history events carry the fields the package's own event classes have", () => {
  const at = new Date("2026-01-01T00:00:00Z");
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ["TaskScheduledEvent", history.taskScheduled(at, 0, "a", 1), { eventId: 0, isPlayed: false, timestamp: at, name: "a", input: "1" }],
    ["TaskCompletedEvent", history.taskCompleted(at, 0, 1), { eventId: -1, isPlayed: false, timestamp: at, taskScheduledId: 0, result: "1" }],
    ["TaskFailedEvent", history.taskFailed(at, 0, "r", "d"), { eventId: -1, isPlayed: false, timestamp: at, taskScheduledId: 0, reason: "r", details: "d" }],
    ["TimerCreatedEvent", history.timerCreated(at, 1, at), { eventId: 1, isPlayed: false, timestamp: at, fireAt: at }],
    ["TimerFiredEvent", history.timerFired(at, 1, at), { eventId: -1, isPlayed: false, timestamp: at, timerId: 1, fireAt: at }],
    ["EventRaisedEvent", history.eventRaised(at, "wake", null), { eventId: -1, isPlayed: false, timestamp: at, name: "wake", input: "null" }],
    ["ExecutionStartedEvent", history.executionStarted(at, "o", {}), { eventId: -1, isPlayed: false, timestamp: at, name: "o", input: "{}" }],
  ];
  for (const [cls, ours, options] of cases) {
    const Real = internal(`history/${cls}`)[cls];
    const theirs = new Real(options) as Record<string, unknown>;
    expect([cls, ours.EventType]).toEqual([cls, theirs.EventType]);
    for (const field of Object.keys(ours)) expect([cls, field, field in theirs]).toEqual([cls, field, true]);
  }
});

test("the completion events carry the task id where the package's executor looks for it", () => {
  const executor = new TaskOrchestrationExecutor();
  const lookup = executor.eventToTaskValuePayload as Record<number, [boolean, string]>;
  const at = new Date();
  expect(lookup[EventType.TaskCompleted][1] in history.taskCompleted(at, 0, 1)).toBe(true);
  expect(lookup[EventType.TaskFailed][1] in history.taskFailed(at, 0, "r")).toBe(true);
  expect(lookup[EventType.TimerFired][1] in history.timerFired(at, 0, at)).toBe(true);
  expect(lookup[EventType.EventRaised][1] in history.eventRaised(at, "e", null)).toBe(true);
});

test("the orchestration trigger input has every field of the package's binding info", () => {
  const ours = orchestrationTriggerInput("id", null, []);
  const theirs = new DurableOrchestrationBindingInfo() as Record<string, unknown>;
  for (const field of Object.keys(theirs)) expect([field, field in ours]).toEqual([field, true]);
});

test("actions: the fields the local host reads are the ones the package's action classes set", () => {
  const fields = (cls: string, ...args: unknown[]) => Object.keys(new (internal(`actions/${cls}`)[cls])(...args));
  expect(fields("CallActivityAction", "f", 1)).toEqual(expect.arrayContaining(["functionName", "input", "actionType"]));
  expect(fields("CreateTimerAction", new Date())).toEqual(expect.arrayContaining(["fireAt", "isCanceled", "actionType"]));
  expect(fields("WaitForExternalEventAction", "e")).toEqual(expect.arrayContaining(["externalEventName", "actionType"]));
  expect(fields("ContinueAsNewAction", 1)).toEqual(expect.arrayContaining(["input", "actionType"]));
  expect(fields("WhenAnyAction", [])).toEqual(expect.arrayContaining(["compoundActions", "actionType"]));
});
