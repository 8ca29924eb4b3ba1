import { call, eventually } from "../../src/local/tools/client";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { startSampleBackend, type SampleBackend } from "../../src/local/services/sampleBackend";
import { testEnv } from "../helpers/env";

/**
 * The key scenarios with the local host in chaos mode: every other activity delivered twice,
 * timers late, wake events raised during continueAsNew. The outcomes are the quiet run's:
 * one switch per decision, counters counted once per cycle, audit entries once.
 */
describe("key scenarios in chaos mode", () => {
  let primary: SampleBackend;
  let secondary: SampleBackend;
  let host: LocalHost | undefined;
  beforeEach(async () => {
    primary = await startSampleBackend("primary");
    secondary = await startSampleBackend("secondary");
  });
  afterEach(async () => {
    await host?.stop();
    await primary.close();
    await secondary.close();
  });

  async function start(settings: Record<string, string>) {
    host = await startLocalHost({
      env: testEnv({ PRIMARY_ENDPOINT: primary.url, SECONDARY_ENDPOINT: secondary.url, CHECK_INTERVAL_SECONDS: "1", ...settings }),
      timers: false,
      chaos: { seed: 11, duplicateActivities: 0.5, lateTimersMs: 300, eventOnContinueAsNew: { name: "wake", probability: 0.3 } },
    });
    const api = (method: string, path: string, body?: unknown) => call(host!.url, method, path, body);
    await api("POST", "/api/init");
    await api("POST", "/api/start");
    return api;
  }
  const entries = async (api: Awaited<ReturnType<typeof start>>) =>
    ((await api("GET", "/api/history?limit=20")).body.entries as { kind: string }[]).map((e) => e.kind).filter((k) => k !== "pause" && k !== "resume");

  test("healthy loop: each cycle's check counted once although delivered twice", async () => {
    const api = await start({});
    const state = await eventually("four cycles", async () => {
      const s = (await api("GET", "/api/status")).body?.state;
      return s?.consecutive_successes >= 4 ? s : undefined;
    });
    expect(state).toMatchObject({ active_target: "primary", failover_count: 0, last_status: "OK" });
    expect(state.consecutive_successes).toBeLessThanOrEqual(host!.taskHub.stats("failover-state")!.executions);
    expect(host!.taskHub.chaosCounters.duplicateActivities).toBeGreaterThan(0);
  });

  test("failover then cooldown: one switch, one audit entry", async () => {
    const api = await start({ FAILURE_THRESHOLD: "2", COOLDOWN_SECONDS: "600" });
    primary.behave({ kind: "status", status: 503 });
    await eventually("the failover", async () => ((await api("GET", "/api/status")).body?.state?.active_target === "secondary" ? true : undefined));
    expect((await api("POST", "/api/do_failover")).body).toMatchObject({ changed: false, reason: "cooldown_active" });
    await new Promise((r) => setTimeout(r, 2500)); // more cycles, more duplicates
    expect((await api("GET", "/api/status")).body.state).toMatchObject({ active_target: "secondary", failover_count: 1 });
    expect(await entries(api)).toEqual(["failover"]);
  });

  test("automatic failback: exactly one failover and one failback", async () => {
    const api = await start({ FAILURE_THRESHOLD: "1", RECOVERY_THRESHOLD: "2", COOLDOWN_SECONDS: "2", FAILBACK_MODE: "automatic" });
    primary.behave({ kind: "status", status: 500 });
    await eventually("the failover", async () => ((await api("GET", "/api/status")).body?.state?.active_target === "secondary" ? true : undefined));
    primary.behave({ kind: "ok" });
    const back = await eventually("the failback", async () => {
      const s = (await api("GET", "/api/status")).body?.state;
      return s?.active_target === "primary" ? s : undefined;
    });
    expect(back.failover_count).toBe(2);
    // The primary's recovery, as the standby, is reported before the failback it allows.
    expect(await entries(api)).toEqual(["failback", "standby_recovered", "failover"]);
  });

  test("pause wakes the loop at once; the loop keeps running", async () => {
    const api = await start({ CHECK_INTERVAL_SECONDS: "3600" });
    await eventually("the first cycle", async () => ((await api("GET", "/api/status")).body?.state?.consecutive_successes >= 1 ? true : undefined));
    const before = host!.taskHub.stats("failover-state")!.executions;
    expect((await api("POST", "/api/pause", { reason: "drill" })).body).toMatchObject({ changed: true, paused: true });
    await eventually("a woken cycle", async () => (host!.taskHub.stats("failover-state")!.executions > before ? true : undefined), 5000);
    expect((await api("GET", "/api/status")).body).toMatchObject({ state: { paused: true }, orchestration: { runtime_status: "Running" } });
  });
});
