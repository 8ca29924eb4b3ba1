import { policySchema, defaultPolicyText, type Policy } from "../../../core/knobs";
import type { Target } from "../../../core/state";

/**
 * The simulated world: regions, the two sides, the controller with its storage, the vantages
 * (the controller's own probe and N agents, each in a region) and the traffic plane. Every
 * fault is a list of time windows in virtual milliseconds, drawn from a seeded PRNG by the
 * scenario families (families.ts); the engine (engine.ts) asks the world what each vantage
 * sees at a given time.
 */

export type Random = () => number;

/** [from, to) in virtual ms. */
export type Window = readonly [number, number];

export const T0 = Date.parse("2026-01-01T00:00:00Z");
export const PRIMARY_URL = "https://primary.example.com/health";
export const SECONDARY_URL = "https://secondary.example.com/health";

export function inside(windows: readonly Window[], t: number): boolean {
  for (const [from, to] of windows) if (t >= from && t < to) return true;
  return false;
}

export function overlaps(windows: readonly Window[], a: number, b: number): boolean {
  for (const [from, to] of windows) if (from <= b && to > a) return true;
  return false;
}

/** honest; or a vantage that answers the same whatever it sees. */
export type Behaviour = "honest" | "lies_healthy" | "lies_unhealthy";

export interface VantageSpec {
  readonly name: string;
  readonly region: string;
  readonly behaviour: Behaviour;
  /**
   * How old its view is: asked at t, it answers what the side was at t - lag. Votes carry no
   * time the policy reads, so a skewed clock can only shift when an answer was true; no
   * vantage sees the future.
   */
  readonly lagMs: number;
  /** Chance that it does not answer a call in time (no vote). */
  readonly timeoutRate: number;
  /** Times its path to a side is cut (one way: the vantage cannot reach the side; everyone else can). */
  readonly cut: Readonly<Record<Target, readonly Window[]>>;
}

export interface Scenario {
  readonly policy: Policy;
  readonly cycles: number;
  readonly regions: Readonly<Record<Target | "controller", string>>;
  /** [0] is the controller's own probe (in the controller's region). */
  readonly vantages: readonly VantageSpec[];
  readonly regionDown: Readonly<Record<string, readonly Window[]>>;
  /** The endpoint itself down (its process, not its region). */
  readonly endpointDown: Readonly<Record<Target, readonly Window[]>>;
  /** The controller's storage: writes refused (reads work) for stretches, or each with a probability (throttling), or lost altogether. */
  readonly storage: { readonly writesFail: readonly Window[]; readonly writeFailRate: number; readonly down: readonly Window[] };
  /** The traffic plane: per write, the chance it fails (not applied) or is slow (applied, answered after the deadline); down windows. */
  readonly plane: { readonly failRate: number; readonly slowRate: number; readonly down: readonly Window[] };
  /** Failback holds an operator sets: each at the first cycle at or after its start (when the row can be written), until its end. */
  readonly holds: readonly Window[];
  /** The operator who answers each proposal (decision_mode approval) this long after it was made, approving or rejecting it; absent: nobody answers. */
  readonly operator?: { readonly answerAfterMs: number; readonly approve: boolean };
  /** The primary is lost for good from this time (detection is measured from it). */
  readonly primaryLostAt?: number;
  /** A switch must follow within the bound of `primaryLostAt` (or of the controller/storage coming back): the standby is healthy and a quorum can vote. */
  readonly expectSwitch: boolean;
  /** A failover while the active side had no real outage is a violation (at most one vantage misbehaves and the quorum is a majority). */
  readonly noFalseFailover: boolean;
}

/** The default policy (the app settings' defaults) with overrides, parsed by the one policy schema (an override it refuses throws). */
export function policyWith(overrides: Partial<Policy>): Policy {
  return policySchema.parse({ ...defaultPolicyText(), ...overrides });
}

/** The side's real outage at t: its process or its whole region. */
export function sideDown(s: Scenario, side: Target, t: number): boolean {
  return inside(s.endpointDown[side], t) || inside(s.regionDown[s.regions[side]] ?? [], t);
}

/** Whether the side had any real outage in [a, b]. */
export function sideOutageIn(s: Scenario, side: Target, a: number, b: number): boolean {
  return overlaps(s.endpointDown[side], a, b) || overlaps(s.regionDown[s.regions[side]] ?? [], a, b);
}

export function regionIsDown(s: Scenario, region: string, t: number): boolean {
  return inside(s.regionDown[region] ?? [], t);
}

/** The traffic plane: which side each endpoint of the (one) Traffic Manager profile serves. */
export interface Plane {
  enabled: Record<Target, boolean>;
}
