import { groupsTable } from "../../src/cli/format";
import { loadConfig } from "../../src/core/config";
import { groupOverview, loopLiveness, readOverviews, staleAfterSeconds } from "../../src/core/overview";
import { driftView, readinessView, trafficView } from "../../src/core/trafficView";
import { initialState, PARTITION_KEY, type FailoverState } from "../../src/core/state";
import { bootstrappedGroup, testEnv } from "../helpers/env";
import { StateStore } from "../../src/core/storage";
import { createTableClient } from "../../src/core/tableClient";

const policy = loadConfig({ AzureWebJobsStorage: "UseDevelopmentStorage=true", FAILURE_THRESHOLD: "3", RECOVERY_THRESHOLD: "2", CHECK_INTERVAL_SECONDS: "10" }).policy;
const now = new Date("2026-01-01T12:00:00.000Z");
const running = { runtime_status: "Running", custom_status: { checked_at: "2026-01-01T11:59:55.000Z", next_check_utc: "2026-01-01T12:00:05.000Z" } };

function state(fields: Partial<FailoverState>): FailoverState {
  return { ...initialState("http://127.0.0.1:1/p", "http://127.0.0.1:1/s"), ...fields };
}

describe("group overview (pure)", () => {
  test("failures of the active endpoint are shown against the failure threshold, with its last status code and latency", () => {
    const o = groupOverview("g", state({ consecutive_failures: 2, primary_healthy: false, last_status_code: 503, last_latency_ms: 12, last_status: "UNHEALTHY" }), policy, running, now);
    expect(o.endpoints).toEqual([
      { target: "primary", url: "http://127.0.0.1:1/p", active: true, healthy: false, status_code: 503, latency_ms: 12, streak: { kind: "failures", count: 2, threshold: 3 } },
      { target: "secondary", url: "http://127.0.0.1:1/s", active: false },
    ]);
    expect(o).toMatchObject({ active_target: "primary", last_status: "UNHEALTHY", failback_mode: "manual" });
    expect(o.cooldown).toBeUndefined();
    expect(o.pause).toBeUndefined();
  });

  test("after a failover: the cooldown's remaining seconds, and the primary's recovery streak against the threshold only when failback is automatic", () => {
    const after = state({ active_target: "secondary", lock_until_utc: "2026-01-01T12:01:30.000Z", failback_successes: 1, primary_healthy: true });
    expect(groupOverview("g", after, policy, running, now).cooldown).toEqual({ until: "2026-01-01T12:01:30.000Z", remaining_seconds: 90 });
    expect(groupOverview("g", after, policy, running, now).endpoints![0].streak).toEqual({ kind: "recovery", count: 1 });
    expect(groupOverview("g", after, { ...policy, failback_mode: "automatic" }, running, now).endpoints![0].streak).toEqual({ kind: "recovery", count: 1, threshold: 2 });
    expect(groupOverview("g", after, policy, running, new Date("2026-01-01T12:01:30.000Z")).cooldown).toBeUndefined();
  });

  test("right after a switch the row's last status code and latency are the old active endpoint's: not shown on the new one until it is checked", () => {
    const switched = state({
      active_target: "secondary",
      last_status_code: 503,
      last_latency_ms: 4,
      last_check_utc: "2026-01-01T11:59:59.000Z",
      last_failover_utc: "2026-01-01T11:59:59.500Z",
      secondary_healthy: true,
    });
    expect(groupOverview("g", switched, policy, running, now).endpoints![1]).toEqual({
      target: "secondary",
      url: "http://127.0.0.1:1/s",
      active: true,
      healthy: true,
      streak: { kind: "successes", count: 0 },
    });
    const checked = { ...switched, last_status_code: 200, last_check_utc: "2026-01-01T12:00:01.000Z" };
    expect(groupOverview("g", checked, policy, running, now).endpoints![1]).toMatchObject({ status_code: 200, latency_ms: 4 });
  });

  test("a pause shows who paused, why and until when; an expired pause is not shown", () => {
    const paused = state({
      paused: true,
      paused_until_utc: "2026-01-01T13:00:00.000Z",
      pause_reason: "db upgrade",
      recent_transitions: [{ at: "2026-01-01T11:00:00.000Z", kind: "pause", from: "primary", to: "primary", reason: "db upgrade", actor: "alice@contoso.com" }],
    });
    expect(groupOverview("g", paused, policy, running, now).pause).toEqual({ until: "2026-01-01T13:00:00.000Z", reason: "db upgrade", by: "alice@contoso.com", since: "2026-01-01T11:00:00.000Z" });
    expect(groupOverview("g", paused, policy, running, new Date("2026-01-01T13:00:01.000Z")).pause).toBeUndefined();
  });

  test("loop liveness: a recent cycle is live; an old one, a stopped loop or a missing one is stale", () => {
    expect(loopLiveness(running, 10, now)).toEqual({
      runtime_status: "Running",
      last_cycle_utc: "2026-01-01T11:59:55.000Z",
      last_cycle_age_seconds: 5,
      next_check_utc: "2026-01-01T12:00:05.000Z",
      stale: false,
      stale_after_seconds: staleAfterSeconds(10),
    });
    const old = { runtime_status: "Running", custom_status: { checked_at: new Date(now.getTime() - (staleAfterSeconds(10) + 1) * 1000).toISOString() } };
    expect(loopLiveness(old, 10, now).stale).toBe(true);
    expect(loopLiveness({ ...running, runtime_status: "Failed" }, 10, now).stale).toBe(true);
    expect(loopLiveness({}, 10, now)).toMatchObject({ runtime_status: "NotStarted", stale: true });
    expect(loopLiveness({ error: "durable endpoint down" }, 10, now)).toMatchObject({ runtime_status: "Unknown", stale: true, error: "durable endpoint down" });
  });
});

describe("how urgently a group needs an operator (pure): one severity, in the order the console sorts by", () => {
  const sev = (fields: Partial<FailoverState>, loop: Parameters<typeof groupOverview>[3] = running) => {
    const o = groupOverview("g", state(fields), policy, loop, now);
    return [o.severity, o.severity_reason];
  };

  test("each state has its severity and a reason in words; colours and counts follow it", () => {
    expect(sev({})).toEqual(["ok", "ok"]);
    expect(sev({}, { runtime_status: "Failed" })).toEqual(["not_watched", "nothing is checking it: loop Failed"]);
    expect(sev({ last_status: "FAILOVER_BLOCKED", primary_healthy: false })).toEqual(["both_down", "both sides are down: the failover was blocked, the standby is unhealthy too"]);
    expect(sev({ primary_healthy: false, secondary_healthy: false })[0]).toBe("both_down");
    expect(sev({ primary_healthy: false, consecutive_failures: 2 })).toEqual(["active_down", "the active side (primary) is down (2 of 3 failed checks)"]);
    // Vantages that cannot reach the quorum for failure_threshold checks: nothing can fail the group over.
    expect(sev({ last_status: "INCONCLUSIVE", inconclusive_checks: 2 })[0]).toBe("ok");
    expect(sev({ last_status: "INCONCLUSIVE", inconclusive_checks: 3 })).toEqual([
      "no_quorum",
      "too few vantages answer to reach the quorum: 3 checks in a row counted neither way, so no failover can happen",
    ]);
    expect(sev({ active_target: "secondary", switch_state: "held", switch_target: "secondary", switch_plan_generation: "g", switch_error_class: "locked", switch_error: "locked" })[0]).toBe(
      "switch_problem",
    );
    expect(sev({ switch_state: "verified", switch_target: "primary", switch_drift: "step 0: reads both" })[0]).toBe("drift");
    expect(sev({ primary_healthy: false, paused: true })).toEqual(["paused_active_down", "paused while the active side (primary) is down: no automatic failover"]);
    expect(sev({ secondary_healthy: false })).toEqual(["standby_down", "the standby (secondary) is down: a failover would have nowhere to go"]);
    expect(sev({ active_target: "secondary", secondary_healthy: true })).toEqual(["on_secondary", "running on the secondary"]);
    // A blocked failover outranks everything but a loop nobody runs.
    expect(sev({ last_status: "FAILOVER_BLOCKED", primary_healthy: false }, { runtime_status: "Terminated" })[0]).toBe("not_watched");
  });
});

test("each endpoint shows the votes of the last check that judged it; a group judged by the controller alone shows none", () => {
  const votes = [
    { vantage: "controller", healthy: true, latency_ms: 12, status_code: 200 },
    { vantage: "westeurope", region: "westeurope", healthy: false, latency_ms: 5, error_class: "network", error: "partitioned" },
    { vantage: "eastus", region: "eastus", latency_ms: 8000, error_class: "agent_timeout", error: "no answer within 8000 ms" },
  ];
  const o = groupOverview("g", state({ last_votes: votes, standby_votes: votes.slice(0, 2), inconclusive_checks: 1 }), policy, running, now);
  expect(o.inconclusive_checks).toBe(1);
  expect(o.endpoints?.find((e) => e.active)?.votes).toEqual(votes);
  expect(o.endpoints?.find((e) => !e.active)?.votes).toEqual(votes.slice(0, 2));
  expect(groupsTable([o])).toContain("(votes 1/3 down, 1 none)");
  const alone = groupOverview("g", state({}), policy, running, now);
  expect(alone.endpoints?.some((e) => e.votes !== undefined)).toBe(false);
  expect(alone.inconclusive_checks).toBeUndefined();
});

describe("traffic at the active target (pure, from the row's switch saga)", () => {
  const steps = JSON.stringify([
    { step: 1, kind: "traffic_manager", status: "changed", writes: 2, ms: 40, detail: "secondary enabled, primary disabled (2 writes)" },
    { step: 2, kind: "dns", status: "changed", writes: 1, ms: 20, detail: "app-east.example.net -> app-west.example.net" },
  ]);
  const switched = state({
    active_target: "secondary",
    switch_target: "secondary",
    switch_plan_generation: "g1",
    switch_detected_utc: "2026-01-01T11:59:50.000Z",
    switch_intent_utc: "2026-01-01T11:59:51.000Z",
    switch_applied_utc: "2026-01-01T11:59:52.000Z",
    switch_steps: steps,
  });

  test("verified: the time and each step's evidence, in the one summary the console and the CLI show", () => {
    const t = trafficView({ ...switched, switch_state: "verified", switch_verified_utc: "2026-01-01T11:59:53.400Z" }, true);
    expect(t).toMatchObject({
      state: "verified",
      target: "secondary",
      at: "2026-01-01T11:59:53.400Z",
      evidence: ["traffic_manager: secondary enabled, primary disabled (2 writes)", "dns: app-east.example.net -> app-west.example.net"],
      timings: { intent_s: 1, applied_s: 2, verified_s: 3.4 },
    });
    expect(t.summary).toBe("verified 11:59:53Z at secondary — traffic_manager: secondary enabled, primary disabled (2 writes); dns: app-east.example.net -> app-west.example.net");
    // A plan adopted on a world that already matched: verified, and nothing was written.
    expect(trafficView({ ...state({}), switch_state: "verified", switch_target: "primary", switch_verified_utc: "2026-01-01T11:00:00.000Z" }, true).summary).toBe(
      "verified 11:00:00Z at primary — the resources already matched, nothing was written",
    );
  });

  test("failed: the step, the error class, the message, the attempt and the next attempt", () => {
    const t = trafficView(
      {
        ...switched,
        switch_state: "failed",
        switch_failed_step: 2,
        switch_error_class: "forbidden",
        switch_error: "step 2 (dns zone contoso.com): AuthorizationFailed",
        switch_attempts: 3,
        switch_next_attempt_utc: "2026-01-01T12:00:20.000Z",
      },
      true,
    );
    expect(t).toMatchObject({ state: "failed", failed_step: 2, error_class: "forbidden", attempts: 3, next_attempt_utc: "2026-01-01T12:00:20.000Z" });
    expect(t.summary).toBe("FAILED to move traffic to secondary at step 2 (forbidden): step 2 (dns zone contoso.com): AuthorizationFailed; attempt 3, next at 12:00:20Z");
  });

  test("held, undoing and undone: NEEDS AN OPERATOR with the step, the error and what to do; the writes of the switch counted from its ledger", () => {
    const ledger = JSON.stringify({
      writes: [
        { at: "2026-01-01T11:59:52.000Z", step: "traffic_manager tm-app", method: "PATCH", resource: "r", change: "Disabled -> Enabled", result: "locked 409", intent: "1-secondary-x", ms: 12 },
      ],
      omitted: 0,
    });
    const held = {
      ...switched,
      switch_state: "held" as const,
      switch_failed_step: 0,
      switch_error_class: "locked",
      switch_error: "step 0 (traffic_manager tm-app): HTTP 409 ScopeLocked",
      switch_ledger: ledger,
    };
    expect(trafficView(held, true)).toMatchObject({
      state: "held",
      failed_step: 0,
      error_class: "locked",
      writes: 1,
      action: expect.stringContaining("remove the resource lock"),
      summary:
        "NEEDS AN OPERATOR: the switch to secondary is held at step 0 (locked) step 0 (traffic_manager tm-app): HTTP 409 ScopeLocked — remove the resource lock named in the error (az lock list), or ask its owner, then retry the switch",
    });
    expect(trafficView({ ...held, switch_state: "compensating" }, true).summary).toMatch(/^NEEDS AN OPERATOR: undoing the switch to secondary after a permanent error at step 0 /);
    expect(trafficView({ ...held, switch_state: "compensated" }, true).summary).toMatch(
      /^NEEDS AN OPERATOR: the switch to secondary was undone, traffic is back on primary, after a permanent error at step 0 /,
    );
  });

  test("applying, propagating, a row that moved after its switch, a plan not run yet, and no plan at all", () => {
    expect(trafficView({ ...switched, switch_state: "applying", switch_steps: undefined, switch_applied_utc: undefined }, true).summary).toBe("applying to secondary since 11:59:51Z");
    expect(trafficView({ ...switched, switch_state: "applying", switch_error_class: "mismatch", switch_error: "verification: step 1 reads primary" }, true).summary).toBe(
      "applying to secondary since 11:59:51Z (last: mismatch: verification: step 1 reads primary) — traffic_manager: secondary enabled, primary disabled (2 writes); dns: app-east.example.net -> app-west.example.net",
    );
    expect(trafficView({ ...switched, switch_state: "propagating" }, true)).toMatchObject({
      state: "propagating",
      at: "2026-01-01T11:59:52.000Z",
      summary: expect.stringMatching(/^propagating \(applied, waiting for the service to report it done\) to secondary since 11:59:52Z — traffic_manager: /),
    });
    expect(trafficView({ ...switched, switch_state: "propagating", switch_error_class: "verify_error", switch_error: "verification: step 1: HTTP 503" }, true).summary).toMatch(
      /^propagating \(applied, waiting for the service to report it done\) to secondary since 11:59:52Z \(last: verify_error: verification: step 1: HTTP 503\) — /,
    );
    expect(trafficView({ ...switched, active_target: "primary", switch_state: "verified" }, true)).toMatchObject({
      state: "applying",
      summary: "row says primary, traffic last switched to secondary: applying to primary at the next cycle",
    });
    expect(trafficView(state({}), true)).toMatchObject({ state: "not_run" });
    expect(trafficView(state({}), false)).toEqual({ state: "row_only", summary: "no switch plan: row only" });
    expect(groupOverview("g", state({}), policy, running, now).traffic).toEqual({ state: "row_only", summary: "no switch plan: row only" });
    // Unreadable step results are left out, not shown as evidence or an error.
    expect(trafficView({ ...switched, switch_state: "verified", switch_steps: "{not json" }, true).evidence).toBeUndefined();
  });
});

describe("drift and readiness of the switch plan (pure, from the row when it carries them)", () => {
  test("drift since when and what differs; readiness with each problem named; neither on a row without them", () => {
    expect(driftView({ switch_drift: "step 1 (traffic_manager profile tm-app): expected secondary only, reads both", switch_drift_since_utc: "2026-01-01T11:58:00.000Z" })).toEqual({
      detail: "step 1 (traffic_manager profile tm-app): expected secondary only, reads both",
      since: "2026-01-01T11:58:00.000Z",
      summary: "DRIFT since 11:58:00Z: step 1 (traffic_manager profile tm-app): expected secondary only, reads both",
    });
    expect(readinessView({ readiness_ready: true, readiness_problems: [], readiness_checked_utc: "2026-01-01T11:00:00.000Z" })).toMatchObject({ ready: true, summary: "READY (checked 11:00:00Z)" });
    expect(readinessView({ readiness_ready: false, readiness_problems: ["dns zone contoso.com: the app's identity lacks Microsoft.Network/dnszones/CNAME/write", "tm-app: not found"] })?.summary).toBe(
      "NOT READY: dns zone contoso.com: the app's identity lacks Microsoft.Network/dnszones/CNAME/write; tm-app: not found",
    );
    const plain = groupOverview("g", state({}), policy, running, now);
    expect([plain.drift, plain.readiness]).toEqual([undefined, undefined]);
    const both = groupOverview("g", { ...state({}), switch_drift: "step 2 (dns): reads primary", readiness_ready: false, readiness_problems: ["x"] }, policy, running, now);
    expect([both.drift?.detail, both.readiness?.ready]).toEqual(["step 2 (dns): reads primary", false]);
  });
});

describe("reading every group's overview (Azurite)", () => {
  test("lists the groups in order, shows a malformed row as that group's error, and writes nothing", async () => {
    const { deps, table } = await bootstrappedGroup({ PRIMARY_ENDPOINT: "http://127.0.0.1:1/p", SECONDARY_ENDPOINT: "http://127.0.0.1:1/s" });
    await table.createEntity({ partitionKey: PARTITION_KEY, rowKey: "broken", active_target: "tertiary", primary_endpoint: "x", secondary_endpoint: "y", failover_count: 0, last_status: "OK" });
    const before = await Promise.all(["state", "broken"].map((g) => table.getEntity(PARTITION_KEY, g)));
    const overviews = await readOverviews(
      deps.store,
      deps.config.policy,
      async (group) => (group === "state" ? running : {}),
      () => now,
    );
    expect(overviews.map((o) => o.group)).toEqual(["broken", "state"]);
    expect(overviews[0].error).toMatchObject({ code: "malformed_state" });
    expect(overviews[0].error!.message).toMatch(/active_target/);
    expect(overviews[1]).toMatchObject({ active_target: "primary", loop: { runtime_status: "Running", stale: false } });
    const after = await Promise.all(["state", "broken"].map((g) => table.getEntity(PARTITION_KEY, g)));
    expect(after.map((e) => e.etag)).toEqual(before.map((e) => e.etag));
  });

  test("an orchestration status that cannot be read is shown on the loop, not as a failure of the whole read", async () => {
    const { deps } = await bootstrappedGroup({ PRIMARY_ENDPOINT: "http://127.0.0.1:1/p", SECONDARY_ENDPOINT: "http://127.0.0.1:1/s" });
    const [o] = await readOverviews(
      deps.store,
      deps.config.policy,
      async () => Promise.reject(new Error("HTTP 500 from the task hub")),
      () => now,
    );
    expect(o.loop).toMatchObject({ runtime_status: "Unknown", stale: true, error: expect.stringContaining("HTTP 500 from the task hub") });
  });

  test("storage down: a storage_unavailable error naming the table (the SDK retries twice, then gives up)", async () => {
    const env = testEnv({ AzureWebJobsStorage: "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:9/devstoreaccount1;" });
    const config = loadConfig(env);
    const store = new StateStore(createTableClient(config.storage, config.tableName));
    await expect(
      readOverviews(
        store,
        config.policy,
        async () => ({}),
        () => now,
      ),
    ).rejects.toMatchObject({ code: "storage_unavailable", message: expect.stringContaining(config.tableName) });
  });
});
