import { InvocationContext } from "@azure/functions";
import { randomUUID } from "node:crypto";
import type { Registration } from "./functionsCore";
import { ActionType, flattenActions, history, orchestrationTriggerInput, type HistoryEvent } from "./replayHistory";

/**
 * An in-memory task hub: the part of the Durable extension that keeps each instance's
 * history, runs the registered orchestrator through the durable-functions replay engine,
 * executes the actions it returns (activities, timers, external events, continueAsNew) and
 * feeds their results back as history events. It is what `func start` provides, minus the
 * storage queues.
 */

export type RuntimeStatus = "Pending" | "Running" | "Completed" | "Failed" | "Terminated";

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

interface Instance {
  readonly id: string;
  readonly name: string;
  readonly createdTime: Date;
  executionId: string;
  status: RuntimeStatus;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  lastUpdatedTime: Date;
  history: HistoryEvent[];
  inbox: HistoryEvent[];
  /** Flattened actions already executed in this execution, and the task id each got. */
  actionIds: number[];
  nextTaskId: number;
  timers: Map<number, NodeJS.Timeout>;
  busy: boolean;
  dirty: boolean;
  executions: number;
  longestHistory: number;
}

export interface TaskHubOptions {
  readonly log?: (message: string) => void;
}

export class LocalTaskHub {
  private readonly instances = new Map<string, Instance>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(
    private readonly functions: ReadonlyMap<string, Registration>,
    private readonly options: TaskHubOptions = {},
  ) {}

  private registration(name: string, trigger: string): Registration {
    const registration = this.functions.get(name);
    const triggerBinding = registration && Object.values(registration.metadata.bindings).find((b) => b.direction === "in" && b.type === trigger);
    if (!registration || !triggerBinding) throw new Error(`No ${trigger} function named "${name}" is registered`);
    return registration;
  }

  /** Starts (or, like the extension, replaces) an instance. */
  start(name: string, instanceId: string, input: unknown): void {
    this.registration(name, "orchestrationTrigger");
    const existing = this.instances.get(instanceId);
    if (existing) this.clearTimers(existing);
    const now = new Date();
    const instance: Instance = {
      id: instanceId,
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
      actionIds: [],
      nextTaskId: 0,
      timers: new Map(),
      busy: false,
      dirty: false,
      executions: 1,
      longestHistory: 0,
    };
    this.instances.set(instanceId, instance);
    this.track(this.run(instance));
  }

  status(instanceId: string, showHistory = false): InstanceStatus | undefined {
    const i = this.instances.get(instanceId);
    if (!i) return undefined;
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

  list(): InstanceStatus[] {
    return [...this.instances.keys()].map((id) => this.status(id)!);
  }

  /** Executions run so far and the longest history one of them reached (for the history bound). */
  stats(instanceId: string): { executions: number; longestHistory: number } | undefined {
    const i = this.instances.get(instanceId);
    return i && { executions: i.executions, longestHistory: i.longestHistory };
  }

  raiseEvent(instanceId: string, name: string, data: unknown): "accepted" | "not_found" | "gone" {
    const i = this.instances.get(instanceId);
    if (!i) return "not_found";
    if (!this.alive(i)) return "gone";
    this.deliver(i, i.executionId, history.eventRaised(new Date(), name, data));
    return "accepted";
  }

  terminate(instanceId: string, reason: string): "accepted" | "not_found" | "gone" {
    const i = this.instances.get(instanceId);
    if (!i) return "not_found";
    if (!this.alive(i)) return "gone";
    this.clearTimers(i);
    i.status = "Terminated";
    i.output = reason;
    i.executionId = randomUUID(); // anything still in flight now belongs to a dead execution
    i.lastUpdatedTime = new Date();
    return "accepted";
  }

  /** Stops every timer and waits for running activities and episodes to settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const i of this.instances.values()) this.clearTimers(i);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private alive(i: Instance): boolean {
    return i.status === "Pending" || i.status === "Running";
  }

  private track(promise: Promise<unknown>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }

  private clearTimers(i: Instance): void {
    for (const timer of i.timers.values()) clearTimeout(timer);
    i.timers.clear();
  }

  private deliver(i: Instance, executionId: string, event: HistoryEvent): void {
    if (this.stopped || i.executionId !== executionId || !this.alive(i)) return; // stale: an older execution's timer or activity
    i.inbox.push(event);
    this.track(this.run(i));
  }

  /** Runs episodes until the inbox is drained; one episode at a time per instance. */
  private async run(i: Instance): Promise<void> {
    if (i.busy) {
      i.dirty = true;
      return;
    }
    i.busy = true;
    try {
      do {
        i.dirty = false;
        while (i.inbox.length > 0 && this.alive(i) && !this.stopped) await this.episode(i);
      } while (i.dirty);
    } finally {
      i.busy = false;
    }
  }

  private async episode(i: Instance): Promise<void> {
    const now = new Date();
    const events = [...i.history, history.orchestratorStarted(now), ...i.inbox.splice(0)];
    const registration = this.registration(i.name, "orchestrationTrigger");
    const context = new InvocationContext({ functionName: i.name, invocationId: randomUUID(), logHandler: (level, ...args) => this.log(level, i.name, args) });
    let state: { isDone?: boolean; actions?: unknown; output?: unknown; customStatus?: unknown };
    try {
      state = (await registration.handler(orchestrationTriggerInput(i.id, i.input, events), context)) as typeof state;
    } catch (err) {
      const message = (err as { message?: string }).message ?? String(err);
      this.finish(i, "Failed", message, events);
      this.options.log?.(`orchestration ${i.id} failed: ${message}`);
      return;
    }
    i.status = "Running";
    i.customStatus = state.customStatus ?? null;
    i.lastUpdatedTime = now;
    const actions = flattenActions(state.actions ?? []);
    const added: HistoryEvent[] = [];
    let continueWith: { input: unknown } | undefined;
    actions.forEach((action, index) => {
      if (index < i.actionIds.length) {
        if (action.actionType === ActionType.CreateTimer && action.isCanceled) {
          clearTimeout(i.timers.get(i.actionIds[index]!));
          i.timers.delete(i.actionIds[index]!);
        }
        return;
      }
      switch (action.actionType) {
        case ActionType.CallActivity: {
          const id = i.nextTaskId++;
          i.actionIds.push(id);
          added.push(history.taskScheduled(now, id, action.functionName!, action.input));
          this.track(this.activity(i, i.executionId, id, action.functionName!, action.input));
          return;
        }
        case ActionType.CreateTimer: {
          const id = i.nextTaskId++;
          i.actionIds.push(id);
          const fireAt = new Date(action.fireAt!);
          added.push(history.timerCreated(now, id, fireAt));
          const executionId = i.executionId;
          i.timers.set(
            id,
            setTimeout(() => {
              i.timers.delete(id);
              this.deliver(i, executionId, history.timerFired(new Date(), id, fireAt));
            }, Math.max(0, fireAt.getTime() - Date.now())),
          );
          return;
        }
        case ActionType.WaitForExternalEvent:
          i.actionIds.push(-1);
          return;
        case ActionType.ContinueAsNew:
          i.actionIds.push(-1);
          continueWith = { input: typeof action.input === "string" ? JSON.parse(action.input) : action.input };
          return;
        default:
          throw new Error(`The local host does not support action type ${action.actionType} (orchestration ${i.id})`);
      }
    });
    const completed = [...events, ...added, history.orchestratorCompleted(now)];
    i.longestHistory = Math.max(i.longestHistory, completed.length);
    if (continueWith) {
      this.clearTimers(i);
      i.executionId = randomUUID();
      i.executions++;
      i.input = continueWith.input;
      i.history = [];
      i.actionIds = [];
      i.nextTaskId = 0;
      // Events that arrived during this episode go to the new execution, as the extension does.
      i.inbox.unshift(history.executionStarted(now, i.name, i.input));
      return;
    }
    if (state.isDone) {
      this.finish(i, "Completed", state.output ?? null, completed);
      return;
    }
    i.history = completed;
  }

  private finish(i: Instance, status: RuntimeStatus, output: unknown, events: HistoryEvent[]): void {
    this.clearTimers(i);
    i.status = status;
    i.output = output;
    i.history = events;
    i.inbox = [];
    i.lastUpdatedTime = new Date();
  }

  private async activity(i: Instance, executionId: string, id: number, name: string, input: unknown): Promise<void> {
    let event: HistoryEvent;
    try {
      const registration = this.registration(name, "activityTrigger");
      const context = new InvocationContext({ functionName: name, invocationId: randomUUID(), logHandler: (level, ...args) => this.log(level, name, args) });
      const result = await registration.handler(JSON.parse(JSON.stringify(input ?? null)), context);
      event = history.taskCompleted(new Date(), id, result);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      event = history.taskFailed(new Date(), id, error.message, error.stack ?? "");
    }
    this.deliver(i, executionId, event);
  }

  private log(level: string, functionName: string, args: unknown[]): void {
    if (level === "error" || level === "warning") this.options.log?.(`[${functionName}] ${args.map(String).join(" ")}`);
  }
}
