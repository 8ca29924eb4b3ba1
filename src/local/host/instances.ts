import { randomUUID } from "node:crypto";
import { EventType, history, type HistoryEvent } from "./replayHistory";
import type { ScheduledAction } from "./replayGuard";

/**
 * One orchestration instance of the local task hub, and the rules of the Durable extension
 * (Azure Storage provider) about its lifecycle that the app can observe: which states a new
 * start may replace, what createdTime means, how an activity failure is worded.
 */

export type RuntimeStatus = "Pending" | "Running" | "Suspended" | "Completed" | "Failed" | "Terminated";

export interface InstanceStatus {
  readonly name: string;
  readonly instanceId: string;
  readonly createdTime: string;
  readonly lastUpdatedTime: string;
  readonly input: unknown;
  readonly output: unknown;
  readonly runtimeStatus: RuntimeStatus;
  readonly customStatus: unknown;
  readonly history?: readonly HistoryEvent[];
}

/** One finished execution (continued as new, completed or failed), for observers such as the soak. */
export interface ExecutionRecord {
  readonly instanceId: string;
  readonly executionId: string;
  readonly outcome: "ContinuedAsNew" | "Completed" | "Failed";
  readonly history: readonly HistoryEvent[];
}

export interface Instance {
  readonly id: string;
  readonly name: string;
  createdTime: Date;
  executionId: string;
  status: RuntimeStatus;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  lastUpdatedTime: Date;
  history: HistoryEvent[];
  inbox: HistoryEvent[];
  /** What this execution scheduled so far, action by action, and the task id each got (-1: none). */
  scheduled: ScheduledAction[];
  actionIds: number[];
  /** Task ids whose completion is already in the history (a duplicate delivery is dropped). */
  completed: Set<number>;
  nextTaskId: number;
  timers: Map<number, () => void>;
  busy: boolean;
  dirty: boolean;
  executions: number;
  longestHistory: number;
  /** Made to stick (LocalTaskHub.stall): Running, but its timers are gone and, when `events`, what arrives is lost. */
  stalled?: { readonly events: boolean };
}

export function newInstance(id: string, name: string, input: unknown, now: Date): Instance {
  return {
    id,
    name,
    createdTime: now,
    executionId: randomUUID(),
    status: "Pending",
    input,
    output: null,
    customStatus: null,
    lastUpdatedTime: now,
    history: [],
    inbox: [history.executionStarted(now, name, input)],
    scheduled: [],
    actionIds: [],
    completed: new Set(),
    nextTaskId: 0,
    timers: new Map(),
    busy: false,
    dirty: false,
    executions: 1,
    longestHistory: 0,
  };
}

/**
 * Pending, Running and Suspended instances are alive. The extension's default
 * overridableExistingInstanceStates (NonRunningStates) lets a new start replace only the others.
 */
export function isAlive(i: Instance): boolean {
  return i.status === "Pending" || i.status === "Running" || i.status === "Suspended";
}

/**
 * Whether episodes run. A Suspended instance keeps what arrives (timers that fire, activity
 * results, raised events) in its inbox and runs it only once resumed, as the extension does.
 */
export function isRunnable(i: Instance): boolean {
  return i.status === "Pending" || i.status === "Running";
}

/** The extension's answer to a start of an instance that is alive (Azure Storage provider wording). */
export class InstanceAlreadyRunningError extends Error {
  constructor(readonly runtimeStatus: RuntimeStatus) {
    super(`An Orchestration instance with the status ${runtimeStatus} already exists.`);
    this.name = "InvalidOperationException";
  }
}

/** The reason of a TaskFailed event, worded as the Durable extension words it. */
export function activityFailureReason(functionName: string, message: string): string {
  return `Activity function '${functionName}' failed: ${message}`;
}

/**
 * Starts the instance's next execution. External events already in the inbox stay for it (the
 * extension carries them over); a timer or activity result of the ending execution that arrived
 * while its last episode ran is dropped, as the Azure Storage provider discards a message whose
 * execution id is not the current one (otherwise the new execution's task of the same id would
 * complete at once).
 */
export function continueAsNew(i: Instance, input: unknown, now: Date): void {
  i.inbox = i.inbox.filter((event) => event.EventType === EventType.EventRaised);
  i.executionId = randomUUID();
  i.executions++;
  i.input = input;
  i.history = [];
  i.scheduled = [];
  i.actionIds = [];
  i.completed = new Set();
  i.nextTaskId = 0;
  // The Azure Storage provider rewrites the instance row on continueAsNew: each execution has a
  // new createdTime, so createdTime says nothing about how long the loop has been running.
  i.createdTime = now;
  i.inbox.unshift(history.executionStarted(now, i.name, input));
}

export function statusOf(i: Instance, showHistory: boolean): InstanceStatus {
  return {
    name: i.name,
    instanceId: i.id,
    createdTime: i.createdTime.toISOString(),
    lastUpdatedTime: i.lastUpdatedTime.toISOString(),
    input: i.input ?? null,
    output: i.output ?? null,
    runtimeStatus: i.status,
    customStatus: i.customStatus ?? null,
    ...(showHistory ? { history: [...i.history] } : {}),
  };
}
