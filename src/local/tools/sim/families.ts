import type { Policy } from "../../../core/knobs";
import { CONTROLLER_VANTAGE, quorumOf } from "../../../core/vantage";
import type { Target } from "../../../core/state";
import { T0, policyWith, type Random, type Scenario, type VantageSpec, type Window } from "./world";

/**
 * The scenario families: each draws one episode's world (policy, vantages, faults) from the
 * seeded PRNG. The default world: the primary in westeurope, the secondary in northeurope, the
 * controller and its storage in swedencentral, agents in other regions, 3 or 5 vantages with a
 * majority quorum, all honest, nothing down.
 */

export interface Family {
  readonly name: string;
  readonly what: string;
  readonly build: (r: Random, cycles: number) => Scenario;
}

const FOREVER = Number.POSITIVE_INFINITY;
const PRIMARY_REGION = "westeurope";
const SECONDARY_REGION = "northeurope";
const CONTROLLER_REGION = "swedencentral";
const AGENT_REGIONS = ["eastus", "westus2", "uksouth", "francecentral", "japaneast", "brazilsouth"];

type Mutable<T> = { -readonly [K in keyof T]: T[K] };
type Draft = Omit<Mutable<Scenario>, "vantages" | "regionDown" | "endpointDown" | "storage" | "holds" | "operator"> & {
  operator?: { answerAfterMs: number; approve: boolean };
  holds: Window[];
  vantages: (Mutable<VantageSpec> & { cut: Record<Target, Window[]> })[];
  regionDown: Record<string, Window[]>;
  endpointDown: Record<Target, Window[]>;
  storage: { writesFail: Window[]; writeFailRate: number; down: Window[] };
};

const pick = <T>(r: Random, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Random, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

function intervalMs(d: Draft): number {
  return d.policy.check_interval_seconds * 1000;
}

/** A moment in the first half of the episode, not on a cycle boundary. */
function onset(r: Random, d: Draft): number {
  return T0 + int(r, 10, Math.max(10, Math.floor(d.cycles / 2))) * intervalMs(d) + Math.floor(r() * intervalMs(d));
}

/** Alternating outages from `from` to `to`: down for [downMin, downMax] intervals, up for [upMin, upMax]. */
function flapping(r: Random, d: Draft, from: number, to: number, down: [number, number], up: [number, number]): Window[] {
  const out: Window[] = [];
  const i = intervalMs(d);
  for (let t = from + Math.floor(r() * i * up[1]); t < to;) {
    const end = t + Math.floor((down[0] + r() * (down[1] - down[0])) * i);
    out.push([t, end]);
    t = end + Math.floor((up[0] + r() * (up[1] - up[0])) * i);
  }
  return out;
}

function base(r: Random, cycles: number, options: { agents?: number; quorum?: number; policy?: Partial<Policy> } = {}): Draft {
  const policy = policyWith({
    check_interval_seconds: pick(r, [10, 30, 60]),
    failure_threshold: pick(r, [1, 2, 3, 3, 5]),
    recovery_threshold: pick(r, [2, 3, 5]),
    cooldown_seconds: pick(r, [0, 60, 300, 900]),
    probe_timeout_ms: pick(r, [1000, 2000, 5000]),
    failback_mode: r() < 0.3 ? "automatic" : "manual",
    quorum: options.quorum ?? 0,
    ...options.policy,
  });
  const agents = options.agents ?? pick(r, [2, 2, 4]);
  const regions = [...AGENT_REGIONS].sort(() => r() - 0.5).slice(0, agents);
  const vantage = (name: string, region: string): Draft["vantages"][number] => ({
    name,
    region,
    behaviour: "honest",
    lagMs: 0,
    timeoutRate: 0,
    cut: { primary: [] as Window[], secondary: [] as Window[] },
  });
  return {
    policy,
    cycles,
    regions: { primary: PRIMARY_REGION, secondary: SECONDARY_REGION, controller: CONTROLLER_REGION },
    vantages: [vantage(CONTROLLER_VANTAGE, CONTROLLER_REGION), ...regions.map((g) => vantage(`agent-${g}`, g))],
    regionDown: {},
    endpointDown: { primary: [], secondary: [] },
    storage: { writesFail: [], writeFailRate: 0, down: [] },
    plane: { failRate: 0, slowRate: 0, down: [] },
    holds: [],
    expectSwitch: false,
    noFalseFailover: true,
  };
}

/** Whether enough vantages can still see the lost primary as down (and vote about the standby) to reach the quorum. */
function quorumCanVote(d: Draft): boolean {
  const lost = (region: string) => (d.regionDown[region] ?? []).some(([, to]) => to === FOREVER);
  const voters = d.vantages.filter((v) => v.behaviour !== "lies_healthy" && v.timeoutRate === 0 && !lost(v.region));
  const standbyVoters = d.vantages.filter((v) => v.behaviour === "honest" && v.timeoutRate === 0 && !lost(v.region));
  const q = quorumOf(d.policy.quorum, d.vantages.length);
  return voters.length >= q && standbyVoters.length >= q;
}

/** The primary lost from `at` (its region, or only its endpoint), for good: a switch must follow within the bound. */
function losePrimary(r: Random, d: Draft, how: "region" | "endpoint" = "region", at = onset(r, d)): Draft {
  if (how === "region") (d.regionDown[PRIMARY_REGION] ??= []).push([at, FOREVER]);
  else d.endpointDown.primary.push([at, FOREVER]);
  d.primaryLostAt = at;
  d.expectSwitch = quorumCanVote(d);
  return d;
}

/** One agent (or the controller's own probe) chosen at random. */
function someVantage(r: Random, d: Draft, agentsOnly = false): Draft["vantages"][number] {
  return agentsOnly ? d.vantages[int(r, 1, d.vantages.length - 1)] : pick(r, d.vantages);
}

function misbehave(r: Random, d: Draft, behaviour: "lies_healthy" | "lies_unhealthy"): Draft {
  const index = int(r, 0, d.vantages.length - 1);
  d.vantages[index] = { ...d.vantages[index], behaviour };
  return d;
}

function end(d: Draft): number {
  return T0 + d.cycles * intervalMs(d);
}

export const FAMILIES: readonly Family[] = [
  { name: "baseline", what: "nothing fails", build: (r, c) => base(r, c) },
  {
    name: "primary-region-lost",
    what: "the primary's region lost (with an agent in it, sometimes)",
    build: (r, c) => {
      const d = base(r, c);
      if (r() < 0.3) d.vantages[1] = { ...d.vantages[1], name: "agent-westeurope", region: PRIMARY_REGION };
      return losePrimary(r, d);
    },
  },
  { name: "primary-endpoint-down", what: "the primary's endpoint down, its region up", build: (r, c) => losePrimary(r, base(r, c), "endpoint") },
  {
    name: "secondary-region-lost",
    what: "the standby's region lost; the primary healthy",
    build: (r, c) => {
      const d = base(r, c);
      const at = onset(r, d);
      d.regionDown[SECONDARY_REGION] = [[at, r() < 0.5 ? FOREVER : at + int(r, 5, 50) * intervalMs(d)]];
      return d;
    },
  },
  {
    name: "controller-region-lost",
    what: "the controller's region (its loop, storage, own probe) lost for a while; the primary lost, sometimes meanwhile",
    build: (r, c) => {
      const d = base(r, c);
      const at = onset(r, d);
      d.regionDown[CONTROLLER_REGION] = [[at, at + int(r, 2, 40) * intervalMs(d)]];
      return r() < 0.6 ? losePrimary(r, d, "region", at + int(r, -5, 20) * intervalMs(d)) : d;
    },
  },
  {
    name: "controller-with-primary",
    what: "the controller hosted in the primary's region, which is lost: the loop stops, nothing is decided",
    build: (r, c) => {
      const d = base(r, c);
      d.regions = { ...d.regions, controller: PRIMARY_REGION };
      d.vantages[0] = { ...d.vantages[0], region: PRIMARY_REGION };
      losePrimary(r, d);
      d.expectSwitch = false;
      return d;
    },
  },
  {
    name: "vantage-region-lost",
    what: "an agent's region lost; the primary lost later, sometimes",
    build: (r, c) => {
      const d = base(r, c);
      d.regionDown[someVantage(r, d, true).region] = [[onset(r, d), FOREVER]];
      return r() < 0.5 ? losePrimary(r, d, "endpoint") : d;
    },
  },
  {
    name: "partition-one-vantage",
    what: "one vantage cut from the primary (one way), for long stretches; the primary healthy",
    build: (r, c) => {
      const d = base(r, c);
      someVantage(r, d).cut.primary.push(...flapping(r, d, T0, end(d), [10, 80], [5, 40]));
      return d;
    },
  },
  {
    name: "partition-then-primary-lost",
    what: "one vantage cut from the primary, then the primary lost",
    build: (r, c) => {
      const d = base(r, c);
      someVantage(r, d).cut.primary.push([T0, FOREVER]);
      return losePrimary(r, d);
    },
  },
  { name: "lying-healthy", what: "one vantage always answers healthy; the primary lost", build: (r, c) => losePrimary(r, misbehave(r, base(r, c), "lies_healthy")) },
  {
    name: "lying-unhealthy",
    what: "one vantage always answers unhealthy; the primary lost later, sometimes",
    build: (r, c) => {
      const d = misbehave(r, base(r, c), "lies_unhealthy");
      return r() < 0.5 ? losePrimary(r, d, "endpoint") : d;
    },
  },
  {
    name: "flapping-link",
    what: "one vantage's path to the primary flaps every few checks",
    build: (r, c) => {
      const d = base(r, c);
      someVantage(r, d).cut.primary.push(...flapping(r, d, T0, end(d), [0.3, 4], [0.3, 4]));
      return d;
    },
  },
  {
    name: "failback-hold",
    what: "automatic failback; the primary down for a while, an operator holds the group on the secondary across its recovery; sometimes the secondary fails during the hold",
    build: (r, c) => {
      const d = base(r, c, { policy: { failback_mode: "automatic" } });
      const i = intervalMs(d);
      const down = onset(r, d);
      const back = down + int(r, d.policy.failure_threshold + 3, 40) * i;
      d.endpointDown.primary.push([down, back]);
      const from = down + int(r, 0, 10) * i;
      const until = back + int(r, -5, 60) * i;
      d.holds.push([from, Math.max(from + i, until)]);
      if (r() < 0.3) d.holds.push([until + int(r, 5, 30) * i, until + int(r, 40, 120) * i]);
      // The secondary fails during the hold: a hold never keeps traffic on a failing side.
      if (r() < 0.4) d.endpointDown.secondary.push([back + int(r, 1, 10) * i, back + int(r, 15, 60) * i]);
      return d;
    },
  },
  {
    name: "approval-gate",
    what: "decision_mode approval (or notify_only); the primary flaps or is lost; an operator approves or rejects each proposal after a while, or nobody answers (proceed or abandon)",
    build: (r, c) => {
      const timeout = pick(r, [30, 120, 600]);
      const d = base(r, c, {
        policy: { decision_mode: r() < 0.8 ? "approval" : "notify_only", approval_timeout_seconds: timeout, approval_timeout_action: r() < 0.5 ? "proceed" : "abandon" },
      });
      if (r() < 0.5) d.endpointDown.primary.push(...flapping(r, d, T0, end(d), [0.5, 12], [2, 30]));
      else losePrimary(r, d, "endpoint");
      if (r() < 0.7) d.operator = { answerAfterMs: Math.floor(r() * timeout * 1500), approve: r() < 0.6 };
      // A human decides: no detection bound.
      d.expectSwitch = false;
      return d;
    },
  },
  {
    name: "flapping-primary",
    what: "the primary itself flaps (outages shorter and longer than the threshold)",
    build: (r, c) => {
      const d = base(r, c);
      d.endpointDown.primary.push(...flapping(r, d, T0, end(d), [0.5, 8], [2, 30]));
      return d;
    },
  },
  {
    name: "agent-timeouts",
    what: "agents often do not answer in time (no vote); the primary lost, sometimes",
    build: (r, c) => {
      const d = base(r, c);
      for (const v of d.vantages.slice(1)) v.timeoutRate = 0.1 + r() * 0.4;
      return r() < 0.5 ? losePrimary(r, d) : d;
    },
  },
  {
    name: "clock-skew",
    what: "every vantage's view up to 15 s old (skewed clocks, stale answers); the primary lost",
    build: (r, c) => {
      const d = base(r, c);
      for (const v of d.vantages) v.lagMs = Math.floor(r() * 15_000);
      return losePrimary(r, d);
    },
  },
  {
    name: "traffic-plane-failing",
    what: "traffic writes fail (503) 20-80 % of the time, the plane down for a while; the primary lost",
    build: (r, c) => {
      const d = base(r, c);
      const at = onset(r, d);
      d.plane = { failRate: 0.2 + r() * 0.6, slowRate: 0, down: [[at, at + int(r, 1, 30) * intervalMs(d)]] };
      return losePrimary(r, d, "region", at);
    },
  },
  {
    name: "traffic-plane-slow",
    what: "traffic writes land but answer after the deadline; the primary down for a while, automatic failback",
    build: (r, c) => {
      const d = base(r, c, { policy: { failback_mode: "automatic" } });
      d.plane = { failRate: 0.1, slowRate: 0.3 + r() * 0.6, down: [] };
      const at = onset(r, d);
      losePrimary(r, d, "endpoint", at);
      d.endpointDown.primary = [[at, at + int(r, 20, 80) * intervalMs(d)]];
      return d;
    },
  },
  {
    name: "storage-writes-fail",
    what: "the controller's storage refuses writes for stretches (no decision applied); the traffic plane retrying; the primary lost",
    build: (r, c) => {
      const d = base(r, c);
      d.storage.writesFail.push(...flapping(r, d, T0, end(d), [1, 10], [3, 30]));
      d.plane = { failRate: 0.3, slowRate: 0.2, down: [] };
      return losePrimary(r, d);
    },
  },
  {
    name: "storage-flaky-writes",
    what: "the controller's storage refuses a quarter of the row writes (throttled), the ones around each traffic write included, while the primary flaps",
    build: (r, c) => {
      const d = base(r, c);
      d.storage.writeFailRate = 0.25;
      d.endpointDown.primary.push(...flapping(r, d, T0, end(d), [2, 10], [2, 30]));
      return d;
    },
  },
  {
    name: "storage-lost",
    what: "the controller's storage unreachable for stretches (nothing read, nothing decided); the primary lost",
    build: (r, c) => {
      const d = base(r, c);
      d.storage.down.push(...flapping(r, d, T0, end(d), [1, 20], [5, 40]));
      return losePrimary(r, d);
    },
  },
  {
    name: "standby-down",
    what: "the standby's endpoint down, then the primary lost: nowhere to go, the failover is blocked",
    build: (r, c) => {
      const d = base(r, c);
      d.endpointDown.secondary.push([T0 + int(r, 0, 10) * intervalMs(d), FOREVER]);
      losePrimary(r, d, "endpoint");
      d.expectSwitch = false;
      return d;
    },
  },
  {
    name: "both-down",
    what: "both regions lost, at about the same time, for a while",
    build: (r, c) => {
      const d = base(r, c);
      const at = onset(r, d);
      d.regionDown[PRIMARY_REGION] = [[at, at + int(r, 5, 60) * intervalMs(d)]];
      d.regionDown[SECONDARY_REGION] = [[at + int(r, -3, 3) * intervalMs(d), at + int(r, 5, 60) * intervalMs(d)]];
      return d;
    },
  },
  {
    name: "quorum-1-of-3",
    what: "quorum 1 of 3: any one vantage decides; one cut from the primary in half the episodes (false failovers expected: reported, not a violation)",
    build: (r, c) => {
      const d = base(r, c, { agents: 2, quorum: 1 });
      d.noFalseFailover = false;
      const cut = r() < 0.5;
      if (cut) someVantage(r, d).cut.primary.push(...flapping(r, d, T0, end(d), [10, 80], [5, 40]));
      if (r() < 0.5) losePrimary(r, d);
      // A false failover before the loss may hold a cooldown when it comes: no bound then.
      if (cut) d.expectSwitch = false;
      return d;
    },
  },
  {
    name: "quorum-2-of-3",
    what: "quorum 2 of 3; one vantage cut from the primary; the primary lost, sometimes",
    build: (r, c) => {
      const d = base(r, c, { agents: 2, quorum: 2 });
      someVantage(r, d).cut.primary.push(...flapping(r, d, T0, end(d), [10, 80], [5, 40]));
      return r() < 0.5 ? losePrimary(r, d, "endpoint") : d;
    },
  },
  { name: "quorum-3-of-3", what: "quorum 3 of 3 (every vantage must see it down); the primary lost", build: (r, c) => losePrimary(r, base(r, c, { agents: 2, quorum: 3 }), "endpoint") },
  {
    name: "quorum-2-of-5",
    what: "quorum 2 of 5; one vantage always answers unhealthy; the primary lost, sometimes",
    build: (r, c) => {
      const d = misbehave(r, base(r, c, { agents: 4, quorum: 2 }), "lies_unhealthy");
      return r() < 0.5 ? losePrimary(r, d, "endpoint") : d;
    },
  },
  {
    name: "thresholds-cooldowns",
    what: "threshold and recovery 1-10, interval 1-120 s, cooldown 0-3600 s, automatic failback; the primary flapping",
    build: (r, c) => {
      const d = base(r, c, {
        policy: {
          failure_threshold: int(r, 1, 10),
          recovery_threshold: int(r, 1, 10),
          check_interval_seconds: pick(r, [1, 5, 10, 30, 120]),
          cooldown_seconds: pick(r, [0, 1, 30, 300, 3600]),
          failback_mode: "automatic",
        },
      });
      d.endpointDown.primary.push(...flapping(r, d, T0, end(d), [1, 15], [1, 30]));
      return d;
    },
  },
  {
    name: "chaos",
    what: "one bad vantage (cut, flapping, lying or its region lost), agents timing out, plane and storage faults, the controller away, the primary flapping",
    build: (r, c) => {
      const d = base(r, c);
      const bad = someVantage(r, d, true);
      const kind = int(r, 0, 3);
      if (kind === 0) bad.cut.primary.push(...flapping(r, d, T0, end(d), [0.3, 30], [0.3, 30]));
      else if (kind === 1) bad.behaviour = pick(r, ["lies_healthy", "lies_unhealthy"] as const);
      else if (kind === 2) d.regionDown[bad.region] = flapping(r, d, T0, end(d), [1, 30], [1, 30]);
      else bad.cut.secondary.push(...flapping(r, d, T0, end(d), [1, 30], [1, 30]));
      for (const v of d.vantages.slice(1)) if (v !== bad) v.timeoutRate = r() * 0.1;
      d.plane = { failRate: r() * 0.3, slowRate: r() * 0.3, down: flapping(r, d, T0, end(d), [1, 5], [20, 60]) };
      d.storage.writesFail.push(...flapping(r, d, T0, end(d), [1, 3], [20, 60]));
      d.regionDown[CONTROLLER_REGION] = flapping(r, d, T0, end(d), [1, 5], [30, 90]);
      d.endpointDown.primary.push(...flapping(r, d, T0, end(d), [0.5, 20], [5, 60]));
      return d;
    },
  },
];
