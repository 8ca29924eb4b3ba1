import { TableClient } from "@azure/data-tables";
import { PARTITION_KEY } from "../../src/core/state";
import { call, eventually } from "../../src/local/tools/client";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { backendPair } from "../helpers/backends";
import { storageConnectionString, testEnv } from "../helpers/env";

/** Readers never write, and nothing a caller does shortens the hysteresis (findings 1 and 4). */
describe("readers and wake events on the local host", () => {
  const backends = backendPair();
  let host: LocalHost | undefined;
  let logs: string[];
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  async function start(settings: Record<string, string>) {
    logs = [];
    const env = testEnv({ PRIMARY_ENDPOINT: backends.primary.url, SECONDARY_ENDPOINT: backends.secondary.url, COOLDOWN_SECONDS: "600", ...settings });
    const table = TableClient.fromConnectionString(storageConnectionString(), env.FAILOVER_TABLE, { allowInsecureConnection: true });
    host = await startLocalHost({ env, timers: false, log: (m) => logs.push(m) });
    const api = (method: string, path: string, body?: unknown) => call(host!.url, method, path, body);
    await api("POST", "/api/init");
    await api("POST", "/api/start");
    return { api, row: () => table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state") };
  }

  test("50 clients polling health_check and status do not cost the loop a single cycle (finding 1)", async () => {
    const { row } = await start({ CHECK_INTERVAL_SECONDS: "1", FAILURE_THRESHOLD: "2" });
    await eventually("two counted checks", async () => (Number((await row()).consecutive_successes) >= 2 ? true : undefined));
    let polling = true;
    let polls = 0;
    const pollers = Array.from({ length: 50 }, async (_, i) => {
      while (polling) {
        const response = await fetch(`${host!.url}/api/${i % 2 === 0 ? "health_check" : "status"}`);
        await response.arrayBuffer();
        if (response.status !== 200) throw new Error(`poll answered ${response.status}`);
        polls++;
      }
    });
    const before = (await row()).etag;
    // The pollers are at full speed before the break, however slow the machine.
    await eventually("100 polls answered", async () => (polls >= 100 ? true : undefined));
    const executionsAtBreak = host!.taskHub.stats("failover-state")!.executions;
    backends.primary.behave({ kind: "status", status: 503 });
    const switched = await eventually("the failover", async () => {
      const r = await row();
      return r.active_target === "secondary" ? r : undefined;
    });
    const cycles = host!.taskHub.stats("failover-state")!.executions - executionsAtBreak;
    polling = false;
    await Promise.all(pollers);
    expect(before).toBeDefined();
    expect(switched).toMatchObject({ failover_count: 1, last_status: "FAILOVER_DONE" });
    // Two failed counted checks, at most one cycle in flight at the break: no cycle lost to write conflicts.
    expect(cycles).toBeLessThanOrEqual(3);
    expect(logs.filter((l) => /conflict|changed under|CHECK_ERROR/i.test(l))).toEqual([]);
  }, 30_000);

  test("pause/resume pairs wake the loop but never make two counted checks less than one interval apart (finding 4)", async () => {
    backends.primary.behave({ kind: "status", status: 503 });
    const { api, row } = await start({ CHECK_INTERVAL_SECONDS: "60", FAILURE_THRESHOLD: "3" });
    await eventually("the first counted check", async () => (Number((await row()).consecutive_failures) === 1 ? true : undefined));
    const executions = host!.taskHub.stats("failover-state")!.executions;
    for (let i = 0; i < 4; i++) {
      expect((await api("POST", "/api/pause", { reason: `maintenance ${i}` })).status).toBe(200);
      expect((await api("POST", "/api/resume")).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    await eventually("the woken cycles", async () => (host!.taskHub.stats("failover-state")!.executions >= executions + 4 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await row()).toMatchObject({ active_target: "primary", consecutive_failures: 1, failover_count: 0, paused: false });
  }, 30_000);
});
