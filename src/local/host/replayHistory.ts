/**
 * Orchestration history events in the wire shape the Durable extension sends to the
 * durable-functions replay engine. The local task hub writes them; the orchestration tests
 * build histories with them.
 */

export enum EventType {
  ExecutionStarted = 0,
  TaskScheduled = 4,
  TaskCompleted = 5,
  TaskFailed = 6,
  TimerCreated = 10,
  TimerFired = 11,
  OrchestratorStarted = 12,
  OrchestratorCompleted = 13,
  EventRaised = 15,
}

export interface HistoryEvent {
  readonly EventType: EventType;
  readonly EventId: number;
  readonly IsPlayed: boolean;
  readonly Timestamp: string;
  readonly [field: string]: unknown;
}

function event(type: EventType, at: Date, fields: Record<string, unknown> = {}, eventId = -1): HistoryEvent {
  return { EventType: type, EventId: eventId, IsPlayed: false, Timestamp: at.toISOString(), ...fields };
}

export const history = {
  orchestratorStarted: (at: Date) => event(EventType.OrchestratorStarted, at),
  orchestratorCompleted: (at: Date) => event(EventType.OrchestratorCompleted, at),
  executionStarted: (at: Date, name: string, input: unknown) => event(EventType.ExecutionStarted, at, { Name: name, Input: JSON.stringify(input) }),
  taskScheduled: (at: Date, id: number, name: string, input: unknown) => event(EventType.TaskScheduled, at, { Name: name, Input: JSON.stringify(input ?? null) }, id),
  taskCompleted: (at: Date, id: number, result: unknown) => event(EventType.TaskCompleted, at, { TaskScheduledId: id, Result: JSON.stringify(result ?? null) }),
  taskFailed: (at: Date, id: number, reason: string, details = "") => event(EventType.TaskFailed, at, { TaskScheduledId: id, Reason: reason, Details: details }),
  timerCreated: (at: Date, id: number, fireAt: Date) => event(EventType.TimerCreated, at, { FireAt: fireAt.toISOString() }, id),
  timerFired: (at: Date, id: number, fireAt: Date) => event(EventType.TimerFired, at, { TimerId: id, FireAt: fireAt.toISOString() }),
  eventRaised: (at: Date, name: string, input: unknown) => event(EventType.EventRaised, at, { Name: name, Input: JSON.stringify(input ?? null) }),
};

/** Action types of the replay engine's output (durable-functions ActionType) that the local host handles. */
export enum ActionType {
  CallActivity = 0,
  CallActivityWithRetry = 1,
  ContinueAsNew = 4,
  CreateTimer = 5,
  WaitForExternalEvent = 6,
}

export interface Action {
  readonly actionType: number;
  readonly functionName?: string;
  readonly input?: unknown;
  readonly fireAt?: Date | string;
  isCanceled?: boolean;
  readonly externalEventName?: string;
  readonly compoundActions?: readonly Action[];
}

/** The orchestrator's actions in scheduling order, compound (WhenAny/WhenAll) ones opened up. */
export function flattenActions(actions: unknown): Action[] {
  const out: Action[] = [];
  const visit = (value: unknown) => {
    if (Array.isArray(value)) return value.forEach(visit);
    const action = value as Action;
    if (action.compoundActions) action.compoundActions.forEach(visit);
    else out.push(action);
  };
  visit(actions);
  return out;
}

/** Replay schema the local host speaks (V3: the extension's own for bundle 4.x). */
export const REPLAY_SCHEMA_V3 = 2;

/** The orchestration trigger's input, as the extension sends it. */
export function orchestrationTriggerInput(instanceId: string, input: unknown, events: readonly HistoryEvent[]): Record<string, unknown> {
  const lastStart = events.map((e) => e.EventType).lastIndexOf(EventType.OrchestratorStarted);
  return JSON.parse(
    JSON.stringify({
      history: events.map((e, i) => ({ ...e, IsPlayed: i < lastStart })),
      input,
      instanceId,
      isReplaying: lastStart > 0,
      parentInstanceId: "",
      upperSchemaVersion: REPLAY_SCHEMA_V3,
      maximumShortTimerDuration: "6.00:00:00",
      longRunningTimerIntervalDuration: "3.00:00:00",
      defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
    }),
  ) as Record<string, unknown>;
}
