import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { startSampleBackend, type SampleBackend } from "../../src/local/services/sampleBackend";
import { testEnv } from "../helpers/env";
import { call, eventually } from "../../src/local/tools/client";

describe("policy through the orchestration on the local host", () => {
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
    host = await startLocalHost({ env: testEnv({ PRIMARY_ENDPOINT: primary.url, SECONDARY_ENDPOINT: secondary.url, CHECK_INTERVAL_SECONDS: "1", ...settings }), timers: false });
    return (method: string, path: string, body?: unknown) => call(host!.url, method, path, body);
  }

  test("automatic failback: after the cooldown and M healthy checks of the primary, the orchestration switches back", async () => {
    const api = await start({ FAILURE_THRESHOLD: "1", RECOVERY_THRESHOLD: "2", COOLDOWN_SECONDS: "2", FAILBACK_MODE: "automatic" });
    await api("POST", "/api/init");
    await api("POST", "/api/start");
    primary.behave({ kind: "status", status: 500 });
    await eventually("the failover", async () => ((await api("GET", "/api/status")).body?.state?.active_target === "secondary" ? true : undefined));
    // While the secondary is active the primary is probed every cycle and its health shown on the row.
    await eventually("the primary seen down", async () => ((await api("GET", "/api/status")).body?.state?.primary_healthy === false ? true : undefined));
    primary.behave({ kind: "ok" });
    const back = await eventually("the failback", async () => {
      const s = await api("GET", "/api/status");
      return s.body?.state?.active_target === "primary" ? s.body.state : undefined;
    });
    expect(back.failover_count).toBe(2);
    const history = await api("GET", "/api/history");
    expect(history.body.entries.map((e: { kind: string; actor: string }) => `${e.kind}:${e.actor}`)).toEqual(["failback:orchestrator", "standby_recovered:system", "failover:orchestrator"]);
  });

  test("control endpoints: forced failover through the cooldown, then manual failback, each recorded", async () => {
    const api = await start({ COOLDOWN_SECONDS: "600" });
    await api("POST", "/api/init");
    await api("POST", "/api/start");
    expect((await api("POST", "/api/do_failover", { reason: "drill" })).body).toMatchObject({ changed: true, active_target: "secondary" });
    expect((await api("POST", "/api/failback")).body).toMatchObject({ changed: false, reason: "cooldown_active" });
    expect((await api("POST", "/api/failback", { force: true, reason: "drill over" })).body).toMatchObject({ changed: true, forced: true, active_target: "primary" });
    expect((await api("POST", "/api/failback")).body).toMatchObject({ changed: false, reason: "already_on_primary" });
    const history = await api("GET", "/api/history");
    expect(history.body.entries.map((e: { kind: string; forced: boolean }) => `${e.kind}${e.forced ? "!" : ""}`)).toEqual(["failback!", "failover"]);
  });

  test("several groups: init adds a group with its own policy; the watchdog keeps every group's orchestration running", async () => {
    const other = await startSampleBackend("payments-primary");
    try {
      const api = await start({});
      const created = await api("POST", "/api/init", { group: "payments", primary_endpoint: other.url, secondary_endpoint: secondary.url, failure_threshold: 1 });
      expect(created).toMatchObject({ status: 201, body: { group: "payments", created: true } });
      await host!.runTimer("watchdog"); // also creates the default group's row from the settings
      for (const id of ["failover-state", "failover-payments"]) {
        await eventually(`${id} running`, async () => (host!.taskHub.status(id)?.runtimeStatus === "Running" ? true : undefined));
      }
      other.behave({ kind: "status", status: 500 });
      await eventually("payments fails over on its own threshold", async () => {
        const s = await api("GET", "/api/status?group=payments");
        return s.body?.state?.active_target === "secondary" ? true : undefined;
      });
      const state = await api("GET", "/api/status?group=state");
      expect(state.body).toMatchObject({ state: { active_target: "primary", failover_count: 0 }, orchestration: { runtime_status: "Running" } });
      const payments = await api("GET", "/api/status?group=payments");
      expect(payments.body.overrides).toEqual({ failure_threshold: 1 });
    } finally {
      await other.close();
    }
  });
});
