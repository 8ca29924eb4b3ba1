import { detectionTime } from "../../src/core/operations/switchTarget";
import { initialState, type FailoverState } from "../../src/core/state";
import { parsePlan } from "../../src/core/switch/plan";
import type { ApplyResult, VerifyResult } from "../../src/core/switch/runPlan";
import { afterApply, afterDriftCheck, afterVerify, driftCheckDue, dueAction, readinessDue, withIntent, withReadiness } from "../../src/core/switch/saga";

const plan = parsePlan(JSON.stringify({ verify_timeout_seconds: 1200, steps: [{ kind: "webhook", url: "https://hooks.example.net/switch" }] }), "plan");
const T0 = new Date("2026-06-01T12:00:00Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const applied: ApplyResult = { outcome: "applied", ms: 40, steps: [{ step: 0, kind: "front_door", label: "front_door afd/og", status: "changed", writes: 2, ms: 40, detail: "secondary active" }] };
const verify = (status: "verified" | "propagating" | "mismatch" | "error"): VerifyResult => ({
  outcome: status,
  steps: [{ step: 0, kind: "front_door", label: "front_door afd/og", status, detail: `it reads ${status}` }],
});

/** A row failed over to the secondary with the intent written, then applied at T0. */
function appliedRow(): FailoverState {
  const intent = withIntent({ ...initialState("https://p.example/health", "https://s.example/health"), active_target: "secondary", failover_count: 1 }, plan, at(-2), at(-10));
  return afterApply(intent, applied, T0, plan);
}

describe("the switch saga on the row (pure)", () => {
  test("propagating is its own state: later cycles only verify, never apply again", () => {
    const propagating = afterVerify(appliedRow(), verify("propagating"), at(1), plan);
    expect(propagating).toMatchObject({ switch_state: "propagating", switch_applied_utc: T0.toISOString() });
    expect(dueAction(propagating, plan, at(30))).toBe("verify");
    const later = afterVerify(propagating, verify("propagating"), at(600), plan);
    expect(later.switch_state).toBe("propagating");
    expect(dueAction(later, plan, at(630))).toBe("verify");
    const done = afterVerify(later, verify("verified"), at(900), plan);
    expect(done).toMatchObject({ switch_state: "verified", switch_verified_utc: at(900).toISOString(), switch_attempts: 1 });
    expect(dueAction(done, plan, at(930))).toBe("settled");
  });

  test("a read that fails while verifying is retried as a read on the next cycle, not as an apply", () => {
    const row = afterVerify(appliedRow(), verify("error"), at(1), plan);
    expect(row).toMatchObject({ switch_state: "propagating", switch_error_class: "verify_error", switch_error: "verification: step 0 (front_door afd/og): it reads error" });
    expect(dueAction(row, plan, at(2))).toBe("verify");
    expect(afterVerify(row, verify("verified"), at(3), plan)).toMatchObject({ switch_state: "verified", switch_error: undefined, switch_error_class: undefined });
  });

  test("the wait is bounded: past the plan's verify timeout (from the applied time) the switch fails with class timeout and is applied again after a backoff", () => {
    const propagating = afterVerify(appliedRow(), verify("propagating"), at(1), plan);
    expect(afterVerify(propagating, verify("propagating"), at(1199), plan).switch_state).toBe("propagating");
    const timedOut = afterVerify(propagating, verify("propagating"), at(1200), plan);
    expect(timedOut).toMatchObject({ switch_state: "failed", switch_error_class: "timeout", switch_failed_step: 0 });
    expect(timedOut.switch_error).toContain("not verified within 1200 s");
    expect(Date.parse(timedOut.switch_next_attempt_utc!)).toBe(at(1205).getTime());
    expect(dueAction(timedOut, plan, at(1201))).toBe("wait");
    expect(dueAction(timedOut, plan, at(1205))).toBe("apply");
  });

  test("a mismatch fails with class mismatch and waits a backoff before applying again; when adopting a plan it applies at once", () => {
    const mismatch = afterVerify(appliedRow(), verify("mismatch"), at(1), plan);
    expect(mismatch).toMatchObject({ switch_state: "failed", switch_error_class: "mismatch", switch_failed_step: 0 });
    expect(dueAction(mismatch, plan, at(2))).toBe("wait");
    expect(dueAction(mismatch, plan, at(6))).toBe("apply");

    const adopting = { ...initialState("https://p.example/health", "https://s.example/health") };
    expect(dueAction(adopting, plan, T0)).toBe("verify");
    const adopted = afterVerify(withIntent(adopting, plan, T0, T0), verify("mismatch"), T0, plan, true);
    expect(adopted).toMatchObject({ switch_state: "applying", switch_error_class: "mismatch" });
    expect(dueAction(adopted, plan, T0)).toBe("apply");
  });

  test("one detection time: an automatic switch from the first failed check of the streak, a manual or forced one from the request", () => {
    const row = { ...initialState("https://p.example/health", "https://s.example/health"), unhealthy_since_utc: at(-60).toISOString(), last_check_utc: at(-1).toISOString() };
    expect(detectionTime(row, true, T0)).toEqual(at(-60));
    expect(detectionTime({ ...row, unhealthy_since_utc: undefined }, true, T0)).toEqual(at(-1));
    expect(detectionTime(row, false, T0)).toEqual(T0);
  });

  test("the verify timeout is a plan field: 1800 s by default, at least 10 s", () => {
    expect(parsePlan(JSON.stringify({ steps: [{ kind: "webhook", url: "https://hooks.example.net/x" }] }), "plan").verify_timeout_seconds).toBe(1800);
    expect(() => parsePlan(JSON.stringify({ verify_timeout_seconds: 5, steps: [{ kind: "webhook", url: "https://hooks.example.net/x" }] }), "plan")).toThrow(/verify_timeout_seconds: Too small/);
  });

  test("drift: an episode starts once (row written), continues without a write, ends when nothing drifts; reconcile writes an intent to apply again", () => {
    const verified = afterVerify(appliedRow(), verify("verified"), at(1), plan);
    const drift = [{ step: 0, label: "traffic_manager tm-app", expected: "secondary" as const, actual: "both", detail: "primary Enabled, secondary Enabled" }];
    expect(afterDriftCheck(verified, [], "report", plan, at(60))).toBeUndefined();
    const started = afterDriftCheck(verified, drift, "report", plan, at(60))!;
    expect(started).toMatchObject({
      switch_state: "verified",
      switch_drift: "step 0 (traffic_manager tm-app): expected secondary only, reads both (primary Enabled, secondary Enabled)",
      switch_drift_since_utc: at(60).toISOString(),
    });
    expect(afterDriftCheck(started, drift, "report", plan, at(90))).toBeUndefined();
    expect(afterDriftCheck(started, [], "report", plan, at(120))).toMatchObject({ switch_drift: undefined, switch_drift_since_utc: undefined });
    const reconciling = afterDriftCheck(verified, drift, "reconcile", plan, at(60))!;
    expect(reconciling).toMatchObject({ switch_state: "applying", switch_target: "secondary", switch_detected_utc: at(60).toISOString(), switch_drift_since_utc: at(60).toISOString() });
    expect(dueAction(reconciling, plan, at(60))).toBe("apply");
  });

  test("the drift check every Nth cycle (0: never, outside the loop: always); readiness every N minutes (0: never), recorded with its problems capped", () => {
    expect([0, 1, 2, 3, 4].map((c) => driftCheckDue(2, c))).toEqual([true, false, true, false, true]);
    expect([driftCheckDue(1, 7), driftCheckDue(0, 0), driftCheckDue(3, undefined)]).toEqual([true, false, true]);
    const row = appliedRow();
    expect(readinessDue(row, 15, T0)).toBe(true);
    const checked = withReadiness(row, { ready: false, problems: Array.from({ length: 25 }, (_, i) => `problem ${i} ${"x".repeat(i === 0 ? 600 : 1)}`) }, T0);
    expect(checked.readiness_problems).toHaveLength(21);
    expect(checked.readiness_problems![0].length).toBe(500);
    expect(checked.readiness_problems![20]).toBe("... and 5 more");
    expect([readinessDue(checked, 15, at(899)), readinessDue(checked, 15, at(900)), readinessDue(checked, 0, at(9999))]).toEqual([false, true, false]);
  });
});
