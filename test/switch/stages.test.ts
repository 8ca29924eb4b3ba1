import { MAX_STEPS, parsePlan, planSteps, stageLayout } from "../../src/core/switch/plan";
import { applyPlan, stageEnd } from "../../src/core/switch/runPlan";
import type { ApplyOutcome, SwitchContext, SwitchStepRunner } from "../../src/core/switch/step";
import { StepError } from "../../src/core/switch/stepErrors";

const ZONE = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Network/dnszones/contoso.com";
const dns = (name: string) => ({ kind: "dns", zone_id: ZONE, record_name: name, record_type: "CNAME", primary_value: "a.example.net", secondary_value: "b.example.net" });
const appConfig = { kind: "app_configuration", endpoint: "https://store.azconfig.io", key: "app:region", primary_value: "east", secondary_value: "west" };
const parse = (plan: unknown) => parsePlan(JSON.stringify(plan), "switch_plan");
const CONTEXT: SwitchContext = { group: "g", failoverCount: 1, from: "primary", to: "secondary" };

/** A runner whose apply is the given function; the rest is never called here. */
function runner(kind: string, apply: () => Promise<ApplyOutcome>): SwitchStepRunner {
  const unused = () => Promise.reject(new Error("not used"));
  return { kind, label: kind, apply, actual: unused, verify: unused, readiness: unused };
}

describe("plans in stages", () => {
  test("stages parse to the steps in order and a layout of stages with their per-step timeouts; steps alone are one stage each", () => {
    const plan = parse({ stages: [{ name: "data tier", steps: [appConfig] }, { name: "traffic", timeout_seconds: 30, steps: [dns("www"), dns("api")] }, { steps: [dns("mail")] }] });
    expect(planSteps(plan).map((s) => (s.kind === "dns" ? s.record_name : s.kind))).toEqual(["app_configuration", "www", "api", "mail"]);
    expect(stageLayout(plan)).toEqual({ stages: [[0], [1, 2], [3]], timeoutsMs: [undefined, 30_000, 30_000, undefined] });
    expect(stageLayout(parse({ steps: [dns("www"), dns("api")] }))).toEqual({ stages: [[0], [1]], timeoutsMs: [undefined, undefined] });
    expect(stageEnd(stageLayout(plan), 1)).toBe(2);
    expect(stageEnd(undefined, 1)).toBe(1);
  });

  test.each([
    [{ steps: [dns("www")], stages: [{ steps: [dns("api")] }] }, "switch_plan: steps: give steps or stages (one of them)"],
    [{}, "switch_plan: steps: give steps or stages (one of them)"],
    [{ stages: [{ steps: [{ ...dns("www"), record_type: "MX" }] }] }, "switch_plan: stage 0 step 0 (dns): record_type: "],
    [{ stages: [{ steps: [dns("www")] }, { steps: [] }] }, "switch_plan: stage 1: steps: a stage needs at least one step"],
    [{ stages: [{ steps: Array.from({ length: 6 }, (_, i) => dns(`a${i}`)) }, { steps: Array.from({ length: 5 }, (_, i) => dns(`b${i}`)) }] }, `at most ${MAX_STEPS} steps in all its stages (got 11)`],
    [{ stages: [{ timeout_seconds: 0, steps: [dns("www")] }] }, "switch_plan: stage 0: timeout_seconds: "],
  ])("a bad plan of stages names the stage and step: %j", (plan, message) => {
    expect(() => parse(plan)).toThrow(message);
  });

  test("the steps of a stage run in parallel: each waits for the other to start, which only works when both run at once", async () => {
    let started = 0;
    let release: () => void = () => undefined;
    const both = new Promise<void>((r) => (release = r));
    const meet = async (): Promise<ApplyOutcome> => {
      if (++started === 2) release();
      await both;
      return { writes: 1, detail: "moved" };
    };
    const order: string[] = [];
    const last = runner("webhook", () => {
      order.push(`last after ${started}`);
      return Promise.resolve({ writes: 1, detail: "sent" });
    });
    const result = await applyPlan([runner("a", meet), runner("b", meet), last], CONTEXT, Date.now, { stages: [[0, 1], [2]], timeoutsMs: [5_000, 5_000, undefined] });
    expect(result.outcome).toBe("applied");
    expect(result.steps.map((s) => [s.step, s.status])).toEqual([
      [0, "changed"],
      [1, "changed"],
      [2, "changed"],
    ]);
    expect(order).toEqual(["last after 2"]);
  });

  test("a failure stops the plan after its stage: the stage's other steps finish, the next stage never starts; a permanent failure is the one reported", async () => {
    const calls: string[] = [];
    const ok = (name: string) =>
      runner(name, () => {
        calls.push(name);
        return Promise.resolve({ writes: 1, detail: "ok" });
      });
    const transient = runner("transient", () => Promise.reject(new StepError("server_error", "503")));
    const forbidden = runner("forbidden", () => Promise.reject(new StepError("forbidden", "403 AuthorizationFailed")));
    const result = await applyPlan([ok("first"), transient, forbidden, ok("parallel"), ok("never")], CONTEXT, Date.now, { stages: [[0], [1, 2, 3], [4]], timeoutsMs: [] });
    expect(result).toMatchObject({ outcome: "failed", failed_step: 2, error_class: "forbidden", permanent: true });
    expect(calls).toEqual(["first", "parallel"]);
    expect(result.steps.map((s) => [s.step, s.status])).toEqual([
      [0, "changed"],
      [1, "failed"],
      [2, "failed"],
      [3, "changed"],
    ]);
  });

  test("a step over its stage's timeout fails with class timeout (retried like any timeout), the others of the stage still done", async () => {
    const hung = runner("hung", () => new Promise<ApplyOutcome>(() => undefined));
    const result = await applyPlan([hung, runner("quick", () => Promise.resolve({ writes: 1, detail: "ok" }))], CONTEXT, Date.now, { stages: [[0, 1]], timeoutsMs: [50, 50] });
    expect(result).toMatchObject({ outcome: "failed", failed_step: 0, error_class: "timeout", permanent: false });
    expect(result.error).toMatch(/did not finish within its stage's timeout_seconds \(0\.05 s\)/);
    expect(result.steps[1]).toMatchObject({ step: 1, status: "changed" });
  });
});
