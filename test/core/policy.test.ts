import { loadConfig } from "../../src/core/config";
import type { Policy } from "../../src/core/knobs";
import {
  decideApproval,
  decideHold,
  decidePause,
  decideRelease,
  decideResume,
  decideSwitch,
  evaluateCheck,
  holdEnd,
  HOLD_CLOCK_GRACE_SECONDS,
  MAX_HOLD_SECONDS,
  nextCountedCheck,
  standbyCheckDue,
  type SwitchRequest,
} from "../../src/core/policy";
import type { ProbeResult } from "../../src/core/probe";
import { initialState, type FailoverState } from "../../src/core/state";

const policy: Policy = { ...loadConfig({ AzureWebJobsStorage: "UseDevelopmentStorage=true" }).policy, cooldown_seconds: 60 };
const NOW = new Date("2026-05-01T12:00:00.000Z");
const later = (s: number) => new Date(NOW.getTime() + s * 1000);

const ok = (url = "http://p/health"): ProbeResult => ({ url, healthy: true, status_code: 200, latency_ms: 5, body_bytes_read: 0 });
const down = (url = "http://p/health"): ProbeResult => ({ url, healthy: false, status_code: 503, latency_ms: 5, error_class: "http_status", error: "unexpected HTTP status 503", body_bytes_read: 0 });
const base = (): FailoverState => initialState("http://p/health", "http://s/health");

/** Feeds a sequence of active-endpoint results through evaluateCheck; returns the recommendations. */
function run(sequence: boolean[], p: Policy = policy, start: FailoverState = base()): { state: FailoverState; recommendations: string[] } {
  let state = start;
  const recommendations: string[] = [];
  sequence.forEach((healthy, i) => {
    const outcome = evaluateCheck(state, { active: healthy ? ok() : down() }, p, later(i * 30), `cycle-${i}`);
    state = outcome.next;
    recommendations.push(outcome.recommendation);
  });
  return { state, recommendations };
}

describe("hysteresis", () => {
  test("fails over only at the Nth consecutive unhealthy check (default 3)", () => {
    expect(run([false, false]).recommendations).toEqual(["none", "none"]);
    expect(run([false, false, false]).recommendations).toEqual(["none", "none", "failover"]);
  });

  test("unhealthy_since_utc marks the first counted failed check of the streak; a healthy check or a switch clears it", () => {
    expect(run([true]).state.unhealthy_since_utc).toBeUndefined();
    expect(run([true, false, false]).state.unhealthy_since_utc).toBe(later(30).toISOString());
    expect(run([false, false, true]).state.unhealthy_since_utc).toBeUndefined();
    expect(run([false, true, false, false]).state.unhealthy_since_utc).toBe(later(60).toISOString());
    const failing = run([false, false, false]).state;
    // A repeated check of the same cycle (at-least-once) moves nothing.
    expect(evaluateCheck(failing, { active: down() }, policy, later(999), "cycle-2").next.unhealthy_since_utc).toBe(NOW.toISOString());
    const switched = decideSwitch(failing, { kind: "failover", expected_from: "primary", force: false, automatic: true, reason: "r", actor: "o" }, ok("http://s/health"), policy, later(90));
    expect(switched.changed && switched.next.unhealthy_since_utc).toBeUndefined();
  });

  test("one healthy check resets the count", () => {
    const { state, recommendations } = run([false, false, true, false, false]);
    expect(recommendations).not.toContain("failover");
    expect(state.consecutive_failures).toBe(2);
  });

  test.each([2, 3, 5, 10])("a flapping endpoint never causes a failover at N = %i", (n) => {
    const flapping = Array.from({ length: 200 }, (_, i) => i % 2 === 0);
    expect(run(flapping, { ...policy, failure_threshold: n }).recommendations).not.toContain("failover");
  });

  test("a manual check (no cycle) is recorded but never counted", () => {
    let state = base();
    for (let i = 0; i < 5; i++) {
      const outcome = evaluateCheck(state, { active: down() }, { ...policy, failure_threshold: 1 }, later(i));
      expect(outcome).toMatchObject({ recommendation: "none", next: { last_status: "UNHEALTHY", consecutive_failures: 0, last_check_utc: later(i).toISOString() } });
      state = outcome.next;
    }
  });

  test("a check repeated for the same cycle (the activity ran again) is counted once and gives the same answer", () => {
    const p = { ...policy, failure_threshold: 2 };
    const first = evaluateCheck(base(), { active: down() }, p, later(0), "cycle-a");
    const second = evaluateCheck(first.next, { active: down() }, p, later(30), "cycle-b");
    expect(second).toMatchObject({ recommendation: "failover", next: { consecutive_failures: 2 } });
    const repeat = evaluateCheck(second.next, { active: ok() }, p, later(31), "cycle-b");
    expect(repeat).toMatchObject({ recommendation: "failover", next: { consecutive_failures: 2 } });
    expect(evaluateCheck(first.next, { active: down() }, p, later(1), "cycle-a").next.consecutive_failures).toBe(1);
  });

  test("cycles a wake event started early are not counted: a pause/resume pair cannot shorten the hysteresis (finding 4)", () => {
    const p = { ...policy, check_interval_seconds: 60, failure_threshold: 3 };
    const cycle = (s: number) => later(s).toISOString();
    let state = evaluateCheck(base(), { active: down() }, p, later(0), cycle(0)).next;
    // Woken 0.12 s and 0.24 s later by control actions: recorded, not counted.
    for (const s of [0.12, 0.24]) {
      const woken = evaluateCheck(state, { active: down() }, p, later(s), cycle(s));
      expect(woken).toMatchObject({ recommendation: "none", next: { consecutive_failures: 1, last_cycle_id: cycle(0) } });
      state = woken.next;
    }
    expect(nextCountedCheck(state, 60)).toBe(cycle(60));
    state = evaluateCheck(state, { active: down() }, p, later(60), cycle(60)).next;
    expect(evaluateCheck(state, { active: down() }, p, later(120), cycle(120))).toMatchObject({ recommendation: "failover", next: { consecutive_failures: 3 } });
  });

  test("a timer that fires a few milliseconds early is still the counted check, so no second check follows at once; a tenth of the interval early (at most 100 ms) is the limit", () => {
    const p = { ...policy, check_interval_seconds: 1, failure_threshold: 3 };
    const at = (ms: number) => new Date(NOW.getTime() + ms);
    let state = evaluateCheck(base(), { active: down() }, p, at(0), at(0).toISOString()).next;
    // 999 ms after the last counted cycle: counted, the pace kept (the next is due 1 s after it).
    const early = evaluateCheck(state, { active: down() }, p, at(999), at(999).toISOString());
    expect(early.next).toMatchObject({ consecutive_failures: 2, last_cycle_id: at(999).toISOString() });
    expect(nextCountedCheck(early.next, 1)).toBe(at(1999).toISOString());
    state = early.next;
    // 899 ms after it (more than 100 ms early): not counted.
    expect(evaluateCheck(state, { active: down() }, p, at(1898), at(1898).toISOString()).next).toMatchObject({ consecutive_failures: 2, last_cycle_id: at(999).toISOString() });
    // With a 30 s interval the tolerance stays 100 ms.
    const slow = { ...p, check_interval_seconds: 30 };
    const first = evaluateCheck(base(), { active: down() }, slow, at(0), at(0).toISOString()).next;
    expect(evaluateCheck(first, { active: down() }, slow, at(29_900), at(29_900).toISOString()).next.consecutive_failures).toBe(2);
    expect(evaluateCheck(first, { active: down() }, slow, at(29_899), at(29_899).toISOString()).next.consecutive_failures).toBe(1);
  });

  test("N = 1 fails over at the first unhealthy check", () => {
    expect(run([false], { ...policy, failure_threshold: 1 }).recommendations).toEqual(["failover"]);
  });

  test("no recommendation while cooling down or paused, but the check is recorded", () => {
    const cooling = { ...base(), lock_until_utc: later(1000).toISOString() };
    const c = run([false, false, false], policy, cooling);
    expect(c.recommendations).toEqual(["none", "none", "none"]);
    expect(c.state).toMatchObject({ consecutive_failures: 3, last_status: "UNHEALTHY" });
    const paused = run([false, false, false], policy, { ...base(), paused: true });
    expect(paused.recommendations).toEqual(["none", "none", "none"]);
    expect(paused.state.last_check_utc).toBe(later(60).toISOString());
  });
});

describe("failback", () => {
  const onSecondary = (): FailoverState => ({ ...base(), active_target: "secondary", failover_count: 1 });
  const cycle = (state: FailoverState, primaryHealthy: boolean, p: Policy, at: Date) =>
    evaluateCheck(state, { active: ok("http://s/health"), standby: primaryHealthy ? ok() : down() }, p, at, at.toISOString());

  test("manual (default): the secondary stays active however long the primary is healthy", () => {
    let state = onSecondary();
    for (let i = 0; i < 20; i++) {
      const outcome = cycle(state, true, policy, later(i * 30));
      expect(outcome.recommendation).toBe("none");
      state = outcome.next;
    }
    expect(state).toMatchObject({ primary_healthy: true, failback_successes: 20 });
  });

  test("automatic: back after M consecutive healthy primary checks; an unhealthy one resets", () => {
    const p: Policy = { ...policy, failback_mode: "automatic", recovery_threshold: 3 };
    let state = onSecondary();
    const seen: string[] = [];
    [true, true, false, true, true, true].forEach((primaryHealthy, i) => {
      const outcome = cycle(state, primaryHealthy, p, later(i * 30));
      seen.push(outcome.recommendation);
      state = outcome.next;
    });
    expect(seen).toEqual(["none", "none", "none", "none", "none", "failback"]);
  });

  test("a failback hold: no automatic failback while it stands, a failover away from a failing side still happens, it expires by itself with an audit entry", () => {
    const p: Policy = { ...policy, failback_mode: "automatic", recovery_threshold: 1 };
    const { next: held, transition } = decideHold(onSecondary(), { until: later(100), reason: "replica resync", owner: "alice" }, NOW);
    expect(transition).toMatchObject({ kind: "hold", actor: "alice", reason: `replica resync (until ${later(100).toISOString()})` });
    expect(held).toMatchObject({ hold_until_utc: later(100).toISOString(), hold_owner: "alice", hold_reason: "replica resync" });
    // The primary is healthy: without the hold this check would fail back.
    expect(cycle(onSecondary(), true, p, later(30)).recommendation).toBe("failback");
    expect(cycle(held, true, p, later(30))).toMatchObject({ recommendation: "none", reason: `held (by alice until ${later(100).toISOString()})` });
    // The secondary failing is not a failback: the hold never keeps traffic on a dead side.
    const failing = { ...held, consecutive_failures: policy.failure_threshold - 1 };
    expect(evaluateCheck(failing, { active: down("http://s/health"), standby: ok() }, p, later(30), "c-fail").recommendation).toBe("failover");
    // Expired: released by the check itself, audited, and the failback follows in the same check.
    const after = cycle(held, true, p, later(100));
    expect(after.transitions).toEqual([expect.objectContaining({ kind: "hold_released", actor: "system", reason: `hold by alice expired at ${later(100).toISOString()}` })]);
    expect(after.next.hold_until_utc).toBeUndefined();
    expect(after.recommendation).toBe("failback");
  });

  test("a failback hold refuses the automatic failback, not a manual one; release ends it, a repeat changes nothing", () => {
    const { next: held } = decideHold(onSecondary(), { until: later(100), reason: "r", owner: "alice" }, NOW);
    const failback: SwitchRequest = { kind: "failback", expected_from: "secondary", force: false, automatic: true, reason: "recovered", actor: "orchestrator" };
    expect(decideSwitch(held, failback, ok(), policy, later(10))).toMatchObject({ changed: false, reason: "held" });
    expect(decideSwitch(held, { ...failback, automatic: false }, ok(), policy, later(10)).changed).toBe(true);
    expect(decideSwitch(held, failback, ok(), policy, later(100)).changed).toBe(true);
    expect(decideHold(held, { until: later(100), reason: "r", owner: "alice" }, later(5)).transition).toBeUndefined();
    const released = decideRelease(held, { reason: "resynced", actor: "bob" }, later(5));
    expect(released.transition).toMatchObject({ kind: "hold_released", actor: "bob", reason: "resynced" });
    expect(released.next.hold_owner).toBeUndefined();
    expect(decideRelease(released.next, { reason: "again", actor: "bob" }, later(6)).transition).toBeUndefined();
  });

  test("a hold must end in the future and within 72 hours (a minute over is cut to 72 hours)", () => {
    expect(holdEnd(NOW, NOW)).toEqual({ problem: expect.stringMatching(/is not in the future/) });
    expect(holdEnd(later(MAX_HOLD_SECONDS + HOLD_CLOCK_GRACE_SECONDS + 1), NOW)).toEqual({ problem: expect.stringMatching(/more than 72 hours away/) });
    expect(holdEnd(later(MAX_HOLD_SECONDS), NOW)).toEqual({ until: later(MAX_HOLD_SECONDS) });
    // A caller's clock a little ahead: --for 72h is cut to 72 hours, not refused.
    expect(holdEnd(later(MAX_HOLD_SECONDS + 30), NOW)).toEqual({ until: later(MAX_HOLD_SECONDS) });
  });

  test("automatic failback waits for the cooldown", () => {
    const p: Policy = { ...policy, failback_mode: "automatic", recovery_threshold: 1 };
    const state = { ...onSecondary(), lock_until_utc: later(45).toISOString() };
    expect(cycle(state, true, p, later(30))).toMatchObject({ recommendation: "none", reason: "cooldown_active" });
    expect(cycle(state, true, p, later(45)).recommendation).toBe("failback");
  });
});

describe("the standby, checked every cycle", () => {
  const standbyDown = (): ProbeResult => ({ ...down("http://s/health"), error_class: "refused", error: "connection refused" });
  /** Cycles 30 s apart with a healthy active primary and the given standby results (undefined: not probed). */
  const cycles = (standby: (boolean | undefined)[], p: Policy = policy, start: FailoverState = base()) => {
    let state = start;
    const kinds: string[][] = [];
    standby.forEach((healthy, i) => {
      const probes = { active: ok(), ...(healthy === undefined ? {} : { standby: healthy ? ok("http://s/health") : standbyDown() }) };
      const outcome = evaluateCheck(state, probes, p, later(i * 30), later(i * 30).toISOString());
      state = outcome.next;
      kinds.push(outcome.transitions.map((t) => t.kind));
    });
    return { state, kinds };
  };

  test("its streak counts counted checks; at failure_threshold one standby_down transition, named and kept on the row; the active side is untouched", () => {
    const { state, kinds } = cycles([false, false, false, false]);
    expect(kinds).toEqual([[], [], ["standby_down"], []]);
    expect(state).toMatchObject({ standby_consecutive_failures: 4, standby_unhealthy_since_utc: NOW.toISOString(), secondary_healthy: false, standby_checked_utc: later(90).toISOString() });
    expect(state).toMatchObject({ active_target: "primary", last_status: "OK", consecutive_failures: 0 });
    expect(state.recent_transitions[0]).toMatchObject({ kind: "standby_down", from: "primary", to: "primary", actor: "system" });
    expect(state.recent_transitions[0].reason).toContain("failed 3 consecutive checks (refused: connection refused)");
  });

  test("the first healthy check after it was reported down is standby_recovered; a streak below the threshold ends silently", () => {
    expect(cycles([false, false, false, true]).kinds).toEqual([[], [], ["standby_down"], ["standby_recovered"]]);
    const short = cycles([false, false, true, false]);
    expect(short.kinds).toEqual([[], [], [], []]);
    expect(short.state).toMatchObject({ standby_consecutive_failures: 1, standby_unhealthy_since_utc: later(90).toISOString() });
  });

  test("a check that did not probe it, or a repeat of the same cycle, moves nothing; the health still shows", () => {
    const { state } = cycles([false, undefined, false]);
    expect(state.standby_consecutive_failures).toBe(2);
    const repeat = evaluateCheck(state, { active: ok(), standby: standbyDown() }, policy, later(61), later(60).toISOString());
    expect(repeat.next.standby_consecutive_failures).toBe(2);
    const healthyRepeat = evaluateCheck(state, { active: ok(), standby: ok("http://s/health") }, policy, later(61), later(60).toISOString());
    expect(healthyRepeat.next).toMatchObject({ standby_consecutive_failures: 2, secondary_healthy: true });
  });

  test("a switch hands the old active side's failure streak to it as the standby: no second 'down' for the side a failover left, and its recovery is reported", () => {
    const healthyActive = decideSwitch(
      cycles([false, false]).state,
      { kind: "failover", expected_from: "primary", force: true, automatic: false, reason: "r", actor: "o" },
      undefined,
      policy,
      later(90),
    );
    expect(healthyActive.changed && healthyActive.next).toMatchObject({ standby_consecutive_failures: 0, active_target: "secondary" });
    expect(healthyActive.changed && healthyActive.next.standby_unhealthy_since_utc).toBeUndefined();

    const failing = run([false, false, false]).state;
    const failedOver = decideSwitch(failing, { kind: "failover", expected_from: "primary", force: false, automatic: true, reason: "r", actor: "o" }, ok("http://s/health"), policy, later(90));
    if (!failedOver.changed) throw new Error("expected a switch");
    expect(failedOver.next).toMatchObject({ standby_consecutive_failures: 3, standby_unhealthy_since_utc: NOW.toISOString() });
    let state = failedOver.next;
    const kinds: string[] = [];
    for (const [i, primaryUp] of [false, false, true].entries()) {
      const outcome = evaluateCheck(state, { active: ok("http://s/health"), standby: primaryUp ? ok() : down() }, policy, later(120 + i * 30), later(120 + i * 30).toISOString());
      kinds.push(...outcome.transitions.map((t) => t.kind));
      state = outcome.next;
    }
    expect(kinds).toEqual(["standby_recovered"]);
    expect(state.recent_transitions[0].reason).toBe("the standby (primary) answered healthy after 5 failed checks");
  });

  test("due every standby_check_every intervals since its last probe (a timer a few ms early still counts), never at 0, always while the secondary is active", () => {
    const checked = { ...base(), standby_checked_utc: NOW.toISOString() };
    expect(standbyCheckDue(base(), policy, NOW)).toBe(true);
    expect(standbyCheckDue(checked, policy, later(29.99))).toBe(true);
    expect(standbyCheckDue(checked, policy, later(20))).toBe(false);
    const everyThird: Policy = { ...policy, standby_check_every: 3 };
    expect(standbyCheckDue(checked, everyThird, later(60))).toBe(false);
    expect(standbyCheckDue(checked, everyThird, later(90))).toBe(true);
    expect(standbyCheckDue(checked, { ...policy, standby_check_every: 0 }, later(3600))).toBe(false);
    expect(standbyCheckDue({ ...checked, active_target: "secondary" }, { ...policy, standby_check_every: 0 }, later(1))).toBe(true);
  });
});

describe("decision modes", () => {
  const approval: Policy = { ...policy, failure_threshold: 2, decision_mode: "approval", approval_timeout_seconds: 120, approval_timeout_action: "abandon" };
  /** One counted check of the primary at `s` seconds; the standby healthy. */
  const check = (state: FailoverState, healthy: boolean, s: number, p: Policy = approval) =>
    evaluateCheck(state, { active: healthy ? ok() : down(), standby: ok("http://s/health") }, p, later(s), later(s).toISOString());
  /** Two failed checks: the policy wants a failover; in approval mode it is proposed. */
  const proposed = (p: Policy = approval) => check(check(base(), false, 0, p).next, false, 30, p);

  test("approval: the failover is proposed once, with what was seen, and waits; approved, the next check recommends it naming the approver", () => {
    const first = proposed();
    expect(first.recommendation).toBe("none");
    expect(first.reason).toBe(`awaiting approval until ${later(150).toISOString()}`);
    expect(first.transitions).toEqual([expect.objectContaining({ kind: "approval_requested", from: "primary", to: "secondary", actor: "system" })]);
    expect(first.transitions[0].reason).toMatch(/^2 consecutive failed checks of the primary \(threshold 2\); the standby \(secondary\) healthy at .*; approve or reject by .* \(then: abandon\)$/);
    expect(first.next).toMatchObject({ proposal_state: "pending", proposal_kind: "failover", proposal_from: "primary", proposal_expires_utc: later(150).toISOString() });
    // Still down: the same proposal waits, no new transition.
    const waiting = check(first.next, false, 60);
    expect(waiting).toMatchObject({ recommendation: "none", transitions: [] });
    expect(waiting.next.proposal_id).toBe(first.next.proposal_id);
    const decided = decideApproval(waiting.next, { proposal_id: first.next.proposal_id!, approve: true, reason: "confirmed with the DBA", actor: "alice" }, later(70));
    if ("problem" in decided) throw new Error(decided.problem);
    expect(decided.transition).toMatchObject({ kind: "approval_granted", actor: "alice", reason: expect.stringMatching(/^confirmed with the DBA \(failover primary -> secondary proposed at /) });
    const approved = check(decided.next, false, 90);
    expect(approved.recommendation).toBe("failover");
    expect(approved.reason).toMatch(new RegExp(`^approved by alice at ${later(70).toISOString()}: 4 consecutive failed checks`));
    // The switch clears the proposal.
    const switched = decideSwitch(
      approved.next,
      { kind: "failover", expected_from: "primary", force: false, automatic: true, reason: approved.reason, actor: "orchestrator" },
      ok("http://s/health"),
      approval,
      later(91),
    );
    expect(switched.changed).toBe(true);
    expect(Object.keys(switched.next!).filter((k) => k.startsWith("proposal_"))).toEqual([]);
  });

  test("approval: rejected, no switch and no new proposal until the condition clears; a recovery withdraws a waiting proposal with an audit entry", () => {
    const first = proposed();
    const rejected = decideApproval(first.next, { proposal_id: first.next.proposal_id!, approve: false, reason: "known blip", actor: "bob" }, later(40));
    if ("problem" in rejected) throw new Error(rejected.problem);
    expect(rejected.transition).toMatchObject({ kind: "approval_rejected", actor: "bob" });
    const still = check(rejected.next, false, 60);
    expect(still).toMatchObject({ recommendation: "none", transitions: [], reason: `rejected by bob at ${later(40).toISOString()}: no automatic failover until the condition clears` });
    // The primary recovers: a rejected proposal is cleared quietly; the next incident is proposed anew.
    const recovered = check(still.next, true, 90);
    expect(recovered.transitions).toEqual([]);
    expect(recovered.next.proposal_state).toBeUndefined();
    const again = check(check(recovered.next, false, 120).next, false, 150);
    expect(again.transitions).toEqual([expect.objectContaining({ kind: "approval_requested" })]);
    // A waiting proposal whose primary recovers goes stale, audited.
    const stale = check(again.next, true, 180);
    expect(stale.transitions).toEqual([expect.objectContaining({ kind: "proposal_stale", reason: expect.stringMatching(/is withdrawn: the condition cleared \(healthy\)$/) })]);
    expect(stale.next.proposal_state).toBeUndefined();
    expect(stale.recommendation).toBe("none");
  });

  test("approval timed out: abandon records approval_expired and waits for the condition to clear; proceed switches, saying nobody answered", () => {
    const first = proposed();
    const before = check(first.next, false, 149);
    expect(before.recommendation).toBe("none");
    const abandoned = check(before.next, false, 150);
    expect(abandoned.recommendation).toBe("none");
    expect(abandoned.transitions).toEqual([expect.objectContaining({ kind: "approval_expired", actor: "system" })]);
    expect(abandoned.next.proposal_state).toBe("expired");
    expect(check(abandoned.next, false, 180)).toMatchObject({ recommendation: "none", transitions: [] });
    // A late approval of the abandoned proposal still counts while the primary is down.
    const late = decideApproval(abandoned.next, { proposal_id: first.next.proposal_id!, approve: true, reason: "on call now", actor: "carol" }, later(200));
    if ("problem" in late) throw new Error(late.problem);
    expect(check(late.next, false, 210).recommendation).toBe("failover");

    const proceed: Policy = { ...approval, approval_timeout_action: "proceed" };
    const waiting = proposed(proceed);
    const timedOut = check(waiting.next, false, 150, proceed);
    expect(timedOut.recommendation).toBe("failover");
    expect(timedOut.reason).toMatch(new RegExp(`^no answer by ${later(150).toISOString()}, proceeding \\(approval_timeout_action proceed\\): `));
  });

  test("approve and reject name the proposal: another one, none, or a notify_only recommendation is the problem; a repeat changes nothing", () => {
    const first = proposed();
    expect(decideApproval(base(), { proposal_id: "x", approve: true, reason: "", actor: "a" }, NOW)).toEqual({ problem: "no switch is proposed for this group" });
    expect(decideApproval(first.next, { proposal_id: "failover-old", approve: true, reason: "", actor: "a" }, NOW)).toEqual({
      problem: `proposal failover-old is not the group's proposal (${first.next.proposal_id}, pending)`,
    });
    const approved = decideApproval(first.next, { proposal_id: first.next.proposal_id!, approve: true, reason: "", actor: "a" }, NOW);
    if ("problem" in approved) throw new Error(approved.problem);
    expect(decideApproval(approved.next, { proposal_id: first.next.proposal_id!, approve: true, reason: "", actor: "a" }, NOW)).toEqual({ next: approved.next });
    const notify = proposed({ ...approval, decision_mode: "notify_only" });
    expect(notify.transitions).toEqual([expect.objectContaining({ kind: "switch_recommended" })]);
    expect(notify.next.proposal_state).toBe("notified");
    expect(check(notify.next, false, 60, { ...approval, decision_mode: "notify_only" })).toMatchObject({
      recommendation: "none",
      transitions: [],
      reason: "notify_only: switch recommended, not made",
    });
    expect(decideApproval(notify.next, { proposal_id: notify.next.proposal_id!, approve: true, reason: "", actor: "a" }, NOW)).toEqual({ problem: expect.stringMatching(/notify_only/) });
  });

  test("an approval is acted on only while the probe still agrees: an early (uncounted) check that finds the primary healthy waits for the next counted one", () => {
    const first = proposed();
    const decided = decideApproval(first.next, { proposal_id: first.next.proposal_id!, approve: true, reason: "", actor: "alice" }, later(40));
    if ("problem" in decided) throw new Error(decided.problem);
    // The wake event's cycle, 5 s after the last counted one: not counted, its probe healthy.
    const early = evaluateCheck(decided.next, { active: ok(), standby: ok("http://s/health") }, approval, later(35), later(35).toISOString());
    expect(early).toMatchObject({ recommendation: "none", reason: "the latest probe does not confirm the failover: waiting for the next counted check" });
    // The same early cycle with the primary still down switches.
    expect(evaluateCheck(decided.next, { active: down(), standby: ok("http://s/health") }, approval, later(35), later(35).toISOString()).recommendation).toBe("failover");
  });

  test("the switch itself checks the row's proposal: a reject written after the check that recommended it still refuses it; automatic mode needs none", () => {
    const first = proposed();
    const decided = decideApproval(first.next, { proposal_id: first.next.proposal_id!, approve: true, reason: "", actor: "alice" }, later(40));
    if ("problem" in decided) throw new Error(decided.problem);
    const request = { kind: "failover", expected_from: "primary", force: false, automatic: true, reason: "approved", actor: "orchestrator" } as const;
    const rejected = decideApproval(decided.next, { proposal_id: first.next.proposal_id!, approve: false, reason: "changed my mind", actor: "bob" }, later(41));
    if ("problem" in rejected) throw new Error(rejected.problem);
    expect(decideSwitch(rejected.next, request, ok("http://s/health"), approval, later(42))).toMatchObject({ changed: false, reason: "not_approved" });
    expect(decideSwitch(decided.next, request, ok("http://s/health"), approval, later(42)).changed).toBe(true);
    expect(decideSwitch(base(), request, ok("http://s/health"), approval, later(42))).toMatchObject({ changed: false, reason: "not_approved" });
    expect(decideSwitch(base(), request, ok("http://s/health"), { ...approval, decision_mode: "automatic" }, later(42)).changed).toBe(true);
    // A manual switch is the operator's own decision.
    expect(decideSwitch(base(), { ...request, automatic: false }, ok("http://s/health"), approval, later(42)).changed).toBe(true);
  });

  test("the mode changed during an incident: a proposal of the other mode is replaced (a waiting one withdrawn, audited), never acted on", () => {
    const notify: Policy = { ...approval, decision_mode: "notify_only" };
    const recommended = proposed(notify);
    const now = check(recommended.next, false, 60);
    expect(now.next).toMatchObject({ proposal_state: "pending" });
    expect(now.next.proposal_id).not.toBe(recommended.next.proposal_id);
    expect(now.transitions).toEqual([expect.objectContaining({ kind: "approval_requested" })]);
    const pending = proposed();
    const approved = decideApproval(pending.next, { proposal_id: pending.next.proposal_id!, approve: true, reason: "", actor: "alice" }, later(40));
    if ("problem" in approved) throw new Error(approved.problem);
    const toNotify = check(approved.next, false, 60, notify);
    expect(toNotify.recommendation).toBe("none");
    expect(toNotify.next.proposal_state).toBe("notified");
    expect(toNotify.transitions.map((t) => t.kind)).toEqual(["proposal_stale", "switch_recommended"]);
    expect(toNotify.transitions[0].reason).toMatch(/\(approved\) is withdrawn: replaced by a new proposal$/);
  });

  test("a proposal never bypasses the gates: paused or in cooldown, nothing is proposed", () => {
    const paused = check(check({ ...base(), paused: true }, false, 0).next, false, 30);
    expect(paused).toMatchObject({ recommendation: "none", reason: "paused" });
    expect(paused.next.proposal_state).toBeUndefined();
    const cooling = check(check({ ...base(), lock_until_utc: later(1000).toISOString() }, false, 0).next, false, 30);
    expect(cooling).toMatchObject({ recommendation: "none", reason: "cooldown_active" });
    expect(cooling.next.proposal_state).toBeUndefined();
  });
});

describe("switch decisions", () => {
  const request = (overrides: Partial<SwitchRequest> = {}): SwitchRequest => ({
    kind: "failover",
    expected_from: "primary",
    force: false,
    automatic: true,
    reason: "threshold",
    actor: "orchestrator",
    ...overrides,
  });

  test("standby verification: an unhealthy standby blocks the switch and records FAILOVER_BLOCKED once", () => {
    const first = decideSwitch(base(), request(), down("http://s/health"), policy, NOW);
    expect(first).toMatchObject({ changed: false, reason: "standby_unhealthy", next: { last_status: "FAILOVER_BLOCKED", active_target: "primary", secondary_healthy: false } });
    expect(first.transition).toMatchObject({ kind: "failover_blocked", from: "primary", to: "secondary" });
    const second = decideSwitch(first.next!, request(), down("http://s/health"), policy, later(30));
    expect(second.changed).toBe(false);
    expect(second.transition).toBeUndefined(); // still blocked: not a new transition
  });

  test("force switches without verifying the standby and through the cooldown, recorded as forced", () => {
    const cooling = { ...base(), lock_until_utc: later(100).toISOString() };
    expect(decideSwitch(cooling, request({ automatic: false }), ok("http://s/health"), policy, NOW)).toMatchObject({ changed: false, reason: "cooldown_active" });
    const forced = decideSwitch(cooling, request({ force: true, automatic: false, reason: "break glass", actor: "alice" }), undefined, policy, NOW);
    expect(forced).toMatchObject({ changed: true, next: { active_target: "secondary", last_failover_forced: true, failover_count: 1 } });
    expect(forced.transition).toMatchObject({ reason: "forced: break glass", actor: "alice" });
  });

  test("an automatic switch is refused while paused; a manual one is not", () => {
    const paused = { ...base(), paused: true };
    expect(decideSwitch(paused, request(), ok("http://s/health"), policy, NOW)).toMatchObject({ changed: false, reason: "paused" });
    expect(decideSwitch(paused, request({ automatic: false }), ok("http://s/health"), policy, NOW).changed).toBe(true);
  });

  test("the recent transitions summary keeps the last five, newest first", () => {
    let state = base();
    for (let i = 0; i < 7; i++) {
      const outcome = decideSwitch(state, request({ expected_from: state.active_target, reason: `switch ${i}` }), ok(), { ...policy, cooldown_seconds: 0 }, later(i));
      if (!outcome.changed) throw new Error("expected a switch");
      state = outcome.next;
    }
    expect(state.recent_transitions.map((t) => t.reason)).toEqual(["switch 6", "switch 5", "switch 4", "switch 3", "switch 2"]);
    expect(state.failover_count).toBe(7);
  });
});

describe("maintenance", () => {
  test("pause until a time resumes by itself at the first check after it", () => {
    const { next: paused } = decidePause(base(), { until: later(60), reason: "patching", actor: "bob" }, NOW);
    expect(paused).toMatchObject({ paused: true, paused_until_utc: later(60).toISOString(), pause_reason: "patching" });
    expect(evaluateCheck(paused, { active: down() }, policy, later(30), "c1").next.paused).toBe(true);
    const resumed = evaluateCheck(paused, { active: down() }, policy, later(60), "c2");
    expect(resumed.next).toMatchObject({ paused: false });
    expect(resumed.transitions).toEqual([expect.objectContaining({ kind: "resume", actor: "system" })]);
  });

  test("pause and resume are idempotent: a repeat is no transition", () => {
    const { next } = decidePause(base(), { reason: "r", actor: "a" }, NOW);
    expect(decidePause(next, { reason: "r", actor: "a" }, NOW).transition).toBeUndefined();
    expect(decideResume(base(), { reason: "r", actor: "a" }, NOW).transition).toBeUndefined();
    expect(decideResume(next, { reason: "r", actor: "a" }, NOW).transition).toMatchObject({ kind: "resume" });
  });
});
