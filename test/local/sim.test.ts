import { decideSwitch, evaluateCheck } from "../../src/core/policy";
import type { FailoverState } from "../../src/core/state";
import type { Decisions } from "../../src/local/tools/sim/engine";
import { FAMILIES } from "../../src/local/tools/sim/families";
import { EPISODE_CYCLES, parseArgs, reportLines, runSim } from "../../src/local/tools/sim/sim";

/** npm run sim (1,000,000 cycles) in small, and proof that its invariants catch a broken policy. */

test("a short seeded run over every family: no invariant violated, the lost primary detected within the bound", () => {
  const result = runSim({ seed: 11, cycles: FAMILIES.length * EPISODE_CYCLES * 3 });
  expect(result.violations).toEqual([]);
  expect(result.families.length).toBeGreaterThanOrEqual(20);
  expect(result.cycles).toBeGreaterThanOrEqual(FAMILIES.length * EPISODE_CYCLES * 3);
  const family = (name: string) => result.families.find((f) => f.name === name)!;
  expect(family("primary-region-lost").detections.length).toBe(3);
  expect(Math.max(...family("primary-region-lost").ratios)).toBeLessThanOrEqual(1);
  for (const name of ["baseline", "partition-one-vantage", "lying-unhealthy", "flapping-link"]) expect([name, family(name).falseFailovers]).toEqual([name, 0]);
  expect(family("standby-down").switches).toBe(0);
  expect(family("standby-down").blocked).toBeGreaterThan(0);
  expect(reportLines(result).at(-1)).toMatch(new RegExp(`^sim: cycles [\\d,]+, families ${FAMILIES.length}, violations 0, time `));
});

test("the same seed gives the same run; another seed another", () => {
  const counts = (seed: number) => runSim({ seed, cycles: 2000, families: ["chaos", "flapping-primary"] }).families.map((f) => [f.switches, f.blocked, f.detections]);
  expect(counts(4)).toEqual(counts(4));
  expect(counts(4)).not.toEqual(counts(5));
});

describe("the invariants catch a broken policy", () => {
  /** Fails over as soon as one vantage saw the active side down. */
  const oneVote: Decisions = {
    evaluateCheck: (state, probes, policy, now, cycle) => {
      const outcome = evaluateCheck(state, probes, policy, now, cycle);
      const down = probes.activeVotes?.some((v) => v.healthy === false) ?? !probes.active.healthy;
      return down && cycle !== undefined ? { ...outcome, recommendation: "failover", reason: "one vote" } : outcome;
    },
    decideSwitch,
  };

  test("failing over on one vote: a false failover with one vantage lying, before the threshold; the failing seed prints its replay", () => {
    const result = runSim({ seed: 1, cycles: 20 * EPISODE_CYCLES, families: ["lying-unhealthy", "partition-one-vantage"], decisions: oneVote });
    const found = result.violations.map((v) => v.what).join("\n");
    expect(found).toMatch(/false failover: the primary had no outage/);
    expect(found).toMatch(/failover from primary after \d+ checks a quorum \(\d\) saw unhealthy/);
    const first = result.violations[0];
    expect(first.replay).toBe(`npm run sim -- --seed 1 --family ${first.family} --cycles ${(first.episode + 1) * EPISODE_CYCLES}`);
    // The replay command, run, finds the same violation.
    const args = parseArgs(first.replay.split(" -- ")[1].split(" "));
    expect(runSim({ ...args, decisions: oneVote }).violations.map((v) => v.what)).toContain(first.what);
  });

  test("switching by force (no cooldown, no standby verification): switches inside the cooldown, and to a side the vantages saw down", () => {
    const forced: Decisions = {
      evaluateCheck: (state, ...rest) => evaluateCheck({ ...state, lock_until_utc: undefined }, ...rest),
      decideSwitch: (state, request, standby, policy, now) => decideSwitch(state, { ...request, force: true }, standby, policy, now),
    };
    const found = runSim({ seed: 1, cycles: 40 * EPISODE_CYCLES, families: ["thresholds-cooldowns", "standby-down"], decisions: forced }).violations.map((v) => v.what);
    expect(found.join("\n")).toMatch(/inside the cooldown of \d+ s/);
    expect(found.join("\n")).toMatch(/switch to secondary, which the vantages did not judge healthy/);
  });

  test("a state that does not read back as itself (the loop decides on what it wrote, unread): caught on the write", () => {
    // A field the state schema does not know is written as a column, but a read drops it: the next check would decide on a state no reader sees.
    const unreadable: Decisions = {
      evaluateCheck: (...a) => {
        const outcome = evaluateCheck(...a);
        return { ...outcome, next: { ...outcome.next, stray: 1 } as FailoverState };
      },
      decideSwitch,
    };
    const found = runSim({ seed: 1, cycles: 2 * EPISODE_CYCLES, families: ["baseline"], decisions: unreadable }).violations.map((v) => v.what);
    expect(found.join("\n")).toMatch(/a written state does not read back as itself/);
  });

  test("never failing over: the lost primary is not switched away from within the bound", () => {
    const never: Decisions = { evaluateCheck: (...a) => ({ ...evaluateCheck(...a), recommendation: "none" }), decideSwitch };
    const found = runSim({ seed: 1, cycles: 5 * EPISODE_CYCLES, families: ["primary-region-lost"], decisions: never }).violations.map((v) => v.what);
    expect(found).toHaveLength(5);
    expect(found[0]).toMatch(/the primary was lost and no switch followed .*bound \d+ s/);
  });

  test("a traffic write sent before its ledger entry is on the row: with the storage refusing row writes, a write the row never shows", () => {
    const families = ["storage-flaky-writes"];
    const core = runSim({ seed: 1, cycles: 10 * EPISODE_CYCLES, families });
    expect(core.violations).toEqual([]);
    // With the core's order, a refused outcome leaves the write on the row as pending.
    expect(core.families[0].pendingOnly).toBeGreaterThan(0);
    const found = runSim({ seed: 1, cycles: 10 * EPISODE_CYCLES, families, decisions: { evaluateCheck, decideSwitch, recordBeforeWrite: false } }).violations.map((v) => v.what);
    expect(found.join("\n")).toMatch(/traffic write without a ledger entry: PATCH trafficManagerProfiles\/tm-sim\/ExternalEndpoints\/\w+ /);
  });

  test("failback holds: the core never fails back inside one and lets it expire; ignoring holds, or keeping them, is caught", () => {
    const families = ["failback-hold"];
    const core = runSim({ seed: 1, cycles: 40 * EPISODE_CYCLES, families });
    expect(core.violations).toEqual([]);
    // A hold never keeps traffic on a failing side: the failing secondary was switched away from while held.
    expect(core.families[0].heldFailovers).toBeGreaterThan(0);
    const unheld = (state: FailoverState): FailoverState => ({ ...state, hold_until_utc: undefined });
    const ignoring: Decisions = {
      evaluateCheck: (state, ...rest) => {
        const outcome = evaluateCheck(unheld(state), ...rest);
        return { ...outcome, next: { ...outcome.next, hold_until_utc: state.hold_until_utc } };
      },
      decideSwitch: (state, ...rest) => decideSwitch(unheld(state), ...rest),
    };
    expect(
      runSim({ seed: 1, cycles: 40 * EPISODE_CYCLES, families, decisions: ignoring })
        .violations.map((v) => v.what)
        .join("\n"),
    ).toMatch(/automatic failback while a failback hold stands/);
    const keeping: Decisions = {
      evaluateCheck: (state, ...rest) => {
        const outcome = evaluateCheck(state, ...rest);
        return { ...outcome, next: { ...outcome.next, hold_until_utc: state.hold_until_utc, hold_owner: state.hold_owner, hold_reason: state.hold_reason } };
      },
      decideSwitch,
    };
    expect(
      runSim({ seed: 1, cycles: 40 * EPISODE_CYCLES, families, decisions: keeping })
        .violations.map((v) => v.what)
        .join("\n"),
    ).toMatch(/a failback hold still on the row after its end/);
    // A hold that blocks every switch, the failover away from a failing side too.
    const blocking: Decisions = {
      evaluateCheck: (state, probes, policy, now, cycle) => {
        const outcome = evaluateCheck(state, probes, policy, now, cycle);
        return state.hold_until_utc && Date.parse(state.hold_until_utc) > now.getTime() ? { ...outcome, recommendation: "none", reason: "held" } : outcome;
      },
      decideSwitch,
    };
    expect(
      runSim({ seed: 1, cycles: 40 * EPISODE_CYCLES, families, decisions: blocking })
        .violations.map((v) => v.what)
        .join("\n"),
    ).toMatch(/a failback hold kept traffic on the failing secondary/);
  });

  test("decision modes: the core never switches without an approval or a proceed timeout and withdraws a proposal at recovery; ignoring the mode, keeping a proposal or not auditing one is caught", () => {
    const families = ["approval-gate"];
    const core = runSim({ seed: 1, cycles: 20 * EPISODE_CYCLES, families });
    expect(core.violations).toEqual([]);
    expect(core.families[0].gatedSwitches).toBeGreaterThan(0);
    const found = (decisions: Decisions) =>
      runSim({ seed: 1, cycles: 20 * EPISODE_CYCLES, families, decisions })
        .violations.map((v) => v.what)
        .join("\n");
    const automatic = <P extends { decision_mode: string }>(policy: P): P => ({ ...policy, decision_mode: "automatic" });
    const ignoring: Decisions = {
      evaluateCheck: (state, probes, policy, now, cycle) => evaluateCheck(state, probes, automatic(policy), now, cycle),
      decideSwitch: (state, request, standby, policy, now) => decideSwitch(state, request, standby, automatic(policy), now),
    };
    expect(found(ignoring)).toMatch(/automatic (failover|failback) in decision_mode (approval|notify_only) without an approval/);
    const keeping: Decisions = {
      evaluateCheck: (state, ...rest) => {
        const outcome = evaluateCheck(state, ...rest);
        const kept = Object.fromEntries(Object.entries(state).filter(([k]) => k.startsWith("proposal_")));
        return outcome.next.proposal_state === undefined && state.proposal_state === "pending" ? { ...outcome, next: { ...outcome.next, ...kept }, transitions: [] } : outcome;
      },
      decideSwitch,
    };
    expect(found(keeping)).toMatch(/a pending failover proposal outlived a check that found the primary healthy/);
    const silent: Decisions = {
      evaluateCheck: (...a) => {
        const outcome = evaluateCheck(...a);
        return { ...outcome, transitions: outcome.transitions.filter((x) => x.kind !== "approval_requested") };
      },
      decideSwitch,
    };
    expect(found(silent)).toMatch(/proposal failover-\w+ made without an audit entry/);
  });

  test("a row the state schema refuses", () => {
    const malformed: Decisions = {
      evaluateCheck: (...a) => ({ ...evaluateCheck(...a), next: { ...evaluateCheck(...a).next, active_target: "both" as FailoverState["active_target"] } }),
      decideSwitch,
    };
    const found = runSim({ seed: 1, cycles: EPISODE_CYCLES, families: ["baseline"], decisions: malformed }).violations.map((v) => v.what);
    expect(found[0]).toMatch(/the row does not parse with the state schema: .*active_target/);
  });
});

test("flags: --seed, --cycles, --family (repeated or comma-separated); anything else is refused with the usage", () => {
  expect(parseArgs([])).toEqual({ seed: 1, cycles: 1_000_000 });
  expect(parseArgs(["--seed", "123", "--family", "chaos,baseline", "--family", "both-down", "--cycles", "480"])).toEqual({ seed: 123, cycles: 480, families: ["chaos", "baseline", "both-down"] });
  expect(() => parseArgs(["--cycles", "0"])).toThrow(/usage: sim/);
  expect(() => runSim({ seed: 1, cycles: 10, families: ["nope"] })).toThrow(/no family "nope"/);
});
