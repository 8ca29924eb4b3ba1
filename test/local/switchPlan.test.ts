import { TableClient } from "@azure/data-tables";
import { PARTITION_KEY } from "../../src/core/state";
import { verifyWebhook } from "../../src/core/webhookSignature";
import { call, eventually } from "../../src/local/client";
import { standInCredential } from "../../src/local/azureStandIn/credential";
import { SAMPLE_IDS, samplePlan, seedSampleTargets, type SampleStepKind } from "../../src/local/azureStandIn/sampleTargets";
import { startAzureStandIn, type AzureStandIn } from "../../src/local/azureStandIn/server";
import { startLocalHost, type LocalHost } from "../../src/local/host";
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

  async function start(kinds: SampleStepKind[], settings: Record<string, string> = {}) {
    const env = testEnv({
      PRIMARY_ENDPOINT: backends.primary.url,
      SECONDARY_ENDPOINT: backends.secondary.url,
      CHECK_INTERVAL_SECONDS: "1",
      FAILURE_THRESHOLD: "2",
      COOLDOWN_SECONDS: "0",
      NOTIFY_WEBHOOK_URL: notifications.url,
      SWITCH_PLAN: JSON.stringify(samplePlan(standIn, kinds, receiver.url, SECRET)),
      ARM_ENDPOINT: standIn.endpoint,
      ARM_AUDIENCE: `${standIn.endpoint}/.default`,
      SWITCH_EXTRA_CA_PEM: standIn.caPem,
      ...settings,
    });
    table = TableClient.fromConnectionString(storageConnectionString(), env.FAILOVER_TABLE!, { allowInsecureConnection: true });
    historyTable = env.FAILOVER_HISTORY_TABLE!;
    host = await startLocalHost({ env, timers: false, credential: standInCredential });
    expect((await api("POST", "/api/init")).status).toBe(201);
    expect((await api("POST", "/api/start")).status).toBe(202);
    // The first cycle adopts the plan: it verifies that the world matches the row, writing nothing.
    await settled("primary");
    expect(standIn.writes()).toHaveLength(0);
  }
  const api = (method: string, path: string, body?: unknown) => call(host!.url, method, path, body);
  const row = () => table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state");
  async function settled(target: string, state = "verified") {
    return eventually(`switch_state ${state} on ${target}`, async () => {
      const r = await row();
      return r.active_target === target && r.switch_state === state ? r : undefined;
    }, 20_000);
  }
  const okWrites = () =>
    standIn.writes().filter((w) => w.status < 300).map((w) => {
      const b = w.body as { properties?: { endpointStatus?: string; enabledState?: string; CNAMERecord?: { cname?: string } }; value?: string } | undefined;
      return `${w.method} ${w.path.split("/").slice(-2).join("/")} ${JSON.stringify(b?.properties?.endpointStatus ?? b?.properties?.enabledState ?? b?.properties?.CNAMERecord?.cname ?? b?.value ?? "")}`;
    });
  const history = async () => (await api("GET", "/api/history?limit=50")).body.entries as Array<Record<string, any>>;

  test("an automatic failover moves Traffic Manager, DNS and a signed webhook, make-before-break, verified, with times on the row, the audit log and status; failback mirrors it", async () => {
    await start(["traffic_manager", "dns", "webhook"]);
    backends.primary.behave({ kind: "status", status: 503 });
    const failed = await settled("secondary");
    expect(okWrites()).toEqual([
      'PATCH ExternalEndpoints/app-west "Enabled"',
      'PATCH ExternalEndpoints/app-east "Disabled"',
      'PUT CNAME/www "app-west.example.net"',
    ]);
    expect(receiver.received).toHaveLength(1);
    expect(verifyWebhook(SECRET, receiver.received[0]!.headers as Record<string, string>, receiver.received[0]!.body, Date.now())).toBe("state:1:secondary");
    const times = ["switch_detected_utc", "switch_intent_utc", "switch_applied_utc", "switch_verified_utc"].map((f) => Date.parse(String(failed[f])));
    expect(times.every((t, i) => !Number.isNaN(t) && (i === 0 || t >= times[i - 1]!))).toBe(true);
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
    expect(okWrites()).toEqual([
      'PATCH ExternalEndpoints/app-east "Enabled"',
      'PATCH ExternalEndpoints/app-west "Disabled"',
      'PUT CNAME/www "app-east.example.net"',
    ]);
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
    if (kind === "front_door") expect(okWrites().slice(2).map((w) => w.split(" ").slice(0, 3).join(" "))).toEqual(['PATCH origins/east "Enabled"', 'PATCH origins/west "Disabled"']);
    else expect(standIn.keyValues.get("app:active-region\n")?.value).toBe("east");
  });

  test("a read that fails while verifying: later cycles only read back; one switch_applied and one switch_verified, every write once", async () => {
    await start(["traffic_manager"]);
    // Apply reads app-east once (before disabling it); the verify's read of it fails twice.
    standIn.inject({ method: "GET", pathIncludes: "ExternalEndpoints/app-east", status: 503, message: "Service Unavailable", skip: 1, times: 2 });
    backends.primary.behave({ kind: "status", status: 503 });
    const propagating = await settled("secondary", "propagating");
    expect(propagating.switch_error_class).toBe("verify_error");
    await settled("secondary");
    expect(okWrites()).toEqual(['PATCH ExternalEndpoints/app-west "Enabled"', 'PATCH ExternalEndpoints/app-east "Disabled"']);
    expect((await history()).map((e) => e.kind)).toEqual(["switch_verified", "switch_applied", "failover"]);
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

  test("a 403 names the role and scope on the row, in the audit log and in the notification; nothing on the old side is disabled", async () => {
    await start(["traffic_manager"]);
    standIn.revoke(TM_ROLE);
    backends.primary.behave({ kind: "status", status: 503 });
    const failed = await settled("secondary", "failed");
    expect(failed.switch_error_class).toBe("forbidden");
    expect(String(failed.switch_error)).toMatch(/AuthorizationFailed.*Microsoft\.Network\/trafficmanagerprofiles\/ExternalEndpoints\/write.*grant Traffic Manager Contributor \(a4b10055-b0c7-44c2-b00f-c7b5b3550cf7\) on \/subscriptions\/.*\/tm-app\/ExternalEndpoints\/app-west/);
    expect((await history()).find((e) => e.kind === "switch_failed")?.reason).toContain("grant Traffic Manager Contributor");
    const note = await eventually("the failure notification", async () => notifications.received.map((n) => JSON.parse(n.body)).find((m) => m.kind === "switch_failed"));
    expect(note.text).toContain("Traffic Manager Contributor");
    expect((standIn.resources.get(`${SAMPLE_IDS.trafficManager}/ExternalEndpoints/app-east`)!.properties as { endpointStatus: string }).endpointStatus).toBe("Enabled");
  });

  test("throttling: the next attempt waits for Retry-After", async () => {
    await start(["traffic_manager"]);
    standIn.inject({ method: "GET", pathIncludes: "app-west", status: 429, retryAfterSeconds: 7 });
    backends.primary.behave({ kind: "status", status: 503 });
    const failed = await settled("secondary", "failed");
    expect(failed.switch_error_class).toBe("throttled");
    const throttledAt = standIn.log.find((r) => r.status === 429)!.at;
    const wait = Date.parse(String(failed.switch_next_attempt_utc)) - throttledAt;
    expect(wait).toBeGreaterThanOrEqual(6500);
    await settled("secondary", "verified");
    const retried = standIn.log.filter((r) => r.path.endsWith("app-west") && r.at > throttledAt);
    expect(retried[0]!.at - throttledAt).toBeGreaterThanOrEqual(6500);
  }, 40_000);

  test("a malformed plan: a clear error naming the step and field, the row untouched, the loop still checking", async () => {
    await start(["traffic_manager"]);
    const bad = samplePlan(standIn, ["traffic_manager", "dns"]);
    (bad.steps[1] as Record<string, unknown>).zone_id = "/not/a/zone";
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
      env: testEnv({ PRIMARY_ENDPOINT: backends.primary.url, SECONDARY_ENDPOINT: backends.secondary.url, CHECK_INTERVAL_SECONDS: "1", ...settings, ARM_ENDPOINT: standIn.endpoint, ARM_AUDIENCE: `${standIn.endpoint}/.default`, SWITCH_EXTRA_CA_PEM: standIn.caPem }),
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
});
