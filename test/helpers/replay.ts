import { InvocationContext } from "@azure/functions";
import type { SwitchTargetResponse, HealthCheckResponse } from "../../src/core/operations";
import { ORCHESTRATOR_NAME } from "../../src/core/orchestrationContract";
import { registeredFunctions } from "../../src/local/host/functionsCore";
import { flattenActions, history, orchestrationTriggerInput, type Action, type HistoryEvent } from "../../src/local/host/replayHistory";

// Registers the orchestrator through @azure/functions -> @azure/functions-core, as in Azure.
import "../../src/functions/failoverOrchestrator";

export interface Replayed {
  readonly actions: Action[];
  readonly isDone: boolean;
  readonly customStatus: unknown;
  readonly raw: unknown;
}

/** Runs the registered orchestrator over a history through the durable-functions replay engine. */
export async function replay(events: readonly HistoryEvent[], input: unknown, instanceId = "failover-state"): Promise<Replayed> {
  const registration = registeredFunctions().get(ORCHESTRATOR_NAME);
  if (!registration) throw new Error("the orchestrator is not registered");
  const state = (await registration.handler(orchestrationTriggerInput(instanceId, input, events), new InvocationContext({ functionName: ORCHESTRATOR_NAME }))) as {
    actions: unknown;
    isDone: boolean;
    customStatus: unknown;
  };
  return { actions: flattenActions(state.actions), isDone: state.isDone, customStatus: state.customStatus, raw: JSON.parse(JSON.stringify(state)) };
}

export const T0 = new Date("2026-03-01T10:00:00.000Z");
export const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

export function check(overrides: Partial<HealthCheckResponse> = {}): HealthCheckResponse {
  return {
    group: "state",
    healthy: true,
    active_target: "primary",
    endpoint: "http://primary/health",
    status_code: 200,
    latency_ms: 3,
    last_status: "OK",
    consecutive_failures: 0,
    consecutive_successes: 1,
    standby_consecutive_failures: 0,
    failover_count: 0,
    paused: false,
    recommendation: "none",
    reason: "healthy",
    check_interval_seconds: 30,
    ...overrides,
  };
}

export function failoverResult(overrides: Partial<SwitchTargetResponse> = {}): SwitchTargetResponse {
  return { group: "state", changed: true, previous_target: "primary", active_target: "secondary", failover_count: 1, last_status: "FAILOVER_DONE", forced: false, ...overrides };
}

/** A history builder that hands out task ids in scheduling order, as the extension does. */
export class HistoryBuilder {
  readonly events: HistoryEvent[] = [];
  private nextId = 0;
  constructor(input: unknown, start = T0) {
    this.events.push(history.orchestratorStarted(start), history.executionStarted(start, ORCHESTRATOR_NAME, input));
  }
  scheduled(name: string, input: unknown, when: Date): number {
    const id = this.nextId++;
    this.events.push(history.taskScheduled(when, id, name, input));
    return id;
  }
  timer(fireAt: Date, when: Date): number {
    const id = this.nextId++;
    this.events.push(history.timerCreated(when, id, fireAt));
    return id;
  }
  episode(when: Date, ...events: HistoryEvent[]): this {
    this.events.push(history.orchestratorCompleted(when), history.orchestratorStarted(when), ...events);
    return this;
  }
}
