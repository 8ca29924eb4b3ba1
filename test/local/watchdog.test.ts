import { call, eventually } from "../../src/local/tools/client";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { startSampleBackend, type SampleBackend } from "../../src/local/services/sampleBackend";
import { testEnv } from "../helpers/env";

/** The watchdog against the local host's instance store, through the real Durable client (finding 3: a Suspended loop). */
describe("the watchdog and a Suspended loop", () => {
  let primary: SampleBackend;
  let secondary: SampleBackend;
  let host: LocalHost;
  let messages: string[];

  beforeEach(async () => {
    primary = await startSampleBackend("primary");
    secondary = await startSampleBackend("secondary");
    messages = [];
    const env = testEnv({ PRIMARY_ENDPOINT: primary.url, SECONDARY_ENDPOINT: secondary.url, CHECK_INTERVAL_SECONDS: "1", FAILURE_THRESHOLD: "2" });
    host = await startLocalHost({ env, timers: false, log: (m) => messages.push(m) });
  });
  afterEach(async () => {
    await host.stop();
    await primary.close();
    await secondary.close();
  });

  const api = (method: string, path: string, body?: unknown) => call(host.url, method, path, body);
  const durable = (verb: string) => call(host.url, "POST", `/runtime/webhooks/durabletask/instances/failover-state/${verb}?reason=test&code=local`);
  const executions = () => host.taskHub.stats("failover-state")?.executions ?? 0;

  test("suspended through the Durable HTTP API, the loop checks nothing; the watchdog resumes it, writes an audit entry and logs an error naming the group", async () => {
    await api("POST", "/api/init");
    await api("POST", "/api/start");
    await eventually("two cycles", async () => (executions() >= 2 ? true : undefined));

    expect(await durable("suspend")).toMatchObject({ status: 202 });
    await host.taskHub.idle();
    const frozen = executions();
    const suspended = await api("GET", "/api/status");
    expect(suspended.body.orchestration).toMatchObject({ runtime_status: "Suspended" });
    // While suspended, a broken primary is not even noticed: timers fire into the inbox and wait.
    primary.behave({ kind: "status", status: 503 });
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(executions()).toBe(frozen);
    expect((await api("GET", "/api/status")).body.state).toMatchObject({ active_target: "primary" });

    await host.runTimer("watchdog");
    expect(host.taskHub.status("failover-state")?.runtimeStatus).toBe("Running");
    expect(host.taskHub.stats("failover-state")).toMatchObject({ starts: 1 }); // resumed, not restarted
    expect(messages.filter((m) => m.startsWith("[watchdog] error:")).join("\n")).toMatch(/watchdog found the loop of group "state" \(failover-state\) Suspended, so no checks ran; it resumed it/);
    const history = await api("GET", "/api/history?limit=5");
    expect(history.body.entries[0]).toMatchObject({ kind: "loop_resumed", actor: "watchdog", from: "primary", to: "primary", reason: expect.stringMatching(/^the orchestration was Suspended/) });

    // The loop goes on from where it stopped and fails over.
    await eventually("the failover after the resume", async () => ((await api("GET", "/api/status")).body.state.active_target === "secondary" ? true : undefined));
    // A second run finds it Running: no entry, no log line.
    await host.runTimer("watchdog");
    expect(messages.filter((m) => /Suspended/.test(m))).toHaveLength(1);
  });

  test("the local host's suspend and resume answer as the extension does: 404 for an unknown instance, 410 for an ended one", async () => {
    expect((await call(host.url, "POST", "/runtime/webhooks/durabletask/instances/nobody/suspend?reason=x")).status).toBe(404);
    await api("POST", "/api/init");
    await api("POST", "/api/start");
    await eventually("a cycle", async () => (executions() >= 1 ? true : undefined));
    expect((await durable("resume")).status).toBe(202); // running: nothing to resume
    expect((await durable("terminate")).status).toBe(202);
    expect((await durable("suspend")).status).toBe(410);
    expect((await durable("resume")).status).toBe(410);
  });

  test("a loop stuck in Running (its timer lost) is woken by the watchdog and cycles again; one that a wake does not move is, a watchdog period later, terminated and started again, with an audit entry and an error log line", async () => {
    await api("POST", "/api/init");
    await api("POST", "/api/start");
    await eventually("two cycles", async () => (executions() >= 2 ? true : undefined));
    const running = () => host.taskHub.status("failover-state")?.runtimeStatus;

    // Its timer lost: Running, and nothing happens.
    expect(host.taskHub.stall("failover-state", { events: false })).toBe("accepted");
    const stuckAt = executions();
    await new Promise((resolve) => setTimeout(resolve, 4500)); // more than 3 intervals of 1 s
    expect([executions(), running()]).toEqual([stuckAt, "Running"]);
    await host.runTimer("watchdog");
    expect(messages.join("\n")).toMatch(
      /\[watchdog\] warning: watchdog found the loop of group "state" \(failover-state\) Running but not cycling \(its next check is \d+ s late, more than 3 intervals of 1 s\); it sent a wake event/,
    );
    await eventually("cycles again after the wake", async () => (executions() > stuckAt + 1 ? true : undefined));
    expect(host.taskHub.stats("failover-state")).toMatchObject({ starts: 1 });

    // Stuck so that even the wake is lost: woken first, then, still stuck a period later, restarted.
    host.taskHub.stall("failover-state", { events: true });
    await new Promise((resolve) => setTimeout(resolve, 4500));
    await host.runTimer("watchdog");
    expect(host.taskHub.stats("failover-state")).toMatchObject({ starts: 1 });
    host.taskHub.stall("failover-state", { events: true, backdateSeconds: 300 });
    await host.runTimer("watchdog");
    expect(host.taskHub.stats("failover-state")).toMatchObject({ starts: 2 });
    expect(messages.filter((m) => m.startsWith("[watchdog] error:")).join("\n")).toMatch(
      /watchdog found the loop of group "state" \(failover-state\) still not cycling after a wake \(its next check is \d+ s late, more than 3 intervals of 1 s\); it terminated it and started it again/,
    );
    const restarted = executions();
    await eventually("the new loop cycling", async () => (executions() > restarted ? true : undefined));
    const history = await api("GET", "/api/history?limit=5");
    expect(history.body.entries[0]).toMatchObject({
      kind: "loop_restarted",
      actor: "watchdog",
      reason: expect.stringContaining("a wake event did not help, so the watchdog terminated it and started it again"),
    });
  }, 40_000);
});
