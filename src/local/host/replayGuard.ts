import { ActionType, type Action } from "./replayHistory";

/**
 * Nondeterminism detection, as the Durable extension does it: on every replay the actions the
 * orchestrator returns must repeat, in order, what its history says it scheduled before (same
 * type, same name, same input). A mismatch fails the orchestration with a message in the
 * extension's words instead of letting the local host carry on with a history that no longer
 * fits the code.
 */

export interface ScheduledAction {
  readonly type: number;
  readonly name: string;
  readonly input: string;
}

function describe(a: ScheduledAction): string {
  return `${ActionType[a.type] ?? `action type ${a.type}`} '${a.name}' with input ${a.input}`;
}

/** What an action scheduled, in comparable form. */
export function scheduledAction(action: Action): ScheduledAction {
  switch (action.actionType) {
    case ActionType.CallActivity:
    case ActionType.CallActivityWithRetry:
      return { type: action.actionType, name: action.functionName ?? "", input: JSON.stringify(action.input ?? null) };
    case ActionType.CreateTimer:
      return { type: action.actionType, name: "", input: new Date(action.fireAt!).toISOString() };
    case ActionType.WaitForExternalEvent:
      return { type: action.actionType, name: action.externalEventName ?? "", input: "" };
    default:
      return { type: action.actionType, name: action.functionName ?? "", input: JSON.stringify(action.input ?? null) };
  }
}

export class NonDeterminismError extends Error {
  constructor(detail: string) {
    super(
      `Non-Deterministic workflow detected: ${detail}. Was a change made to the orchestrator code after this instance had already started running, or does it read the clock, random numbers or I/O outside of an activity?`,
    );
    this.name = "NonDeterministicOrchestrationException";
  }
}

/** Throws NonDeterminismError when the replayed actions do not repeat the recorded ones. */
export function checkReplay(recorded: readonly ScheduledAction[], actions: readonly Action[]): void {
  for (const [index, before] of recorded.entries()) {
    const action = actions[index];
    if (!action) {
      throw new NonDeterminismError(`a previous execution of this orchestration scheduled ${describe(before)} as action #${index}, but the replay did not schedule it`);
    }
    const now = scheduledAction(action);
    if (now.type !== before.type || now.name !== before.name || now.input !== before.input) {
      throw new NonDeterminismError(`a previous execution of this orchestration scheduled ${describe(before)} as action #${index}, but the replay scheduled ${describe(now)}`);
    }
  }
}
