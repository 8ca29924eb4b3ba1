import { InvocationContext } from "@azure/functions";
import { randomUUID } from "node:crypto";
import { seededRandom, type ChaosCounters, type ChaosOptions } from "./chaos";
import type { Registration } from "./functionsCore";
import { ActionType, EventType, flattenActions, history, orchestrationTriggerInput, type HistoryEvent } from "./replayHistory";
import { wallClock, type HubClock } from "./hubClock";
import {
  InstanceAlreadyRunningError,
  activityFailureReason,
  continueAsNew,
  isAlive,
  isRunnable,
  newInstance,
  statusOf,
  type ExecutionRecord,
  type Instance,
  type InstanceStatus,
  type RuntimeStatus,
} from "./instances";
import { NonDeterminismError, checkReplay, scheduledAction } from "./replayGuard";

/**
 * An in-memory task hub: the part of the Durable extension that keeps each instance's
 * history, runs the registered orchestrator through the durable-functions replay engine,
 * executes the actions it returns (activities, timers, external events, continueAsNew) and
 * feeds their results back as history events. It is what `func start` provides, minus the
 * storage queues, and as strict as the extension where the app could tell the difference:
 * it refuses to start an instance that is running, fails an orchestration whose replay does
 * not repeat its history, words activity failures as Azure does, resets createdTime on
 * continueAsNew as the Azure Storage provider does, and has a chaos mode (see chaos.ts).
 */

export interface TaskHubOptions {
  readonly log?: (message: string) => void;
  readonly clock?: HubClock;
  readonly chaos?: ChaosOptions;
  readonly onExecution?: (record: ExecutionRecord) => void;
}

export class LocalTaskHub {
  private readonly instances = new Map<string, Instance>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly starts = new Map<string, number>();
  private readonly clock: HubClock;
  private readonly random: () => number;
  private stopped = false;
  readonly chaosCounters: ChaosCounters = { duplicateActivities: 0, duplicateCompletionsDropped: 0, lateTimers: 0, eventsOnContinueAsNew: 0 };

  constructor(
    private readonly functions: ReadonlyMap<string, Registration>,
    private readonly options: TaskHubOptions = {},
  ) {
    this.clock = options.clock ?? wallClock;
    this.random = seededRandom(options.chaos?.seed ?? 1);
  }

  private registration(name: string, trigger: string): Registration {
    const registration = this.functions.get(name);
    const triggerBinding = registration && Object.values(registration.metadata.bindings).find((b) => b.direction === "in" && b.type === trigger);
    if (!registration || !triggerBinding) throw new Error(`No ${trigger} function named "${name}" is registered`);
    return registration;
  }

  /**
   * Starts an instance. Like the extension with its default overridableExistingInstanceStates
   * (NonRunningStates), it replaces a Completed, Failed or Terminated instance and refuses one
   * that is Pending or Running with InstanceAlreadyRunningError.
   */
  start(name: string, instanceId: string, input: unknown): void {
    this.registration(name, "orchestrationTrigger");
    const existing = this.instances.get(instanceId);
    if (existing && this.alive(existing)) throw new InstanceAlreadyRunningError(existing.status);
    if (existing) this.clearTimers(existing);
    const instance = newInstance(instanceId, name, input, this.clock.now());
    this.starts.set(instanceId, (this.starts.get(instanceId) ?? 0) + 1);
    this.instances.set(instanceId, instance);
    this.track(this.run(instance));
  }

  status(instanceId: string, showHistory = false): InstanceStatus | undefined {
    const i = this.instances.get(instanceId);
    return i && statusOf(i, showHistory);
  }

  list(): InstanceStatus[] {
    return [...this.instances.keys()].map((id) => this.status(id)!);
  }

  /**
   * How often the instance id was started, executions of its current instance so far, the
   * longest history one of them reached (for the history bound), and timers pending.
   */
  stats(instanceId: string): { starts: number; executions: number; longestHistory: number; timers: number } | undefined {
    const i = this.instances.get(instanceId);
    return i && { starts: this.starts.get(instanceId) ?? 0, executions: i.executions, longestHistory: i.longestHistory, timers: i.timers.size };
  }

  raiseEvent(instanceId: string, name: string, data: unknown): "accepted" | "not_found" | "gone" {
    const i = this.liveInstance(instanceId);
    if (typeof i === "string") return i;
    this.deliver(i, i.executionId, history.eventRaised(this.clock.now(), name, data));
    return "accepted";
  }

  terminate(instanceId: string, reason: string): "accepted" | "not_found" | "gone" {
    const i = this.liveInstance(instanceId);
    if (typeof i === "string") return i;
    this.clearTimers(i);
    i.status = "Terminated";
    i.output = reason;
    i.executionId = randomUUID(); // anything still in flight now belongs to a dead execution
    i.lastUpdatedTime = this.clock.now();
    return "accepted";
  }

  /**
   * Makes a running instance stick the way instances stuck in Running were reported against the
   * Durable extension: its timers are lost (the pending one and any it creates), so it stays
   * Running and does nothing; an external event (a wake) gets through and ends that, unless
   * `events`, when it is lost too. Terminate and start replace it as usual.
   * `backdateSeconds` moves the times of its last cycle (custom status) and update back, as if
   * it had been stuck that long already.
   */
  stall(instanceId: string, options: { events: boolean; backdateSeconds?: number }): "accepted" | "not_found" | "gone" {
    const i = this.liveInstance(instanceId);
    if (typeof i === "string") return i;
    this.clearTimers(i);
    i.stalled = { events: options.events };
    const back = (options.backdateSeconds ?? 0) * 1000;
    if (back > 0) {
      const earlier = (v: unknown) => (typeof v === "string" && !Number.isNaN(Date.parse(v)) ? new Date(Date.parse(v) - back).toISOString() : v);
      const status = i.customStatus as Record<string, unknown> | undefined;
      if (status && typeof status === "object") i.customStatus = { ...status, checked_at: earlier(status.checked_at), next_check_utc: earlier(status.next_check_utc) };
      i.lastUpdatedTime = new Date(i.lastUpdatedTime.getTime() - back);
    }
    return "accepted";
  }

  /** The instance a control call (terminate, suspend, resume) acts on, or why there is none. */
  private liveInstance(instanceId: string): Instance | "not_found" | "gone" {
    const i = this.instances.get(instanceId);
    if (!i) return "not_found";
    return this.alive(i) ? i : "gone";
  }

  /**
   * Suspends a Pending or Running instance (the Durable client's `suspend`): its status becomes
   * Suspended and nothing of it runs until `resume`; what arrives meanwhile waits in its inbox.
   */
  suspend(instanceId: string): "accepted" | "not_found" | "gone" {
    const i = this.liveInstance(instanceId);
    if (typeof i === "string") return i;
    i.status = "Suspended";
    i.lastUpdatedTime = this.clock.now();
    return "accepted";
  }

  /** Resumes a Suspended instance (the Durable client's `resume`) and runs what waited; a running one is left as it is. */
  resume(instanceId: string): "accepted" | "not_found" | "gone" {
    const i = this.liveInstance(instanceId);
    if (typeof i === "string") return i;
    if (i.status !== "Suspended") return "accepted";
    i.status = "Running";
    i.lastUpdatedTime = this.clock.now();
    this.track(this.run(i));
    return "accepted";
  }

  /** Waits until no episode or activity is running (timers may still be pending). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Stops every timer and waits for running activities and episodes to settle. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const i of this.instances.values()) this.clearTimers(i);
    await this.idle();
  }

  private alive(i: Instance): boolean {
    return isAlive(i);
  }

  private track(promise: Promise<unknown>): void {
    this.inFlight.add(promise);
    void promise.finally(() => this.inFlight.delete(promise));
  }

  private clearTimers(i: Instance): void {
    for (const cancel of i.timers.values()) cancel();
    i.timers.clear();
  }

  private deliver(i: Instance, executionId: string, event: HistoryEvent): void {
    if (this.stopped || i.executionId !== executionId || !this.alive(i)) return; // stale: an older execution's timer or activity
    if (i.stalled && event.EventType === EventType.EventRaised) {
      if (i.stalled.events) return; // made to stick: lost
      i.stalled = undefined; // a lost timer: the event gets through and the loop goes on
    }
    if (event.EventType === EventType.TaskCompleted || event.EventType === EventType.TaskFailed) {
      const taskId = event.TaskScheduledId as number;
      if (i.completed.has(taskId)) {
        this.chaosCounters.duplicateCompletionsDropped++;
        return;
      }
      i.completed.add(taskId);
    }
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
        while (i.inbox.length > 0 && isRunnable(i) && !this.stopped) await this.episode(i);
      } while (i.dirty);
    } finally {
      i.busy = false;
    }
  }

  private async episode(i: Instance): Promise<void> {
    const now = this.clock.now();
    const events = [...i.history, history.orchestratorStarted(now), ...i.inbox.splice(0)];
    const registration = this.registration(i.name, "orchestrationTrigger");
    const context = new InvocationContext({ functionName: i.name, invocationId: randomUUID(), logHandler: (level, ...args) => this.log(level, i.name, args) });
    let state: { isDone?: boolean; actions?: unknown; output?: unknown; customStatus?: unknown };
    let actions;
    try {
      state = (await registration.handler(orchestrationTriggerInput(i.id, i.input, events), context)) as typeof state;
      actions = flattenActions(state.actions ?? []);
      checkReplay(i.scheduled, actions);
    } catch (err) {
      const message = err instanceof NonDeterminismError ? err.message : ((err as { message?: string }).message ?? String(err));
      this.finish(i, "Failed", message, events);
      this.options.log?.(`orchestration ${i.id} failed: ${message}`);
      return;
    }
    // Suspended while this episode ran: it stays suspended (its actions are still taken).
    if (i.status !== "Suspended") i.status = "Running";
    i.customStatus = state.customStatus ?? null;
    i.lastUpdatedTime = now;
    const added: HistoryEvent[] = [];
    let continueWith: { input: unknown } | undefined;
    actions.forEach((action, index) => {
      if (index < i.actionIds.length) {
        if (action.actionType === ActionType.CreateTimer && action.isCanceled) {
          i.timers.get(i.actionIds[index])?.();
          i.timers.delete(i.actionIds[index]);
        }
        return;
      }
      i.scheduled.push(scheduledAction(action));
      switch (action.actionType) {
        case ActionType.CallActivity: {
          const id = i.nextTaskId++;
          i.actionIds.push(id);
          added.push(history.taskScheduled(now, id, action.functionName!, action.input));
          this.track(this.activity(i, i.executionId, id, action.functionName!, action.input));
          if (this.chance(this.options.chaos?.duplicateActivities)) {
            this.chaosCounters.duplicateActivities++;
            this.track(this.activity(i, i.executionId, id, action.functionName!, action.input));
          }
          return;
        }
        case ActionType.CreateTimer: {
          const id = i.nextTaskId++;
          i.actionIds.push(id);
          const fireAt = new Date(action.fireAt!);
          added.push(history.timerCreated(now, id, fireAt));
          this.armTimer(i, id, fireAt);
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
      this.options.onExecution?.({ instanceId: i.id, executionId: i.executionId, outcome: "ContinuedAsNew", history: completed });
      this.clearTimers(i);
      continueAsNew(i, continueWith.input, now);
      const chaosEvent = this.options.chaos?.eventOnContinueAsNew;
      if (chaosEvent && this.chance(chaosEvent.probability)) {
        this.chaosCounters.eventsOnContinueAsNew++;
        i.inbox.push(history.eventRaised(now, chaosEvent.name, null));
      }
      return;
    }
    if (state.isDone) {
      this.finish(i, "Completed", state.output ?? null, completed);
      return;
    }
    i.history = completed;
  }

  private armTimer(i: Instance, id: number, fireAt: Date): void {
    if (i.stalled) return; // made to stick: its timers are lost
    const lateBy = this.options.chaos ? Math.floor(this.random() * this.options.chaos.lateTimersMs) : 0;
    if (lateBy > 0) this.chaosCounters.lateTimers++;
    const executionId = i.executionId;
    const cancel = this.clock.schedule(new Date(fireAt.getTime() + lateBy), () => {
      i.timers.delete(id);
      this.deliver(i, executionId, history.timerFired(this.clock.now(), id, fireAt));
    });
    i.timers.set(id, cancel);
  }

  private chance(probability: number | undefined): boolean {
    return probability !== undefined && probability > 0 && this.random() < probability;
  }

  private finish(i: Instance, status: RuntimeStatus, output: unknown, events: HistoryEvent[]): void {
    this.clearTimers(i);
    i.status = status;
    i.output = output;
    i.history = events;
    i.inbox = [];
    i.lastUpdatedTime = this.clock.now();
    if (status !== "Terminated") this.options.onExecution?.({ instanceId: i.id, executionId: i.executionId, outcome: status === "Completed" ? "Completed" : "Failed", history: events });
  }

  private async activity(i: Instance, executionId: string, id: number, name: string, input: unknown): Promise<void> {
    let event: HistoryEvent;
    try {
      const registration = this.registration(name, "activityTrigger");
      const context = new InvocationContext({ functionName: name, invocationId: randomUUID(), logHandler: (level, ...args) => this.log(level, name, args) });
      const result = await registration.handler(JSON.parse(JSON.stringify(input ?? null)), context);
      event = history.taskCompleted(this.clock.now(), id, result);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      event = history.taskFailed(this.clock.now(), id, activityFailureReason(name, error.message), error.stack ?? "");
    }
    this.deliver(i, executionId, event);
  }

  private log(level: string, functionName: string, args: unknown[]): void {
    if (level === "error" || level === "warning") this.options.log?.(`[${functionName}] ${args.map(String).join(" ")}`);
  }
}
