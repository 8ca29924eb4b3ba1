import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { loadConfig } from "../../src/core/config";
import { parsePlan } from "../../src/core/switch/plan";
import { applyPlan, buildRunners, checkReadiness, verifyPlan } from "../../src/core/switch/runPlan";
import { loadPlan } from "../../src/core/switch/saga";
import { StepError, isPermanent } from "../../src/core/switch/stepErrors";
import type { SwitchContext } from "../../src/core/switch/step";
import { createTestCertificates } from "../../src/local/services/azureStandIn/certificates";
import { CUSTOM_ENDPOINT_WRITER } from "../../src/local/services/azureStandIn/roles";
import { SAMPLE_IDS, samplePlan, type SampleStepKind } from "../../src/local/services/azureStandIn/sampleTargets";
import { startLocalDnsServer } from "../helpers/dnsServer";
import { standInFixture } from "../helpers/standIn";

/**
 * The faults Azure really produces, at the level of one step against the local stand-in with
 * the real SDK clients: a long-running operation that ends Failed after a status poll errored,
 * a call that never answers, a newer decision arriving mid-apply, record sets the plan does not
 * wholly own, resource locks, a permissions API that refuses, a role scoped to one record set,
 * and an App Configuration endpoint that is not App Configuration.
 */

const FAILOVER: SwitchContext = { group: "state", failoverCount: 1, from: "primary", to: "secondary" };
const ORIGINS = { east: `${SAMPLE_IDS.frontDoor}/originGroups/og-app/origins/east`, west: `${SAMPLE_IDS.frontDoor}/originGroups/og-app/origins/west` };
const ENDPOINTS = [`${SAMPLE_IDS.trafficManager}/ExternalEndpoints/app-east`, `${SAMPLE_IDS.trafficManager}/ExternalEndpoints/app-west`];
const RECORD = `${SAMPLE_IDS.dnsZone}/CNAME/www`;
const DNS_ROLE = "befefa01-2a29-4197-83a8-272ff33ce314";

describe("switch steps under the faults Azure produces", () => {
  let clock = 1_800_000_000_000;
  const now = () => clock;
  const env = standInFixture({ now, frontDoorDeploymentMs: 600_000, frontDoorOperationMs: 30_000 });
  const runners = (kinds: SampleStepKind[], session = env.session(), edit?: (plan: ReturnType<typeof samplePlan>) => void) => {
    const plan = samplePlan(env.standIn, kinds);
    edit?.(plan);
    return buildRunners(parsePlan(JSON.stringify(plan), "plan"), env.clients, session);
  };
  const origin = (id: string) => env.standIn.resources.get(id)!.properties as Record<string, unknown>;

  test("Front Door: the new origin's update has a status poll that errors once and then ends Failed; the old origin is never touched until a retried update has deployed; no moment without an enabled origin, on the control plane or at the edge", async () => {
    // The run: the update's operation takes 30 s, its first status poll answers 500, then it ends Failed.
    env.standIn.resources.failNextUpdate(ORIGINS.west);
    env.standIn.inject({ method: "GET", pathIncludes: "/operationresults/", status: 500, message: "Internal Server Error" });
    const [fd] = runners(["front_door"]);

    // The poll failed: the outcome is unknown and the origin reads Updating: wait, the old origin untouched.
    expect(await fd.apply(FAILOVER)).toMatchObject({ writes: 1, pending: expect.stringContaining("Updating") });
    clock += 10_000;
    expect(await fd.apply(FAILOVER)).toMatchObject({ writes: 0, pending: expect.stringContaining("Updating") });
    expect(origin(ORIGINS.east)).toMatchObject({ enabledState: "Enabled" });
    // From now on each status poll finds the operation's time come (virtual time moves with the polls).
    env.standIn.onRequest = async (_method, path) => {
      if (path.includes("/operationresults/")) clock += 31_000;
    };
    clock += 30_000;
    // The operation ended Failed: the origin was restored and is written again; while it deploys, the old one is left alone.
    expect(origin(ORIGINS.west)).toMatchObject({ enabledState: "Disabled", provisioningState: "Failed" });
    expect(await fd.apply(FAILOVER)).toMatchObject({ writes: 1, pending: expect.stringContaining("still deploying") });
    clock += 300_000;
    expect(await fd.apply(FAILOVER)).toMatchObject({ writes: 0, pending: expect.any(String) });
    expect(origin(ORIGINS.east)).toMatchObject({ enabledState: "Enabled" });
    clock += 300_000;
    expect(await fd.apply(FAILOVER)).toMatchObject({ writes: 1 });
    clock += 600_000;
    expect(await fd.verify(FAILOVER)).toMatchObject({ status: "verified" });
    expect(env.standIn.writes().map((w) => `${w.path.split("/").pop()} ${JSON.stringify(w.body)}`)).toEqual([
      'west {"properties":{"enabledState":"Enabled"}}',
      'west {"properties":{"enabledState":"Enabled"}}',
      'east {"properties":{"enabledState":"Disabled"}}',
    ]);

    const ids = [ORIGINS.east, ORIGINS.west];
    expect(env.standIn.resources.serving.longestUnserved(ids, "control", clock)).toEqual({ ms: 0 });
    expect(env.standIn.resources.serving.longestUnserved(ids, "deployed", clock)).toEqual({ ms: 0 });
  });

  test("Front Door: an update whose operation ends Failed is a transient error that leaves the old origin serving", async () => {
    env.standIn.resources.failNextUpdate(ORIGINS.west);
    env.standIn.onRequest = async (_method, path) => {
      if (path.includes("/operationresults/")) clock += 31_000;
    };
    const [fd] = runners(["front_door"]);
    await expect(fd.apply(FAILOVER)).rejects.toMatchObject({ errorClass: "server_error", message: expect.stringContaining("ended Failed") });
    expect(isPermanent("server_error")).toBe(false);
    expect(origin(ORIGINS.east)).toMatchObject({ enabledState: "Enabled" });
    expect(env.standIn.writes().map((w) => w.path.split("/").pop())).toEqual(["west"]);
  });

  test("Front Door after a restart in the middle of an update: an origin that still reads Updating is waited for, never taken as done", async () => {
    const [fd] = runners(["front_door"]);
    env.standIn.resources.edit(ORIGINS.west, { enabledState: "Enabled", provisioningState: "Updating" });
    expect(await fd.apply(FAILOVER)).toMatchObject({ writes: 0, pending: expect.stringContaining("Updating") });
    expect(env.standIn.writes()).toHaveLength(0);
    expect(origin(ORIGINS.east)).toMatchObject({ enabledState: "Enabled" });
  });

  test("a write that never answers fails with class timeout at the call's deadline; the cycle makes no more calls; the ledger records it", async () => {
    env.standIn.inject({ method: "PATCH", pathIncludes: "app-west", hang: true });
    const session = env.session({ callTimeoutMs: 400 });
    const steps = runners(["traffic_manager", "dns"], session);
    const t0 = Date.now();
    const result = await applyPlan(steps, FAILOVER);
    const took = Date.now() - t0;
    expect(result).toMatchObject({ outcome: "failed", failed_step: 0, error_class: "timeout", permanent: false });
    expect(result.error).toContain("no answer within 400 ms");
    expect(took).toBeLessThan(3000);
    expect(session.stopped).toContain("an earlier call of this cycle timed out");
    // The DNS step was not asked, and a verify in the same cycle is not attempted either.
    expect(env.standIn.log.some((r) => r.path.includes("/CNAME/"))).toBe(false);
    const verified = await verifyPlan(steps, FAILOVER);
    expect(verified.steps.map((s) => s.detail)).toEqual([expect.stringContaining("not attempted"), expect.stringContaining("not attempted")]);
    expect(session.ledger).toEqual([
      expect.objectContaining({ method: "PATCH", resource: "trafficManagerProfiles/tm-app/ExternalEndpoints/app-west", change: "Disabled -> Enabled", result: "timeout", intent: "test-intent" }),
    ]);
    expect(env.standIn.resources.serving.longestUnserved(ENDPOINTS, "control", Date.now())).toEqual({ ms: 0 });
  });

  test("the cycle's budget: once spent, no call starts", async () => {
    const session = env.session({ budgetMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    const result = await applyPlan(runners(["traffic_manager"], session), FAILOVER);
    expect(result).toMatchObject({ outcome: "failed", error_class: "timeout" });
    expect(result.error).toContain("budget");
    expect(env.standIn.log).toHaveLength(0);
  });

  test("fencing: when the row names a newer intent between two writes, the apply stops before disabling anything, and its one write is in the ledger", async () => {
    let checks = 0;
    const session = env.session({
      fence: async () => {
        if (++checks > 1) throw new StepError("superseded", "superseded: the row now says primary");
      },
    });
    const result = await applyPlan(runners(["traffic_manager", "dns"], session), FAILOVER);
    expect(result).toMatchObject({ outcome: "superseded" });
    expect(env.standIn.writes().map((w) => w.path.split("/").pop())).toEqual(["app-west"]);
    expect((env.standIn.resources.get(ENDPOINTS[0])!.properties as { endpointStatus: string }).endpointStatus).toBe("Enabled");
    expect(session.ledger.map((e) => `${e.method} ${e.resource} ${e.change} ${e.result}`)).toEqual(["PATCH trafficManagerProfiles/tm-app/ExternalEndpoints/app-west Disabled -> Enabled ok (Enabled)"]);
  });

  describe("DNS changes only what the plan owns", () => {
    const put = () =>
      env.standIn
        .writes()
        .filter((w) => w.method === "PUT")
        .map((w) => (w.body as { properties: Record<string, unknown> }).properties);

    test("metadata and a TTL the plan does not set survive a switch; a TTL the plan sets is applied", async () => {
      env.standIn.resources.addRecordSet(SAMPLE_IDS.dnsZone, "CNAME", "www", 300, "app-east.example.net", { metadata: { owner: "team-web", ticket: "CHG-42" } });
      const [dns] = runners(["dns"], env.session(), (p) => delete p.steps[0].ttl);
      expect(await dns.apply(FAILOVER)).toMatchObject({ writes: 1 });
      expect(put()).toEqual([{ TTL: 300, metadata: { owner: "team-web", ticket: "CHG-42" }, CNAMERecord: { cname: "app-west.example.net" } }]);
      expect(env.standIn.resources.get(RECORD)!.properties).toMatchObject({ TTL: 300, metadata: { owner: "team-web", ticket: "CHG-42" } });

      const [owned] = runners(["dns"], env.session(), (p) => Object.assign(p.steps[0], { ttl: 30 }));
      expect(await owned.apply(FAILOVER)).toMatchObject({ writes: 1 });
      expect(env.standIn.resources.get(RECORD)!.properties).toMatchObject({ TTL: 30, metadata: { owner: "team-web", ticket: "CHG-42" }, CNAMERecord: { cname: "app-west.example.net" } });
    });

    test("an alias record set is refused (permanent), never cleared; readiness names it", async () => {
      const alias = `${SAMPLE_IDS.trafficManager}`;
      env.standIn.resources.addRecordSet(SAMPLE_IDS.dnsZone, "CNAME", "www", 60, [], { targetResource: alias });
      const [dns] = runners(["dns"]);
      await expect(dns.apply(FAILOVER)).rejects.toMatchObject({ errorClass: "refused", message: expect.stringContaining(`is an alias of ${alias}`) });
      expect(isPermanent("refused")).toBe(true);
      expect(env.standIn.writes()).toHaveLength(0);
      expect(env.standIn.resources.get(RECORD)!.properties).toMatchObject({ targetResource: { id: alias } });
      expect((await checkReadiness([dns])).problems).toEqual([expect.stringContaining("is an alias of")]);
    });

    test("an A record set with two addresses, one of them the plan's: adopting writes nothing; a switch replaces only the owned address", async () => {
      env.standIn.resources.addRecordSet(SAMPLE_IDS.dnsZone, "A", "api", 120, ["10.0.0.1", "10.9.9.9"], { metadata: { pool: "blue" } });
      const [dns] = runners(["dns"], env.session(), (p) => Object.assign(p.steps[0], { record_name: "api", record_type: "A", primary_value: "10.0.0.1", secondary_value: "10.0.0.2", ttl: undefined }));
      expect(await dns.actual()).toMatchObject({ side: "primary" });
      expect(await dns.verify({ ...FAILOVER, to: "primary", from: "secondary" })).toMatchObject({ status: "verified" });
      expect(await dns.apply({ ...FAILOVER, to: "primary", from: "secondary" })).toMatchObject({ writes: 0 });
      expect(env.standIn.writes()).toHaveLength(0);
      expect(await dns.apply(FAILOVER)).toMatchObject({ writes: 1 });
      expect(put()).toEqual([{ TTL: 120, metadata: { pool: "blue" }, ARecords: [{ ipv4Address: "10.0.0.2" }, { ipv4Address: "10.9.9.9" }] }]);
      expect(await dns.verify(FAILOVER)).toMatchObject({ status: "verified" });
    });
  });

  test("a resource lock is permanent: 409 ScopeLocked is classified locked after one write attempt on Traffic Manager and one on DNS", async () => {
    env.standIn.lock(SAMPLE_IDS.trafficManager);
    env.standIn.lock(SAMPLE_IDS.dnsZone);
    const tm = await applyPlan(runners(["traffic_manager"]), FAILOVER);
    expect(tm).toMatchObject({ outcome: "failed", error_class: "locked", permanent: true });
    expect(tm.error).toContain("cannot perform write operation because following scope(s) are locked");
    const dns = await applyPlan(runners(["dns"]), FAILOVER);
    expect(dns).toMatchObject({ outcome: "failed", error_class: "locked", permanent: true });
    expect(env.standIn.writes().map((w) => `${w.method} ${w.status}`)).toEqual(["PATCH 409", "PUT 409"]);
  });

  test("readiness names the role to grant when the permissions API itself refuses (a custom role without Microsoft.Authorization read)", async () => {
    env.standIn.roleAssignments.length = 0;
    env.standIn.roleAssignments.push({ roleDefinitionId: CUSTOM_ENDPOINT_WRITER, scope: SAMPLE_IDS.trafficManager });
    const result = await checkReadiness(runners(["traffic_manager"]));
    expect(result.problems).toEqual([
      expect.stringMatching(
        /cannot read permissions on .*tm-app: HTTP 403 AuthorizationFailed: .*Microsoft\.Authorization\/permissions\/read.*: grant Traffic Manager Contributor \(a4b10055-b0c7-44c2-b00f-c7b5b3550cf7\) on .*tm-app/,
      ),
    ]);
  });

  test("the permissions check asks on the resource's own ID, with no empty path segment for a top-level resource", async () => {
    await checkReadiness(runners(["traffic_manager", "front_door"]));
    const asked = env.standIn.log.filter((r) => r.path.endsWith("/providers/Microsoft.Authorization/permissions")).map((r) => [r.path, r.status]);
    expect(asked).toEqual([
      [`${SAMPLE_IDS.trafficManager}/providers/Microsoft.Authorization/permissions`, 200],
      [`${SAMPLE_IDS.frontDoor}/providers/Microsoft.Authorization/permissions`, 200],
    ]);
  });

  test("DNS Zone Contributor on one record set (the narrowest scope) is enough for readiness, the switch and a name-server check with name_servers in the plan; without them, readiness and verify say what is skipped", async () => {
    env.standIn.roleAssignments.length = 0;
    env.standIn.roleAssignments.push({ roleDefinitionId: DNS_ROLE, scope: RECORD });
    const ns = await startLocalDnsServer({ "www.contoso.example": { type: "CNAME", value: "app-west.example.net." } });
    try {
      const [dns] = runners(["dns"], env.session(), (p) => Object.assign(p.steps[0], { check_name_servers: true, name_servers: [ns.address] }));
      expect(await checkReadiness([dns])).toEqual({ ready: true, problems: [] });
      expect(await dns.apply(FAILOVER)).toMatchObject({ writes: 1 });
      expect(await dns.verify(FAILOVER)).toMatchObject({ status: "verified", detail: expect.stringContaining("1 name server(s) answer it") });

      const [bare] = runners(["dns"], env.session(), (p) => Object.assign(p.steps[0], { check_name_servers: true }));
      expect((await checkReadiness([bare])).problems).toEqual([expect.stringContaining("check_name_servers needs the zone's name servers, which cannot be read")]);
      expect(await bare.verify(FAILOVER)).toMatchObject({ status: "verified", detail: expect.stringContaining("name servers NOT asked") });
      expect(env.standIn.writes().filter((w) => w.status < 300)).toHaveLength(1);
    } finally {
      await ns.close();
    }
  });

  test("an App Configuration endpoint that is no App Configuration store of this cloud: the plan is refused by name, the client is never made, no token leaves", async () => {
    const certs = createTestCertificates();
    const seen: string[] = [];
    const trap = createServer({ cert: certs.certPem, key: certs.keyPem }, (req, res) => {
      seen.push(String(req.headers.authorization));
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve));
    const trapUrl = `https://localhost:${(trap.address() as AddressInfo).port}`;
    try {
      for (const endpoint of [trapUrl, "https://169.254.169.254", "https://appcs.azconfig.io.evil.example"]) {
        const plan = { steps: [{ ...samplePlan(env.standIn, ["app_configuration"]).steps[0], endpoint }] };
        const config = loadConfig({ AzureWebJobsStorage: "UseDevelopmentStorage=true", SWITCH_PLAN: JSON.stringify(plan) });
        expect(() => loadPlan({}, "state", config)).toThrow(
          /step 0 \(app_configuration\): endpoint: host .* is not an App Configuration store of this cloud \(allowed: \*\.azconfig\.io; add it to APP_CONFIGURATION_ALLOWED_HOSTS/,
        );
        const [step] = buildRunners(parsePlan(JSON.stringify(plan), "plan"), env.clients, env.session());
        expect(await checkReadiness([step])).toMatchObject({ ready: false, problems: [expect.stringContaining("is not an App Configuration store of this cloud")] });
        await expect(applyPlan([step], FAILOVER)).resolves.toMatchObject({ outcome: "failed", error_class: "refused", permanent: true });
      }
      expect(seen).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => trap.close(() => resolve()));
    }
  });
});

describe("the switch clients under the egress policy", () => {
  const env = standInFixture({ egress: { allowPrivate: false, selfHosts: [] } });

  test("an ARM endpoint on a refused address is never connected to: the step fails refused, nothing reaches the stand-in", async () => {
    const [tm] = buildRunners(parsePlan(JSON.stringify(samplePlan(env.standIn, ["traffic_manager"])), "plan"), env.clients, env.session());
    await expect(tm.actual()).rejects.toMatchObject({ errorClass: "refused", message: expect.stringContaining("127.0.0.1 is a loopback address") });
    expect(env.standIn.log).toHaveLength(0);
  });
});
