import { TableClient } from "@azure/data-tables";
import { runCli } from "../../src/cli/main";
import { PARTITION_KEY } from "../../src/core/state";
import { call, eventually } from "../../src/local/tools/client";
import { standInCredential } from "../../src/local/services/azureStandIn/credential";
import { samplePlan, seedSampleTargets } from "../../src/local/services/azureStandIn/sampleTargets";
import { startAzureStandIn, type AzureStandIn } from "../../src/local/services/azureStandIn/server";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { backendPair } from "../helpers/backends";
import { storageConnectionString, testEnv } from "../helpers/env";

const TM_ROLE = "a4b10055-b0c7-44c2-b00f-c7b5b3550cf7";

interface Report {
  id: string;
  mode: string;
  result: string;
  from: string;
  to: string;
  recovery_seconds?: number;
  switchback_seconds?: number;
  budget_seconds?: number;
  writes: number;
  steps: Array<{ leg: string; step: number; kind: string; status: string; ms?: number; writes?: number }>;
  problems?: string[];
}

/**
 * Drills on the local host: the real loop at a 1 s interval, Azurite, Traffic Manager and DNS on
 * the local Azure stand-in. A switchover and its switchback through the saga, measured against
 * the plan's budget; a dry run that writes nothing to Azure; the safety rules that refuse a drill;
 * a drill whose switch is held.
 */
describe("drills on the local host against the local Azure stand-in", () => {
  const backends = backendPair();
  let standIn: AzureStandIn;
  let host: LocalHost | undefined;
  let table: TableClient;

  beforeEach(async () => {
    standIn = await startAzureStandIn();
    seedSampleTargets(standIn);
    const env = testEnv({
      PRIMARY_ENDPOINT: backends.primary.url,
      SECONDARY_ENDPOINT: backends.secondary.url,
      CHECK_INTERVAL_SECONDS: "1",
      FAILURE_THRESHOLD: "2",
      COOLDOWN_SECONDS: "600",
      SWITCH_PLAN: JSON.stringify({ ...samplePlan(standIn, ["traffic_manager", "dns"]), recovery_budget_seconds: 120 }),
      ...standIn.appSettings(),
    });
    table = TableClient.fromConnectionString(storageConnectionString(), env.FAILOVER_TABLE, { allowInsecureConnection: true });
    host = await startLocalHost({ env, timers: false, credential: standInCredential });
    expect((await api("POST", "/api/init")).status).toBe(201);
    expect((await api("POST", "/api/start")).status).toBe(202);
    await eventually("the plan adopted", async () => ((await row()).switch_state === "verified" ? true : undefined), 20_000);
  });
  afterEach(async () => {
    await host?.stop();
    host = undefined;
    await standIn.stop();
    backends.primary.behave({ kind: "ok" });
    backends.secondary.behave({ kind: "ok" });
  });

  const api = (method: string, path: string, body?: unknown) => call(host!.url, method, path, body);
  const row = () => table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state");
  const history = async () => ((await api("GET", "/api/history?limit=50")).body.entries as Array<{ kind: string; actor: string; reason: string }>).slice().reverse();
  const report = async (): Promise<Report> =>
    eventually(
      "the drill's report",
      async () => {
        const r = await row();
        return r.last_drill && !r.drill_id ? (JSON.parse(String(r.last_drill)) as Report) : undefined;
      },
      30_000,
    );
  const okWrites = () =>
    standIn
      .writes()
      .filter((w) => w.status >= 200 && w.status < 300)
      .map((w) => `${w.method} ${w.path.split("/").slice(-1)[0]}`);

  test("a switchover and its switchback, each verified; the report gives every step's duration, the recovery time against the budget and the writes", async () => {
    const started = await api("POST", "/api/drill", { reason: "quarterly drill" });
    expect(started).toMatchObject({ status: 200, body: { changed: true, mode: "switchover", drill_id: expect.stringMatching(/^drill-/), active_target: "secondary" } });
    // One drill at a time.
    expect((await api("POST", "/api/drill", {})).body).toMatchObject({ changed: false, reason: "drill_running", drill_id: started.body.drill_id });
    const r = await report();
    expect(r).toMatchObject({ id: started.body.drill_id, mode: "switchover", result: "passed", from: "primary", to: "secondary", budget_seconds: 120, writes: 6 });
    expect(r.recovery_seconds).toBeGreaterThan(0);
    expect(r.recovery_seconds).toBeLessThanOrEqual(120);
    expect(r.switchback_seconds).toBeGreaterThan(0);
    expect(r.steps.map((s) => [s.leg, s.kind, s.status, s.writes])).toEqual([
      ["over", "traffic_manager", "changed", 2],
      ["over", "dns", "changed", 1],
      ["back", "traffic_manager", "changed", 2],
      ["back", "dns", "changed", 1],
    ]);
    expect(r.steps.every((s) => typeof s.ms === "number")).toBe(true);
    // Make-before-break both ways, then back where it started.
    expect(okWrites()).toEqual(["PATCH app-west", "PATCH app-east", "PUT www", "PATCH app-east", "PATCH app-west", "PUT www"]);
    expect((await row()).active_target).toBe("primary");
    const entries = (await history()).filter((e) => ["failover", "failback", "drill"].includes(e.kind));
    expect(entries.map((e) => [e.kind, e.actor])).toEqual([
      ["failover", "function key"],
      ["failback", "function key"],
      ["drill", "function key"],
    ]);
    expect(entries[0].reason).toBe(`drill ${r.id} (switchover): quarterly drill`);
    expect(entries[2].reason).toMatch(new RegExp(`^drill ${r.id} switchover passed: recovery [\\d.]+ s \\(budget 120 s\\), switchback [\\d.]+ s, 6 write\\(s\\)$`));
    const overview = (await api("GET", "/api/groups")).body.groups[0];
    expect(overview.last_drill).toMatchObject({ id: r.id, result: "passed", recovery_seconds: r.recovery_seconds, budget_seconds: 120 });
  }, 60_000);

  test("a dry run: readiness and a read-back of every step, answered at once, nothing written to Azure, the report kept", async () => {
    const dry = await api("POST", "/api/drill", { dry_run: true, reason: "before the change window" });
    expect(dry.body).toMatchObject({
      changed: true,
      mode: "dry_run",
      active_target: "primary",
      report: { mode: "dry_run", result: "passed", writes: 0, from: "primary", to: "secondary", budget_seconds: 120 },
    });
    expect((dry.body.report as Report).steps.map((s) => [s.leg, s.kind, s.status])).toEqual([
      ["read", "traffic_manager", "verified"],
      ["read", "dns", "verified"],
    ]);
    expect(okWrites()).toEqual([]);
    expect(JSON.parse(String((await row()).last_drill))).toEqual(dry.body.report);
    expect((await history()).find((e) => e.kind === "drill")?.reason).toMatch(
      /^before the change window; drill drill-\w+ dry run passed: readiness and read-back in [\d.]+ s, 2 step\(s\) read, no write$/,
    );
    // Not ready: the identity lost its Traffic Manager role; the report names it, still nothing written.
    standIn.revoke(TM_ROLE);
    const notReady = (await api("POST", "/api/drill", { dry_run: true })).body.report as Report;
    expect(notReady.result).toBe("not_ready");
    expect(notReady.problems?.join("; ")).toMatch(/Traffic Manager Contributor/);
    expect(okWrites()).toEqual([]);
  }, 60_000);

  test("refused like any planned switch: paused, held, the standby down, in cooldown; a group with no plan is a 409", async () => {
    await api("POST", "/api/pause", { reason: "maintenance" });
    expect((await api("POST", "/api/drill", {})).body).toMatchObject({ changed: false, reason: "paused", active_target: "primary" });
    await api("POST", "/api/resume", {});
    await api("POST", "/api/hold", { until: new Date(Date.now() + 3_600_000).toISOString(), reason: "replica resync" });
    expect((await api("POST", "/api/drill", {})).body).toMatchObject({ changed: false, reason: "held" });
    await api("POST", "/api/release", {});
    backends.secondary.behave({ kind: "status", status: 503 });
    expect((await api("POST", "/api/drill", {})).body).toMatchObject({ changed: false, reason: "standby_unhealthy" });
    backends.secondary.behave({ kind: "ok" });
    await eventually("the standby healthy again", async () => ((await row()).secondary_healthy === true ? true : undefined));
    // A switch just made: its cooldown refuses a drill.
    expect((await api("POST", "/api/do_failover", { reason: "by hand" })).body).toMatchObject({ changed: true });
    await eventually("the switch verified", async () => ((await row()).switch_state === "verified" && (await row()).active_target === "secondary" ? true : undefined), 20_000);
    expect((await api("POST", "/api/drill", {})).body).toMatchObject({ changed: false, reason: "cooldown_active", active_target: "secondary" });
    expect(okWrites()).toHaveLength(3);
    await api("POST", "/api/init", { group: "rowonly", primary_endpoint: backends.primary.url, secondary_endpoint: `${backends.secondary.url}?b` });
    const noPlan = await api("POST", "/api/drill?group=rowonly", {});
    expect([noPlan.status, noPlan.body.message]).toEqual([409, 'Group "rowonly": a drill moves traffic through a switch plan, and the group has none (PUT /api/plan or SWITCH_PLAN)']);
  }, 60_000);

  test("the CLI: drill --dry-run prints the report with its steps; drill starts one, status shows it running, then its result; a refused one exits 2", async () => {
    async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(args, { out: (x) => out.push(x), err: (x) => err.push(x), env: { FAILOVER_URL: host!.url } });
      return { code, out: out.join("\n"), err: err.join("\n") };
    }
    const dry = await cli("drill", "--dry-run", "--reason", "before the window");
    expect(dry.code).toBe(0);
    expect(dry.out.split("\n")).toEqual([
      expect.stringMatching(/^drill drill-\w+: dry run passed in [\d.]+ s of a 120 s budget, 0 writes$/),
      expect.stringMatching(/^ {2}read step 0 traffic_manager +verified +\d+ ms$/),
      expect.stringMatching(/^ {2}read step 1 dns +verified +\d+ ms$/),
    ]);
    const started = await cli("drill", "--reason", "quarterly");
    expect(started).toMatchObject({ code: 0, out: expect.stringMatching(/^drill: drill-\w+ started; the loop switches to secondary, then back once verified/) });
    expect(await cli("drill", "--reason", "again")).toMatchObject({ code: 2, out: expect.stringMatching(/^drill: not started \(drill_running\): drill-\w+ is running$/) });
    await report();
    const status = await cli("status");
    expect(status.out.split("\n")[1]).toMatch(/last drill passed \(recovery [\d.]+ s of 120 s\)$/);
  }, 60_000);

  test("a pause set during the drill is respected: the switchback is refused, traffic stays on the other side, the drill failed naming it", async () => {
    // The switchover's first write fails once (503), so the drill is surely still running when the pause lands.
    standIn.inject({ method: "PATCH", pathIncludes: "app-west", status: 503, message: "Service Unavailable", times: 1 });
    expect((await api("POST", "/api/drill", { reason: "quarterly" })).body).toMatchObject({ changed: true });
    expect((await api("POST", "/api/pause", { reason: "stay on the secondary for now" })).body).toMatchObject({ changed: true });
    const r = await report();
    expect(r).toMatchObject({ result: "failed", problems: ["the switchback was refused (paused): traffic stays on secondary"] });
    expect(r.recovery_seconds).toBeGreaterThan(0);
    expect((await row()).active_target).toBe("secondary");
  }, 60_000);

  test("a plan changed during the drill ends it interrupted, with its report; the next drill may start", async () => {
    // The switchover keeps failing (503), so the drill is surely still running when the plan changes.
    standIn.inject({ method: "PATCH", pathIncludes: "app-west", status: 503, message: "Service Unavailable", times: 100 });
    expect((await api("POST", "/api/drill", { reason: "quarterly" })).body).toMatchObject({ changed: true });
    const plan = { ...samplePlan(standIn, ["traffic_manager", "dns"]), recovery_budget_seconds: 90 };
    // The loop writes the row every cycle: a 412 (the row changed meanwhile) is answered by sending it again.
    const put = await eventually("the plan set", async () => {
      const answer = await api("PUT", "/api/plan", { plan, reason: "new budget" });
      return answer.status === 412 ? undefined : answer;
    });
    expect(put.status).toBe(200);
    const r = await report();
    expect(r).toMatchObject({ result: "interrupted", problems: ["the switch plan changed during the drill"] });
    expect((await row()).drill_id).toBeUndefined();
  }, 60_000);

  test("a drill whose switchover is held (the role revoked) ends failed, naming it; traffic stays where the saga left it", async () => {
    standIn.revoke(TM_ROLE);
    expect((await api("POST", "/api/drill", {})).body).toMatchObject({ changed: true });
    const r = await report();
    expect(r).toMatchObject({ result: "failed", from: "primary", to: "secondary" });
    expect(r.problems?.[0]).toMatch(/^the over leg's switch is held: .*Traffic Manager Contributor.* \(a human must act: retry_switch\)$/);
    expect((await row()).switch_state).toBe("held");
    expect((await history()).find((e) => e.kind === "drill")?.reason).toMatch(/switchover failed/);
  }, 60_000);
});
