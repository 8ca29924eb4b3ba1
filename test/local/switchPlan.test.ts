import { TableClient } from "@azure/data-tables";
import { PARTITION_KEY } from "../../src/core/state";
import { verifyWebhook } from "../../src/core/webhookSignature";
import { call, eventually } from "../../src/local/tools/client";
import { standInCredential } from "../../src/local/services/azureStandIn/credential";
import { SAMPLE_IDS, samplePlan, seedSampleTargets, type SampleStepKind } from "../../src/local/services/azureStandIn/sampleTargets";
import { startAzureStandIn, type AzureStandIn } from "../../src/local/services/azureStandIn/server";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { backendPair } from "../helpers/backends";
import { storageConnectionString, testEnv } from "../helpers/env";
import { startSignedReceiver, type SignedReceiver } from "../helpers/standIn";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const TM_ROLE = "a4b10055-b0c7-44c2-b00f-c7b5b3550cf7";

describe("switch plans through the real orchestration on the local host, against the local Azure stand-in", () => {
  const backends = backendPair();
  let standIn: AzureStandIn;
  let receiver: SignedReceiver;
  let notifications: SignedReceiver;
  let host: LocalHost | undefined;
  let table: TableClient;
  let historyTable = "";

  beforeEach(async () => {
    standIn = await startAzureStandIn({ frontDoorDeploymentMs: 1500 });
    seedSampleTargets(standIn);
    receiver = await startSignedReceiver();
    notifications = await startSignedReceiver();
  });
  afterEach(async () => {
    await host?.stop();
    host = undefined;
    await standIn.stop();
    await receiver.close();
    await notifications.close();
  });

  async function start(kinds: SampleStepKind[], settings: Record<string, string> = {}, plan = samplePlan(standIn, kinds, receiver.url, SECRET)) {
    const env = testEnv({
      PRIMARY_ENDPOINT: backends.primary.url,
      SECONDARY_ENDPOINT: backends.secondary.url,
      CHECK_INTERVAL_SECONDS: "1",
      FAILURE_THRESHOLD: "2",
      COOLDOWN_SECONDS: "0",
      NOTIFY_WEBHOOK_URL: notifications.url,
      SWITCH_PLAN: JSON.stringify(plan),
      ...standIn.appSettings(),
      ...settings,
    });
    table = TableClient.fromConnectionString(storageConnectionString(), env.FAILOVER_TABLE, { allowInsecureConnection: true });
    historyTable = env.FAILOVER_HISTORY_TABLE!;
    host = await startLocalHost({ env, timers: false, credential: standInCredential });
    const init = await api("POST", "/api/init");
    expect(init.status).toBe(201);
    expect((await api("POST", "/api/start")).status).toBe(202);
    // The first cycle adopts the plan: it verifies that the world matches the row, writing nothing.
    await settled("primary");
    expect(standIn.writes()).toHaveLength(0);
    return init.body as Record<string, any>;
  }
  const api = (method: string, path: string, body?: unknown) => call(host!.url, method, path, body);
  const row = () => table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state");
  async function settled(target: string, state = "verified") {
    return eventually(
      `switch_state ${state} on ${target}`,
      async () => {
        const r = await row();
        return r.active_target === target && r.switch_state === state ? r : undefined;
      },
      20_000,
    );
  }
  const okWrites = () =>
    standIn
      .writes()
      .filter((w) => w.status >= 200 && w.status < 300)
      .map((w) => {
        const b = w.body as { properties?: { endpointStatus?: string; enabledState?: string; CNAMERecord?: { cname?: string } }; value?: string } | undefined;
        return `${w.method} ${w.path.split("/").slice(-2).join("/")} ${JSON.stringify(b?.properties?.endpointStatus ?? b?.properties?.enabledState ?? b?.properties?.CNAMERecord?.cname ?? b?.value ?? "")}`;
      });
  const history = async () => (await api("GET", "/api/history?limit=50")).body.entries as Array<Record<string, any>>;

  test("an automatic failover moves Traffic Manager, DNS and a signed webhook, make-before-break, verified, with times on the row, the audit log and status; failback mirrors it", async () => {
    await start(["traffic_manager", "dns", "webhook"]);
    backends.primary.behave({ kind: "status", status: 503 });
    const failed = await settled("secondary");
    expect(okWrites()).toEqual(['PATCH ExternalEndpoints/app-west "Enabled"', 'PATCH ExternalEndpoints/app-east "Disabled"', 'PUT CNAME/www "app-west.example.net"']);
    expect(receiver.received).toHaveLength(1);
    expect(verifyWebhook(SECRET, receiver.received[0].headers as Record<string, string>, receiver.received[0].body, Date.now())).toBe("state:1:secondary");
    const times = ["switch_detected_utc", "switch_intent_utc", "switch_applied_utc", "switch_verified_utc"].map((f) => Date.parse(String(failed[f])));
    expect(times.every((t, i) => !Number.isNaN(t) && (i === 0 || t >= times[i - 1]))).toBe(true);
    expect(JSON.parse(String(failed.switch_steps)).map((s: { status: string }) => s.status)).toEqual(["changed", "changed", "changed"]);
    // The audit entries follow the row write.
    const kinds = await eventually("the audit entries", async () => {
      const k = (await history()).map((e) => e.kind);
      return k.length >= 3 ? k : undefined;
    });
    expect(kinds).toEqual(["switch_verified", "switch_applied", "failover"]);
    const status = await eventually("status with the switch", async () => {
      const s = await api("GET", "/api/status");
      return s.body.orchestration?.custom_status?.switch?.switch_state === "verified" ? s : undefined;
    });
    expect(status.body.orchestration.custom_status.switch.timings).toEqual({ intent_s: expect.any(Number), applied_s: expect.any(Number), verified_s: expect.any(Number) });
    expect(notifications.received.map((n) => JSON.parse(n.body).kind)).toEqual(expect.arrayContaining(["failover", "switch_applied", "switch_verified"]));

    standIn.log.length = 0;
    backends.primary.behave({ kind: "ok" });
    expect((await api("POST", "/api/failback", { force: true, reason: "primary repaired" })).body).toMatchObject({ changed: true, active_target: "primary" });
    await settled("primary");
    expect(okWrites()).toEqual(['PATCH ExternalEndpoints/app-east "Enabled"', 'PATCH ExternalEndpoints/app-west "Disabled"', 'PUT CNAME/www "app-east.example.net"']);
    expect(receiver.received.map((r) => r.headers["webhook-id"])).toEqual(["state:1:secondary", "state:2:primary"]);
    // Settled: later cycles read nothing back into writes.
    const writes = standIn.writes().length;
    await eventually("two more cycles", async () => ((await row()).last_check_utc !== undefined ? true : undefined));
    await new Promise((r) => setTimeout(r, 2500));
    expect(standIn.writes()).toHaveLength(writes);
  });

  test.each([["front_door"], ["app_configuration"]] as const)("failover and failback through a %s step", async (kind) => {
    await start([kind]);
    backends.primary.behave({ kind: "status", status: 503 });
    await settled("secondary");
    const afterFailover = okWrites();
    expect(afterFailover.length).toBeGreaterThan(0);
    if (kind === "front_door") {
      expect(afterFailover.map((w) => w.split(" ").slice(0, 3).join(" "))).toEqual(['PATCH origins/west "Enabled"', 'PATCH origins/east "Disabled"']);
      // The deployment outlasts several cycles: they only read back, so one applied and one verified entry.
      const kinds = await eventually("the verified entry", async () => {
        const k = (await history()).map((e) => e.kind);
        return k.includes("switch_verified") ? k : undefined;
      });
      expect(kinds).toEqual(["switch_verified", "switch_applied", "failover"]);
    } else {
      expect(standIn.keyValues.get("app:active-region\n")?.value).toBe("west");
      expect(standIn.keyValues.get("app:sentinel\n")?.value).toBe("state:1:secondary");
    }
    backends.primary.behave({ kind: "ok" });
    await api("POST", "/api/failback", { force: true });
    await settled("primary");
    if (kind === "front_door")
      expect(
        okWrites()
          .slice(2)
          .map((w) => w.split(" ").slice(0, 3).join(" ")),
      ).toEqual(['PATCH origins/east "Enabled"', 'PATCH origins/west "Disabled"']);
    else expect(standIn.keyValues.get("app:active-region\n")?.value).toBe("east");
  });

  test("a read that fails while verifying: later cycles only read back; one switch_applied and one switch_verified, every write once", async () => {
    // No drift checks: their reads would meet the injected fault first.
    await start(["traffic_manager"], { DRIFT_CHECK_EVERY: "0" });
    // Apply reads app-east once (before disabling it); the verify's read of it fails twice.
    standIn.inject({ method: "GET", pathIncludes: "ExternalEndpoints/app-east", status: 503, message: "Service Unavailable", skip: 1, times: 2 });
    backends.primary.behave({ kind: "status", status: 503 });
    const propagating = await settled("secondary", "propagating");
    expect(propagating.switch_error_class).toBe("verify_error");
    await settled("secondary");
    expect(okWrites()).toEqual(['PATCH ExternalEndpoints/app-west "Enabled"', 'PATCH ExternalEndpoints/app-east "Disabled"']);
    expect((await history()).map((e) => e.kind)).toEqual(["switch_verified", "switch_applied", "failover"]);
  });

  const tmEndpoint = (name: string) => (standIn.resources.get(`${SAMPLE_IDS.trafficManager}/ExternalEndpoints/${name}`)!.properties as { endpointStatus: string }).endpointStatus;
  const kindsOf = async () => (await history()).map((e) => e.kind);
  /** Waits until the loop has run `n` more checks. */
  async function cycles(n: number) {
    let seen = String((await row()).last_check_utc);
    for (let i = 0; i < n; i++) {
      seen = await eventually("another check", async () => {
        const at = String((await row()).last_check_utc);
        return at !== seen ? at : undefined;
      });
    }
  }

  test("drift by hand: read-only checks while nothing drifted; a hand-made change shows as DRIFT with the step and what differs, one audit entry and notification per episode; the episode ends when it matches again", async () => {
    await start(["traffic_manager", "dns"]);
    standIn.log.length = 0;
    await cycles(3);
    // Nothing drifted: every check read each side of each step once, and nothing was written.
    expect(standIn.writes()).toHaveLength(0);
    const reads = (part: string) => standIn.log.filter((r) => r.path.endsWith(part)).length;
    expect(standIn.log.every((r) => r.method === "GET")).toBe(true);
    // Between two checks the log holds whole checks: both endpoints and the record, once each, nothing else.
    await eventually("whole drift checks in the log", async () => {
      const n = reads("app-east");
      return n >= 2 && reads("app-west") === n && reads("CNAME/www") === n && standIn.log.length === 3 * n ? n : undefined;
    });

    standIn.resources.edit(`${SAMPLE_IDS.trafficManager}/ExternalEndpoints/app-west`, { endpointStatus: "Enabled" });
    const drifted = await eventually("the drift on the row", async () => ((await row()).switch_drift ? await row() : undefined));
    expect(drifted.switch_drift).toBe("step 0 (traffic_manager tm-app): expected primary only, reads both (primary Enabled, secondary Enabled)");
    const status = await eventually("DRIFT in status", async () => {
      const s = await api("GET", "/api/status");
      return s.body.orchestration?.custom_status?.switch?.drift ? s : undefined;
    });
    expect(status.body.state).toMatchObject({ switch_state: "verified", switch_drift: drifted.switch_drift, switch_drift_since_utc: drifted.switch_drift_since_utc });
    expect(status.body.orchestration.custom_status.switch.drift).toBe(drifted.switch_drift);
    await cycles(2);
    expect((await kindsOf()).filter((k) => k === "switch_drift")).toHaveLength(1);
    expect((await history()).find((e) => e.kind === "switch_drift")?.reason).toBe(`DRIFT: ${drifted.switch_drift}; reported (drift_action=report)`);
    const note = await eventually("the drift notification", async () => notifications.received.map((n) => JSON.parse(n.body)).find((m) => m.kind === "switch_drift"));
    expect(note.text).toContain("**Traffic drift**");
    expect(notifications.received.filter((n) => JSON.parse(n.body).kind === "switch_drift")).toHaveLength(1);
    expect(standIn.writes()).toHaveLength(0);

    // Put back by hand: the episode ends; the next change is a new episode.
    standIn.resources.edit(`${SAMPLE_IDS.trafficManager}/ExternalEndpoints/app-west`, { endpointStatus: "Disabled" });
    await eventually("the drift cleared", async () => ((await row()).switch_drift === undefined ? true : undefined));
    standIn.resources.edit(`${SAMPLE_IDS.dnsZone}/CNAME/www`, { CNAMERecord: { cname: "app-west.example.net" } });
    await eventually("a second episode", async () => ((await kindsOf()).filter((k) => k === "switch_drift").length === 2 ? true : undefined));
    expect((await row()).switch_drift).toBe("step 1 (dns CNAME www.contoso.example): expected primary only, reads secondary (app-west.example.net (TTL 60))");
    expect(standIn.writes()).toHaveLength(0);
  });

  test("drift with drift_action=reconcile: the row's target is applied again, make-before-break, through the saga; one drift, one applied and one verified entry", async () => {
    await start(["traffic_manager", "dns"], { DRIFT_ACTION: "reconcile" });
    // Someone fails Traffic Manager over by hand.
    standIn.resources.edit(`${SAMPLE_IDS.trafficManager}/ExternalEndpoints/app-west`, { endpointStatus: "Enabled" });
    standIn.resources.edit(`${SAMPLE_IDS.trafficManager}/ExternalEndpoints/app-east`, { endpointStatus: "Disabled" });
    await eventually("reconciled", async () => {
      const r = await row();
      return r.switch_state === "verified" && r.switch_drift === undefined && tmEndpoint("app-east") === "Enabled" ? r : undefined;
    });
    expect(okWrites()).toEqual(['PATCH ExternalEndpoints/app-east "Enabled"', 'PATCH ExternalEndpoints/app-west "Disabled"']);
    expect(await kindsOf()).toEqual(["switch_verified", "switch_applied", "switch_drift"]);
    expect((await history()).find((e) => e.kind === "switch_drift")?.reason).toContain("reads secondary (primary Disabled, secondary Enabled); reconciling");
    expect(await row()).toMatchObject({ active_target: "primary", failover_count: 0 });
  });

  test("readiness at init and in status: without Traffic Manager Contributor init answers not ready naming the action, scope and role; a switch is still attempted; the loop checks again when due", async () => {
    standIn.revoke(TM_ROLE);
    const problem = `step 0: traffic_manager tm-app: missing action Microsoft.Network/trafficManagerProfiles/ExternalEndpoints/write on ${SAMPLE_IDS.trafficManager}: grant Traffic Manager Contributor (a4b10055-b0c7-44c2-b00f-c7b5b3550cf7)`;
    const init = await start(["traffic_manager"]);
    expect(init.readiness).toEqual({ ready: false, problems: [problem] });
    const status = await api("GET", "/api/status");
    expect(status.body.state).toMatchObject({ readiness_ready: false, readiness_problems: [problem], readiness_checked_utc: expect.any(String) });
    const checkedAtInit = status.body.state.readiness_checked_utc;

    backends.primary.behave({ kind: "status", status: 503 });
    const held = await settled("secondary", "held");
    expect(held.switch_error_class).toBe("forbidden");

    // The role granted again; the last check is older than READINESS_CHECK_MINUTES (15): the loop checks again.
    standIn.grantAll();
    const before = await row();
    await table.updateEntity({ partitionKey: PARTITION_KEY, rowKey: "state", readiness_checked_utc: new Date(Date.now() - 16 * 60_000).toISOString() }, "Merge", { etag: before.etag });
    const again = await eventually("readiness checked again", async () => {
      const r = await row();
      return Date.parse(String(r.readiness_checked_utc)) > Date.parse(checkedAtInit) ? r : undefined;
    });
    expect(again.readiness_ready).toBe(true);
    expect(JSON.parse(String(again.readiness_problems))).toEqual([]);
  });

  test("a forced switch and the automatic one racing: one switch, one consistent outcome; a forced failback racing the automatic failover that follows still ends with the row, the world and the audit agreeing", async () => {
    await start(["traffic_manager", "dns"]);
    backends.primary.behave({ kind: "status", status: 503 });
    // One failed check counted (threshold 2): the loop's automatic failover is one check away.
    await eventually("a counted failure", async () => (Number((await row()).consecutive_failures) === 1 ? true : undefined));
    const forced = await api("POST", "/api/do_failover", { force: true, expected_from: "primary", reason: "drill" });
    expect(forced.body).toMatchObject({ changed: true, active_target: "secondary" });
    await settled("secondary");
    await cycles(2);
    expect(await row()).toMatchObject({ active_target: "secondary", failover_count: 1, switch_state: "verified" });
    expect(okWrites()).toEqual(['PATCH ExternalEndpoints/app-west "Enabled"', 'PATCH ExternalEndpoints/app-east "Disabled"', 'PUT CNAME/www "app-west.example.net"']);
    expect((await kindsOf()).filter((k) => k === "failover" || k === "switch_applied")).toEqual(["switch_applied", "failover"]);

    // The primary is still down: a forced failback now races the loop, which fails over again (no cooldown).
    expect((await api("POST", "/api/failback", { force: true, reason: "race" })).body).toMatchObject({ changed: true, active_target: "primary" });
    const end = await eventually(
      "the loop's failover after the failback, settled",
      async () => {
        const r = await row();
        return Number(r.failover_count) === 3 && r.active_target === "secondary" && r.switch_state === "verified" ? r : undefined;
      },
      30_000,
    );
    const side = end.active_target === "primary" ? { on: "app-east", off: "app-west", cname: "app-east.example.net" } : { on: "app-west", off: "app-east", cname: "app-west.example.net" };
    expect([tmEndpoint(side.on), tmEndpoint(side.off)]).toEqual(["Enabled", "Disabled"]);
    expect((standIn.resources.get(`${SAMPLE_IDS.dnsZone}/CNAME/www`)!.properties as { CNAMERecord: { cname: string } }).CNAMERecord.cname).toBe(side.cname);
    const switches = (await kindsOf()).filter((k) => k === "failover" || k === "failback");
    expect(switches).toHaveLength(Number(end.failover_count));
  });

  test("Front Door in priority mode through the orchestration: the new origin promoted before the old is demoted, and back", async () => {
    const plan = samplePlan(standIn, ["front_door"]);
    plan.steps[0].mode = "priority";
    await start(["front_door"], {}, plan);
    backends.primary.behave({ kind: "status", status: 503 });
    await settled("secondary");
    backends.primary.behave({ kind: "ok" });
    await api("POST", "/api/failback", { force: true });
    await settled("primary");
    const priorities = standIn
      .writes()
      .filter((w) => w.status < 300)
      .map((w) => `${w.path.split("/").pop()} ${JSON.stringify((w.body as { properties: unknown }).properties)}`);
    expect(priorities).toEqual(['west {"priority":1,"enabledState":"Enabled"}', 'east {"priority":2}', 'east {"priority":1,"enabledState":"Enabled"}', 'west {"priority":2}']);
    expect((await kindsOf()).filter((k) => k.startsWith("switch_"))).toEqual(["switch_verified", "switch_applied", "switch_verified", "switch_applied"]);
  });

  test("a 5xx on the second step: failed with the step and class, retried on a later cycle, every write done exactly once", async () => {
    await start(["traffic_manager", "dns", "webhook"]);
    standIn.inject({ method: "PUT", pathIncludes: "/CNAME/www", status: 500, message: "Internal Server Error" });
    backends.primary.behave({ kind: "status", status: 503 });
    const failed = await settled("secondary", "failed");
    expect(failed).toMatchObject({ switch_failed_step: 1, switch_error_class: "server_error", switch_attempts: 1 });
    expect(String(failed.switch_error)).toContain("step 1 (dns CNAME www.contoso.example)");
    expect(receiver.received).toHaveLength(0);
    const done = await settled("secondary");
    expect(done.switch_attempts).toBe(2);
    expect(okWrites()).toEqual(['PATCH ExternalEndpoints/app-west "Enabled"', 'PATCH ExternalEndpoints/app-east "Disabled"', 'PUT CNAME/www "app-west.example.net"']);
    expect(receiver.received).toHaveLength(1);
    expect((await history()).find((e) => e.kind === "switch_failed")?.reason).toContain("[server_error]");
  });

  test("a 403 is permanent: the switch is held after one attempt, naming the role and scope on the row, in one audit entry and one notification; nothing more is written until an operator retries it", async () => {
    await start(["traffic_manager"]);
    standIn.revoke(TM_ROLE);
    backends.primary.behave({ kind: "status", status: 503 });
    const held = await settled("secondary", "held");
    expect(held.switch_error_class).toBe("forbidden");
    expect(String(held.switch_error)).toMatch(
      /AuthorizationFailed.*Microsoft\.Network\/trafficmanagerprofiles\/ExternalEndpoints\/write.*grant Traffic Manager Contributor \(a4b10055-b0c7-44c2-b00f-c7b5b3550cf7\) on \/subscriptions\/.*\/tm-app\/ExternalEndpoints\/app-west/,
    );
    const entry = (await history()).find((e) => e.kind === "switch_held");
    expect(entry?.reason).toContain("grant Traffic Manager Contributor");
    expect(entry?.reason).toContain("a human must act");
    expect(entry?.writes).toEqual([expect.objectContaining({ method: "PATCH", resource: "trafficManagerProfiles/tm-app/ExternalEndpoints/app-west", result: "forbidden 403" })]);
    const note = await eventually("the held notification", async () => notifications.received.map((n) => JSON.parse(n.body)).find((m) => m.kind === "switch_held"));
    expect(note.text).toContain("Traffic Manager Contributor");
    expect((standIn.resources.get(`${SAMPLE_IDS.trafficManager}/ExternalEndpoints/app-east`)!.properties as { endpointStatus: string }).endpointStatus).toBe("Enabled");
    // Held: later cycles send no write, and make no second entry or notification.
    await cycles(3);
    expect(standIn.writes()).toHaveLength(1);
    expect((await kindsOf()).filter((k) => k === "switch_held" || k === "switch_failed")).toEqual(["switch_held"]);
    expect(notifications.received.filter((n) => JSON.parse(n.body).kind === "switch_held")).toHaveLength(1);

    // The operator grants the role and retries: a new intent, applied and verified.
    standIn.grantAll();
    expect((await api("POST", "/api/retry_switch", { reason: "role granted" })).body).toMatchObject({ changed: true, switch_state: "applying" });
    await settled("secondary");
    expect(okWrites()).toEqual(['PATCH ExternalEndpoints/app-west "Enabled"', 'PATCH ExternalEndpoints/app-east "Disabled"']);
    const retried = (await history()).find((e) => e.kind === "switch_retried");
    expect(retried?.reason).toContain("role granted; the switch to secondary is applied again (it was held (forbidden)");
    expect((await api("POST", "/api/retry_switch", {})).body).toMatchObject({ changed: false, reason: "not_held" });
  });

  test("an ARM write that never answers costs the loop one call deadline, not its checks: no gap between two checks longer than the interval plus the deadline; the switch completes on a later cycle", async () => {
    await start(["traffic_manager", "dns"], { SWITCH_CALL_TIMEOUT_SECONDS: "2", DRIFT_CHECK_EVERY: "0" });
    standIn.inject({ method: "PATCH", pathIncludes: "app-west", hang: true });
    const from = Date.now();
    backends.primary.behave({ kind: "status", status: 503 });
    const failed = await settled("secondary", "failed");
    expect(failed).toMatchObject({ switch_error_class: "timeout", switch_failed_step: 0 });
    expect(String(failed.switch_error)).toContain("no answer within 2000 ms");
    await settled("secondary");
    // The primary is probed every cycle (as the active side, then for failback): its probes are the loop's heartbeat.
    const probes = backends.primary.times.filter((t) => t >= from);
    const gaps = probes.slice(1).map((t, i) => t - probes[i]);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(1000 + 2000 + 500);
    expect(okWrites()).toEqual(['PATCH ExternalEndpoints/app-west "Enabled"', 'PATCH ExternalEndpoints/app-east "Disabled"', 'PUT CNAME/www "app-west.example.net"']);
    // The hung write is in the ledger of the failure's entry.
    const entry = (await history()).find((e) => e.kind === "switch_failed");
    expect(entry?.writes).toEqual([expect.objectContaining({ method: "PATCH", result: "timeout" })]);
  });

  test("throttling: the next attempt waits for Retry-After", async () => {
    await start(["traffic_manager"], { DRIFT_CHECK_EVERY: "0" });
    standIn.inject({ method: "GET", pathIncludes: "app-west", status: 429, retryAfterSeconds: 7 });
    backends.primary.behave({ kind: "status", status: 503 });
    const failed = await settled("secondary", "failed");
    expect(failed.switch_error_class).toBe("throttled");
    const throttledAt = standIn.log.find((r) => r.status === 429)!.at;
    const wait = Date.parse(String(failed.switch_next_attempt_utc)) - throttledAt;
    expect(wait).toBeGreaterThanOrEqual(6500);
    await settled("secondary", "verified");
    const retried = standIn.log.filter((r) => r.path.endsWith("app-west") && r.at > throttledAt);
    expect(retried[0].at - throttledAt).toBeGreaterThanOrEqual(6500);
  }, 40_000);

  test("a malformed plan: a clear error naming the step and field, the row untouched, the loop still checking", async () => {
    await start(["traffic_manager"]);
    const bad = samplePlan(standIn, ["traffic_manager", "dns"]);
    bad.steps[1].zone_id = "/not/a/zone";
    const before = await row();
    await table.updateEntity({ partitionKey: PARTITION_KEY, rowKey: "state", switch_plan: JSON.stringify(bad) }, "Merge", { etag: before.etag });
    backends.primary.behave({ kind: "status", status: 503 });
    const status = await eventually("the plan error in status", async () => {
      const s = await api("GET", "/api/status");
      return s.body.orchestration?.custom_status?.error?.includes("zone_id") ? s : undefined;
    });
    expect(status.body.orchestration.custom_status.error).toContain('switch plan of group "state": switch_plan: step 1 (dns): zone_id: must be a resource ID');
    const r = await row();
    expect(r).toMatchObject({ active_target: "primary", failover_count: 0 });
    const checked = Date.parse(String(r.last_check_utc));
    await eventually("a later check", async () => (Date.parse(String((await row()).last_check_utc)) > checked ? true : undefined));
    expect(standIn.writes()).toHaveLength(0);
  });

  test("a crash between intent and apply loses nothing: the next cycle finishes the switch", async () => {
    await start(["traffic_manager", "dns"]);
    // Stop the app right after a manual failover wrote its intent, before any cycle applied it.
    await host!.stop();
    host = undefined;
    const { loadConfig } = await import("../../src/core/config");
    const { createDeps } = await import("../../src/core/deps");
    const { switchTarget } = await import("../../src/core/operations");
    const settings = {
      AzureWebJobsStorage: storageConnectionString(),
      FAILOVER_TABLE: table.tableName,
      FAILOVER_HISTORY_TABLE: historyTable,
      SWITCH_PLAN: JSON.stringify(samplePlan(standIn, ["traffic_manager", "dns"])),
    };
    const response = await switchTarget(createDeps(loadConfig(settings)), "state", { force: true, expected_from: "primary", reason: "drill" });
    expect(response.changed).toBe(true);
    expect(await row()).toMatchObject({ active_target: "secondary", switch_state: "applying", switch_target: "secondary" });
    expect(standIn.writes()).toHaveLength(0);

    host = await startLocalHost({
      env: testEnv({ PRIMARY_ENDPOINT: backends.primary.url, SECONDARY_ENDPOINT: backends.secondary.url, CHECK_INTERVAL_SECONDS: "1", ...settings, ...standIn.appSettings() }),
      timers: false,
      credential: standInCredential,
    });
    await api("POST", "/api/start");
    await settled("secondary");
    expect(okWrites()).toEqual(['PATCH ExternalEndpoints/app-west "Enabled"', 'PATCH ExternalEndpoints/app-east "Disabled"', 'PUT CNAME/www "app-west.example.net"']);
  });

  test("readiness on demand: ready with every role; without Traffic Manager Contributor it names the action, scope and role; a TTL over the budget is named; nothing is written", async () => {
    await start(["traffic_manager", "dns"], {});
    expect((await api("GET", "/api/readiness")).body).toMatchObject({ group: "state", ready: true, problems: [] });
    standIn.revoke(TM_ROLE);
    const before = await row();
    const budgeted = { recovery_budget_seconds: 45, ...samplePlan(standIn, ["traffic_manager", "dns"]) };
    await table.updateEntity({ partitionKey: PARTITION_KEY, rowKey: "state", switch_plan: JSON.stringify(budgeted) }, "Merge", { etag: before.etag });
    const notReady = await api("GET", "/api/readiness");
    expect(notReady.status).toBe(200);
    expect(notReady.body.ready).toBe(false);
    expect(notReady.body.problems).toEqual([
      `step 0: traffic_manager tm-app: missing action Microsoft.Network/trafficManagerProfiles/ExternalEndpoints/write on ${SAMPLE_IDS.trafficManager}: grant Traffic Manager Contributor (a4b10055-b0c7-44c2-b00f-c7b5b3550cf7)`,
      "step 1: dns CNAME www.contoso.example: TTL 60 s exceeds the recovery-time budget (45 s)",
    ]);
    expect(standIn.writes()).toHaveLength(0);
    expect((await api("GET", "/api/readiness?group=nope")).status).toBe(404);
  });
  test.each([["hold"], ["compensate"]] as const)(
    "a three-stage plan (App Configuration | Traffic Manager with DNS in parallel | webhook) whose stage 2 fails permanently, on_failure %s: stage 3 never runs",
    async (mode) => {
      const [appConfiguration, trafficManager, dns, webhook] = samplePlan(standIn, ["app_configuration", "traffic_manager", "dns", "webhook"], receiver.url, SECRET).steps;
      await start([], {}, {
        on_failure: mode,
        stages: [
          { name: "data tier", steps: [appConfiguration] },
          { name: "traffic", steps: [trafficManager, dns] },
          { name: "notify", steps: [webhook] },
        ],
      } as unknown as ReturnType<typeof samplePlan>);
      standIn.revoke(TM_ROLE);
      backends.primary.behave({ kind: "status", status: 503 });
      const stopped = await settled("secondary", mode === "hold" ? "held" : "compensated");
      expect(stopped.switch_error_class).toBe("forbidden");
      expect(stopped.switch_failed_step).toBe(1);
      const writes = okWrites();
      if (mode === "hold") {
        // Stage 1 done, stage 2's DNS done beside the refused Traffic Manager, stage 3 not run.
        expect(writes).toEqual(['PUT kv/app:active-region "west"', 'PUT kv/app:sentinel "state:1:secondary"', 'PUT CNAME/www "app-west.example.net"']);
        expect(standIn.keyValues.get("app:active-region\n")?.value).toBe("west");
      } else {
        // Undone from the failed stage's last step back to the first: DNS, then App Configuration.
        expect(writes).toEqual([
          'PUT kv/app:active-region "west"',
          'PUT kv/app:sentinel "state:1:secondary"',
          'PUT CNAME/www "app-west.example.net"',
          'PUT CNAME/www "app-east.example.net"',
          'PUT kv/app:active-region "east"',
          'PUT kv/app:sentinel "state:1:primary"',
        ]);
        expect(standIn.keyValues.get("app:active-region\n")?.value).toBe("east");
      }
      expect(receiver.received).toHaveLength(0);
    },
  );
  describe("sql_failover_group", () => {
    const SQL_ROLE = "6d8ee4ec-f05a-4a1d-8b00-a9b17e38b437";
    const role = (server: string) => standIn.resources.sql.role(server, "fg-app");

    test("a failover makes the secondary's server primary through the long-running failover, verified; a failback mirrors it; no data loss", async () => {
      await start(["sql_failover_group"]);
      backends.primary.behave({ kind: "status", status: 503 });
      const failed = await settled("secondary");
      expect([role(SAMPLE_IDS.sqlPrimaryServer), role(SAMPLE_IDS.sqlSecondaryServer)]).toEqual(["Secondary", "Primary"]);
      expect(okWrites()).toEqual(['POST fg-app/failover ""']);
      expect(JSON.parse(String(failed.switch_steps))[0]).toMatchObject({ kind: "sql_failover_group", status: "changed", writes: 1, detail: "sql-west primary (planned, no data loss)" });
      backends.primary.behave({ kind: "ok" });
      await api("POST", "/api/failback", { force: true });
      await settled("primary");
      expect([role(SAMPLE_IDS.sqlPrimaryServer), role(SAMPLE_IDS.sqlSecondaryServer)]).toEqual(["Primary", "Secondary"]);
      expect(okWrites()).toEqual(['POST fg-app/failover ""', 'POST fg-app/failover ""']);
    });

    test("the old primary's region lost: the planned failover ends Failed and is retried; with allow_data_loss the forced failover follows", async () => {
      const [step] = samplePlan(standIn, ["sql_failover_group"]).steps;
      await start([], {}, { steps: [{ ...step, allow_data_loss: true }] });
      standIn.resources.sql.setUnreachable(SAMPLE_IDS.sqlPrimaryServer);
      backends.primary.behave({ kind: "status", status: 503 });
      const failed = await settled("secondary");
      expect(role(SAMPLE_IDS.sqlSecondaryServer)).toBe("Primary");
      expect(okWrites()).toEqual(['POST fg-app/failover ""', 'POST fg-app/forceFailoverAllowDataLoss ""']);
      expect(JSON.parse(String(failed.switch_steps))[0]).toMatchObject({ status: "changed", writes: 2, detail: "sql-west primary (forced, data loss allowed)" });
    });

    test("without allow_data_loss the planned failover that ends Failed is a transient failure, retried, never forced", async () => {
      await start(["sql_failover_group"]);
      standIn.resources.sql.setUnreachable(SAMPLE_IDS.sqlPrimaryServer);
      backends.primary.behave({ kind: "status", status: 503 });
      const failed = await settled("secondary", "failed");
      expect(failed.switch_error).toMatch(/the failover of sql-west ended Failed \(.*a forced failover \(data loss allowed\) is needed.*\); sql-east keeps the primary role/);
      expect(okWrites().every((w) => w === 'POST fg-app/failover ""')).toBe(true);
      expect(role(SAMPLE_IDS.sqlSecondaryServer)).toBe("Secondary");
    });

    test("not ready without SQL Server Contributor (the role named), or while replication is seeding; held after one 403, naming the role", async () => {
      await start(["sql_failover_group"]);
      standIn.resources.sql.setReplicationState(SAMPLE_IDS.sqlPrimaryServer, "fg-app", "SEEDING");
      standIn.revoke(SQL_ROLE);
      const ready = await api("GET", "/api/readiness");
      expect(ready.body.ready).toBe(false);
      expect(ready.body.problems.join("\n")).toMatch(/replication is SEEDING, not CATCH_UP/);
      expect(ready.body.problems.join("\n")).toMatch(/Microsoft\.Sql\/servers\/failoverGroups.*SQL Server Contributor \(6d8ee4ec-f05a-4a1d-8b00-a9b17e38b437\)/);
      backends.primary.behave({ kind: "status", status: 503 });
      const held = await settled("secondary", "held");
      expect(held.switch_error_class).toBe("forbidden");
      expect(String(held.switch_error)).toMatch(/SQL Server Contributor/);
      expect(role(SAMPLE_IDS.sqlPrimaryServer)).toBe("Primary");
    });
  });
  describe("cosmos_db", () => {
    const COSMOS_ROLE = "5bd9cd88-fe45-4216-938b-f97437e15450";
    const writes = () => standIn.resources.cosmos.writeRegion(SAMPLE_IDS.cosmosAccount);

    test("a failover moves the account's writes to the secondary's region by a failover priority change, verified; a failback mirrors it", async () => {
      await start(["cosmos_db"]);
      backends.primary.behave({ kind: "status", status: 503 });
      const failed = await settled("secondary");
      expect(writes()).toBe("West US");
      expect(okWrites()).toEqual(['POST cosmos-app/failoverPriorityChange ""']);
      expect(JSON.parse(String(failed.switch_steps))[0]).toMatchObject({ kind: "cosmos_db", status: "changed", writes: 1, detail: "writes in westus" });
      const body = standIn.writes().find((w) => w.method === "POST")!.body as { failoverPolicies: Array<{ locationName: string; failoverPriority: number }> };
      // The other side's region next, the rest kept after them.
      expect(body.failoverPolicies).toEqual([
        { locationName: "westus", failoverPriority: 0 },
        { locationName: "East US", failoverPriority: 1 },
        { locationName: "North Europe", failoverPriority: 2 },
      ]);
      backends.primary.behave({ kind: "ok" });
      await api("POST", "/api/failback", { force: true });
      await settled("primary");
      expect(writes()).toBe("East US");
    });

    test("a change whose operation ends Failed is a transient failure, retried, and the writes stay where they were", async () => {
      await start(["cosmos_db"]);
      standIn.resources.cosmos.failNextChange(SAMPLE_IDS.cosmosAccount);
      backends.primary.behave({ kind: "status", status: 503 });
      const failed = await settled("secondary", "failed");
      expect(failed.switch_error).toMatch(/the failover priority change to westus ended Failed .*; East US keeps the writes/);
      expect(writes()).toBe("East US");
      // The next attempt (after its backoff) succeeds.
      await settled("secondary");
      expect(writes()).toBe("West US");
    }, 60_000);

    test("not ready with multi-region writes or without DocumentDB Account Contributor (named); held after one 403", async () => {
      await start(["cosmos_db"]);
      standIn.resources.cosmos.setMultipleWrites(SAMPLE_IDS.cosmosAccount, true);
      standIn.revoke(COSMOS_ROLE);
      const ready = await api("GET", "/api/readiness");
      expect(ready.body.ready).toBe(false);
      expect(ready.body.problems.join("\n")).toMatch(/the account writes in several regions/);
      expect(ready.body.problems.join("\n")).toMatch(/failoverPriorityChange\/action .*DocumentDB Account Contributor \(5bd9cd88-fe45-4216-938b-f97437e15450\)/);
      standIn.resources.cosmos.setMultipleWrites(SAMPLE_IDS.cosmosAccount, false);
      backends.primary.behave({ kind: "status", status: 503 });
      const held = await settled("secondary", "held");
      expect(held.switch_error_class).toBe("forbidden");
      expect(String(held.switch_error)).toMatch(/DocumentDB Account Contributor/);
      expect(writes()).toBe("East US");
    });
  });
  describe("storage_account", () => {
    const STORAGE_ROLE = "17d1049b-9a84-46fb-8f53-869881c3d3ab";
    const where = () => standIn.resources.storage.locations(SAMPLE_IDS.storageAccount);

    test("a planned failover swaps the primary and secondary locations, nothing lost, verified; a failback mirrors it", async () => {
      await start(["storage_account"]);
      backends.primary.behave({ kind: "status", status: 503 });
      const failed = await settled("secondary");
      expect(where()).toEqual({ primary: "westus", secondary: "eastus" });
      expect(okWrites()).toEqual(['POST stapp/failover ""']);
      expect(standIn.writes().find((w) => w.method === "POST")?.path).toMatch(/\/failover$/);
      expect(JSON.parse(String(failed.switch_steps))[0]).toMatchObject({ kind: "storage_account", status: "changed", writes: 1, detail: "primary in westus (planned, nothing lost)" });
      backends.primary.behave({ kind: "ok" });
      await api("POST", "/api/failback", { force: true });
      await settled("primary");
      expect(where()).toEqual({ primary: "eastus", secondary: "westus" });
    });

    test("an unplanned failover leaves the account locally redundant: the switch back is refused (held), naming what to do", async () => {
      const [step] = samplePlan(standIn, ["storage_account"]).steps;
      await start([], {}, { steps: [{ ...step, failover_type: "unplanned" }] });
      backends.primary.behave({ kind: "status", status: 503 });
      await settled("secondary");
      expect(where()).toEqual({ primary: "westus" });
      backends.primary.behave({ kind: "ok" });
      await api("POST", "/api/failback", { force: true });
      const held = await settled("primary", "held");
      expect(held.switch_error).toMatch(/cannot fail over to eastus: the account has no secondary location .*enable geo-redundancy again, then retry_switch/);
    });

    test("not ready while the secondary is not Live or without Storage Account Contributor (named); held after one 403", async () => {
      await start(["storage_account"]);
      standIn.resources.storage.setSecondaryStatus(SAMPLE_IDS.storageAccount, "Bootstrap");
      standIn.revoke(STORAGE_ROLE);
      const ready = await api("GET", "/api/readiness");
      expect(ready.body.ready).toBe(false);
      expect(ready.body.problems.join("\n")).toMatch(/a planned failover is not possible now \(secondary Bootstrap\)/);
      expect(ready.body.problems.join("\n")).toMatch(/storageAccounts\/failover\/action .*Storage Account Contributor \(17d1049b-9a84-46fb-8f53-869881c3d3ab\)/);
      standIn.resources.storage.setSecondaryStatus(SAMPLE_IDS.storageAccount, "Live");
      backends.primary.behave({ kind: "status", status: 503 });
      const held = await settled("secondary", "held");
      expect(held.switch_error_class).toBe("forbidden");
      expect(String(held.switch_error)).toMatch(/Storage Account Contributor/);
      expect(where()).toEqual({ primary: "eastus", secondary: "westus" });
    });
  });
});
