/**
 * The one small interface every step kind implements: read the actual state, apply the
 * desired state (writing only what differs, make-before-break), verify it, and check
 * readiness without changing anything.
 */

export type Side = "primary" | "secondary";

export function otherSide(side: Side): Side {
  return side === "primary" ? "secondary" : "primary";
}

export interface SwitchContext {
  readonly group: string;
  readonly failoverCount: number;
  readonly from: Side;
  readonly to: Side;
}

export interface ActualState {
  /** Which side the resource serves now; unknown when it cannot tell (a webhook, a foreign value). */
  readonly side: Side | "both" | "none" | "unknown";
  readonly detail: string;
}

export interface ApplyOutcome {
  readonly writes: number;
  readonly detail: string;
  /**
   * Set when the step is waiting for a change it made (or found) to finish before it may go on,
   * e.g. a Front Door origin still deploying: the old side is not touched yet, later steps do
   * not run, and the next cycle applies again from here. Says what it waits for.
   */
  readonly pending?: string;
}

export interface VerifyOutcome {
  readonly status: "verified" | "propagating" | "mismatch";
  readonly detail: string;
}

export interface Readiness {
  readonly ready: boolean;
  /** Each problem named precisely: what is missing, on which resource, what to grant. */
  readonly problems: readonly string[];
}

export interface SwitchStepRunner {
  readonly kind: string;
  /** Short human description, e.g. "traffic_manager profile tm-app". */
  readonly label: string;
  actual(): Promise<ActualState>;
  apply(context: SwitchContext): Promise<ApplyOutcome>;
  verify(context: SwitchContext): Promise<VerifyOutcome>;
  readiness(budgetSeconds?: number): Promise<Readiness>;
}
