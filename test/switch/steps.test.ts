import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { verifyWebhook } from "../../src/core/webhookSignature";
import { parsePlan } from "../../src/core/switch/plan";
import { applyPlan, buildRunners, checkReadiness, detectDrift, verifyPlan } from "../../src/core/switch/runPlan";
import type { SwitchContext } from "../../src/core/switch/step";
import { SAMPLE_IDS, samplePlan, type SampleStepKind } from "../../src/local/services/azureStandIn/sampleTargets";
import { startLocalDnsServer } from "../helpers/dnsServer";
import { startSignedReceiver, standInFixture, type SignedReceiver } from "../helpers/standIn";

const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const FAILOVER: SwitchContext = { group: "state", failoverCount: 1, from: "primary", to: "secondary" };
const FAILBACK: SwitchContext = { group: "state", failoverCount: 2, from: "secondary", to: "primary" };
const TM_ROLE = "a4b10055-b0c7-44c2-b00f-c7b5b3550cf7";

describe("switch steps against the local Azure stand-in (real SDK clients over HTTPS)", () => {
  let clock = 1_800_000_000_000;
  const now = () => clock;
  const env = standInFixture({ now, frontDoorDeploymentMs: 600_000 });
  let receiver: SignedReceiver;
  beforeEach(async () => {
    receiver = await startSignedReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  const runners = (kinds: SampleStepKind[]) => buildRunners(parsePlan(JSON.stringify(samplePlan(env.standIn, kinds, receiver.url, SECRET)), "plan"), env.clients, env.session());
  const writes = () => env.standIn.writes().map((w) => `${w.method} ${w.path.split("/").slice(-1)[0]} ${JSON.stringify(w.body)}`);
  const endpoint = (name: string) => env.standIn.resources.get(`${SAMPLE_IDS.trafficManager}/ExternalEndpoints/${name}`)!.properties as Record<string, unknown>;

  it("Traffic Manager: failover enables the new side before disabling the old, one read and one write per side; a repeat writes nothing; failback mirrors it", async () => {
    const [tm] = runners(["traffic_manager"]);
    expect(await tm.actual()).toMatchObject({ side: "primary" });
    env.standIn.log.length = 0;
    expect(await tm.apply(FAILOVER)).toMatchObject({ writes: 2 });
    expect(writes()).toEqual(['PATCH app-west {"properties":{"endpointStatus":"Enabled"}}', 'PATCH app-east {"properties":{"endpointStatus":"Disabled"}}']);
    expect(env.standIn.log.filter((r) => r.method === "GET")).toHaveLength(2);
    expect(env.standIn.log.every((r) => r.apiVersion === "2022-04-01")).toBe(true);
    expect(await tm.verify(FAILOVER)).toMatchObject({ status: "verified", detail: "secondary Enabled/Online, primary Disabled" });

    env.standIn.log.length = 0;
    expect(await tm.apply(FAILOVER)).toMatchObject({ writes: 0, detail: "already secondary only" });
    expect(env.standIn.writes()).toHaveLength(0);

    expect(await tm.apply(FAILBACK)).toMatchObject({ writes: 2 });
    expect(writes()).toEqual(['PATCH app-east {"properties":{"endpointStatus":"Enabled"}}', 'PATCH app-west {"properties":{"endpointStatus":"Disabled"}}']);
    expect([endpoint("app-east").endpointStatus, endpoint("app-west").endpointStatus]).toEqual(["Enabled", "Disabled"]);
  });

  it("Traffic Manager: when enabling the new side fails, the old side is never disabled (never zero sides)", async () => {
    const [tm] = runners(["traffic_manager"]);
    env.standIn.inject({ method: "PATCH", pathIncludes: "app-west", status: 409, code: "Conflict", message: "Another operation is in progress" });
    await expect(tm.apply(FAILOVER)).rejects.toMatchObject({ errorClass: "conflict" });
    expect(endpoint("app-east").endpointStatus).toBe("Enabled");
    expect(env.standIn.writes().filter((w) => w.status < 300)).toHaveLength(0);
  });

  it("DNS: an ETag-conditional write; a 412 re-reads and decides again; already right writes nothing", async () => {
    const [dns] = runners(["dns"]);
    env.standIn.inject({ method: "PUT", pathIncludes: "/CNAME/www", status: 412, code: "PreconditionFailed", message: "The condition in the If-Match header was not satisfied." });
    const etag = (env.standIn.resources.get(`${SAMPLE_IDS.dnsZone}/CNAME/www`) as { etag: string }).etag;
    expect(await dns.apply(FAILOVER)).toMatchObject({ writes: 1, detail: "app-east.example.net (TTL 60) -> app-west.example.net (TTL 60) after 1 conflicting change(s)" });
    const puts = env.standIn.writes();
    expect(puts.map((p) => [p.status, p.ifMatch])).toEqual([
      [412, etag],
      [200, etag],
    ]);
    expect(env.standIn.log.filter((r) => r.method === "GET")).toHaveLength(2);
    expect(await dns.verify(FAILOVER)).toMatchObject({ status: "verified" });
    env.standIn.log.length = 0;
    expect(await dns.apply(FAILOVER)).toMatchObject({ writes: 0 });
    expect(env.standIn.log.map((r) => r.method)).toEqual(["GET"]);
  });

  it("Front Door: reads first, updates through the long-running operation, touches the old origin only once the new one is deployed, reports propagating until the deployment is done, never rewrites", async () => {
    const [fd] = runners(["front_door"]);
    expect(await fd.apply(FAILOVER)).toMatchObject({ writes: 1, pending: expect.stringContaining("the secondary origin west is still deploying") });
    expect(env.standIn.log.some((r) => r.path.includes("/operationresults/"))).toBe(true);
    // Until the new origin's deployment is done, an apply again writes nothing and still waits.
    clock += 300_000;
    expect(await fd.apply(FAILOVER)).toMatchObject({ writes: 0, pending: expect.stringContaining("InProgress") });
    clock += 300_000;
    expect(await fd.apply(FAILOVER)).toMatchObject({ writes: 1 });
    expect(env.standIn.writes().map((w) => `${w.path.split("/").pop()} ${JSON.stringify(w.body)} ${w.status}`)).toEqual([
      'west {"properties":{"enabledState":"Enabled"}} 202',
      'east {"properties":{"enabledState":"Disabled"}} 202',
    ]);
    expect(await fd.verify(FAILOVER)).toMatchObject({ status: "propagating" });
    clock += 600_000;
    expect(await fd.verify(FAILOVER)).toMatchObject({ status: "verified", detail: "secondary Enabled/Succeeded/Succeeded, primary Disabled/Succeeded/Succeeded" });
    env.standIn.log.length = 0;
    expect(await fd.apply(FAILOVER)).toMatchObject({ writes: 0 });
    expect(env.standIn.writes()).toHaveLength(0);
  });

  it("App Configuration: onlyIfUnchanged write of the key, then the sentinel; a repeat writes nothing", async () => {
    const [ac] = runners(["app_configuration"]);
    expect(await ac.apply(FAILOVER)).toMatchObject({ writes: 2 });
    const puts = env.standIn.writes();
    expect(puts.map((p) => [p.path, p.ifMatch])).toEqual([
      ["/kv/app:active-region", '"0000000000000000000000000000000a"'],
      ["/kv/app:sentinel", null],
    ]);
    expect(env.standIn.keyValues.get("app:sentinel\n")?.value).toBe("state:1:secondary");
    expect(await ac.verify(FAILOVER)).toMatchObject({ status: "verified" });
    env.standIn.log.length = 0;
    expect(await ac.apply(FAILOVER)).toMatchObject({ writes: 0 });
    expect(env.standIn.writes()).toHaveLength(0);
  });

  it("webhook: Standard Webhooks headers the receiver can verify, a stable id, and a non-2xx is an error", async () => {
    const [hook] = runners(["webhook"]);
    expect(await hook.apply(FAILOVER)).toMatchObject({ writes: 1, detail: "delivered state:1:secondary (HTTP 200)" });
    const delivery = receiver.received[0];
    expect(verifyWebhook(SECRET, delivery.headers as Record<string, string>, delivery.body, clock)).toBe("state:1:secondary");
    expect(JSON.parse(delivery.body)).toMatchObject({ group: "state", from: "primary", to: "secondary", failover_count: 1 });
    receiver.answers.push(503);
    await expect(hook.apply(FAILOVER)).rejects.toMatchObject({ errorClass: "server_error", message: expect.stringContaining("HTTP 503") });
  });

  it("a 5xx on the second step fails the plan there; running it again completes, and every write happened exactly once", async () => {
    const steps = runners(["traffic_manager", "dns", "webhook"]);
    env.standIn.inject({ method: "PUT", pathIncludes: "/CNAME/", status: 500, message: "Internal server error" });
    const failed = await applyPlan(steps, FAILOVER, now);
    expect(failed).toMatchObject({ outcome: "failed", failed_step: 1, error_class: "server_error" });
    expect(failed.error).toContain("step 1 (dns CNAME www.contoso.example)");
    expect(receiver.received).toHaveLength(0);
    const again = await applyPlan(steps, FAILOVER, now);
    expect(again.outcome).toBe("applied");
    expect(again.steps.map((s) => s.status)).toEqual(["unchanged", "changed", "changed"]);
    expect(
      env.standIn
        .writes()
        .filter((w) => w.status < 300)
        .map((w) => w.method),
    ).toEqual(["PATCH", "PATCH", "PUT"]);
    expect(receiver.received).toHaveLength(1);
    expect(await verifyPlan(steps, FAILOVER, now)).toMatchObject({ outcome: "verified" });
  });

  it("a 403 names the action, the scope and the role to grant; a 429 is throttled with its Retry-After", async () => {
    env.standIn.revoke(TM_ROLE);
    const forbidden = await applyPlan(runners(["traffic_manager"]), FAILOVER, now);
    expect(forbidden).toMatchObject({ outcome: "failed", error_class: "forbidden" });
    expect(forbidden.error).toMatch(/AuthorizationFailed: .*action 'Microsoft\.Network\/trafficmanagerprofiles\/ExternalEndpoints\/write' over scope '.*tm-app\/ExternalEndpoints\/app-west'/);
    expect(forbidden.error).toContain("grant Traffic Manager Contributor (a4b10055-b0c7-44c2-b00f-c7b5b3550cf7)");

    env.standIn.inject({ method: "GET", pathIncludes: "/CNAME/www", status: 429, retryAfterSeconds: 17 });
    const throttled = await applyPlan(runners(["dns"]), FAILOVER, now);
    expect(throttled).toMatchObject({ outcome: "failed", error_class: "throttled", retry_after_ms: 17_000 });
  });

  it("readiness names a missing role and a TTL over the budget without writing anything", async () => {
    const steps = runners(["traffic_manager", "dns", "front_door"]);
    expect(await checkReadiness(steps, 300)).toEqual({ ready: true, problems: [] });
    env.standIn.revoke(TM_ROLE);
    const r = await checkReadiness(steps, 45);
    expect(r.ready).toBe(false);
    expect(r.problems).toEqual([
      "step 0: traffic_manager tm-app: missing action Microsoft.Network/trafficManagerProfiles/ExternalEndpoints/write on " +
        SAMPLE_IDS.trafficManager +
        ": grant Traffic Manager Contributor (a4b10055-b0c7-44c2-b00f-c7b5b3550cf7)",
      "step 1: dns CNAME www.contoso.example: TTL 60 s exceeds the recovery-time budget (45 s)",
    ]);
    expect(env.standIn.writes()).toHaveLength(0);
  });

  it("Front Door in priority mode: promotes (and enables) the new origin before demoting the old, whose enabledState stays; drift sees a hand-made promotion", async () => {
    const plan = samplePlan(env.standIn, ["front_door"]);
    plan.steps[0].mode = "priority";
    const [fd] = buildRunners(parsePlan(JSON.stringify(plan), "plan"), env.clients, env.session());
    expect(await fd.apply(FAILOVER)).toMatchObject({ writes: 1, pending: expect.any(String) });
    clock += 600_000;
    expect(await fd.apply(FAILOVER)).toMatchObject({ writes: 1 });
    expect(env.standIn.writes().map((w) => `${w.path.split("/").pop()} ${JSON.stringify(w.body)}`)).toEqual([
      'west {"properties":{"priority":1,"enabledState":"Enabled"}}',
      'east {"properties":{"priority":2}}',
    ]);
    clock += 600_000;
    // west was seeded Disabled: promoted, it is enabled too; east keeps its enabledState as the standby.
    expect(await fd.verify(FAILOVER)).toMatchObject({ status: "verified", detail: "secondary priority 1/Succeeded/Succeeded, primary priority 2/Succeeded/Succeeded" });
    env.standIn.log.length = 0;
    expect(await fd.apply(FAILOVER)).toMatchObject({ writes: 0 });
    expect(env.standIn.writes()).toHaveLength(0);
    env.standIn.resources.edit(`${SAMPLE_IDS.frontDoor}/originGroups/og-app/origins/east`, { priority: 1 });
    expect(await detectDrift([fd], "secondary", now)).toMatchObject({ drifts: [{ step: 0, expected: "secondary", actual: "both" }] });
  });

  it("DNS with check_name_servers: verify asks the name servers (a local DNS server) and is propagating until they answer the new value", async () => {
    const dns = await startLocalDnsServer({ "www.contoso.example": { type: "CNAME", value: "app-east.example.net." } });
    try {
      const plan = samplePlan(env.standIn, ["dns"]);
      Object.assign(plan.steps[0], { check_name_servers: true, name_servers: [dns.address] });
      const [step] = buildRunners(parsePlan(JSON.stringify(plan), "plan"), env.clients, env.session());
      expect(await step.apply(FAILOVER)).toMatchObject({ writes: 1 });
      expect(await step.verify(FAILOVER)).toEqual({ status: "propagating", detail: expect.stringContaining(`name server ${dns.address} answers app-east.example.net for www.contoso.example`) });
      dns.records.set("www.contoso.example", { type: "CNAME", value: "app-west.example.net." });
      expect(await step.verify(FAILOVER)).toEqual({ status: "verified", detail: expect.stringContaining("1 name server(s) answer it") });
      expect(dns.questions).toEqual(["www.contoso.example 5", "www.contoso.example 5"]);
    } finally {
      await dns.close();
    }
  });

  it("the data-path probe: a URL whose header or body names the side; propagating while the old side answers, verified on the new one, drift when it moves back; it writes nothing", async () => {
    let serving = "east";
    const server = createServer((_req, res) => res.writeHead(200, { "x-served-by": `app-${serving}-01` }).end(`<html>region: ${serving}</html>`));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/whoami`;
    try {
      for (const header of ["x-served-by", undefined]) {
        serving = "east";
        const plan = { ...samplePlan(env.standIn, ["dns"]), data_path: { url, ...(header ? { header } : {}), primary_text: "east", secondary_text: "west" } };
        const steps = buildRunners(parsePlan(JSON.stringify(plan), "plan"), env.clients, env.session());
        expect(steps.map((s) => s.kind)).toEqual(["dns", "data_path"]);
        const applied = await applyPlan(steps, FAILOVER, now);
        expect(applied.steps.map((s) => [s.kind, s.writes])).toEqual([
          ["dns", expect.any(Number)],
          ["data_path", 0],
        ]);
        const before = await verifyPlan(steps, FAILOVER, now);
        expect(before.outcome).toBe("propagating");
        expect(before.steps[1].detail).toContain(`served by primary (${header ? "header x-served-by" : "body"} has "east"); still the old side`);
        serving = "west";
        expect(await verifyPlan(steps, FAILOVER, now)).toMatchObject({ outcome: "verified" });
        serving = "east";
        expect((await detectDrift(steps, "secondary", now)).drifts).toEqual([expect.objectContaining({ step: 1, label: expect.stringMatching(/^data_path 127\.0\.0\.1:/), actual: "primary" })]);
        env.standIn.resources.edit(`${SAMPLE_IDS.dnsZone}/CNAME/www`, { CNAMERecord: { cname: "app-east.example.net" } });
      }
      serving = "somewhere else";
      const [, probe] = buildRunners(
        parsePlan(JSON.stringify({ ...samplePlan(env.standIn, ["dns"]), data_path: { url, primary_text: "east", secondary_text: "west" } }), "plan"),
        env.clients,
        env.session(),
      );
      expect(await probe.verify(FAILOVER)).toEqual({ status: "propagating", detail: 'the body names neither "east" nor "west"; waiting for the new side' });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("drift: a hand-made change shows as the step and what differs", async () => {
    const steps = runners(["traffic_manager", "dns", "webhook"]);
    expect(await detectDrift(steps, "primary", now)).toEqual({ drifts: [], errors: [] });
    env.standIn.resources.edit(`${SAMPLE_IDS.trafficManager}/ExternalEndpoints/app-west`, { endpointStatus: "Enabled" });
    expect(await detectDrift(steps, "primary", now)).toEqual({
      drifts: [{ step: 0, label: "traffic_manager tm-app", expected: "primary", actual: "both", detail: "primary Enabled, secondary Enabled" }],
      errors: [],
    });
  });
});

describe("the webhook step under the egress policy", () => {
  const env = standInFixture({ egress: { allowPrivate: false, selfHosts: [] } });
  let receiver: SignedReceiver;
  beforeEach(async () => {
    receiver = await startSignedReceiver();
  });
  afterEach(async () => {
    await receiver.close();
  });

  it("is refused, naming the policy, when the policy does not allow its address; nothing is sent", async () => {
    const [hook] = buildRunners(parsePlan(JSON.stringify(samplePlan(env.standIn, ["webhook"], receiver.url, SECRET)), "plan"), env.clients, env.session());
    await expect(hook.apply(FAILOVER)).rejects.toMatchObject({ errorClass: "refused", message: expect.stringContaining("refused by the egress policy: 127.0.0.1 is a loopback address") });
    expect(receiver.received).toHaveLength(0);
  });
});
