import { request } from "node:https";
import { SAMPLE_IDS, seedSampleTargets } from "../../src/local/services/azureStandIn/sampleTargets";
import { startAzureStandIn, type AzureStandIn } from "../../src/local/services/azureStandIn/server";

/** The stand-in's REST behaviour, seen by a raw HTTPS client that trusts only the test CA. */
describe("local Azure stand-in: REST behaviour", () => {
  let standIn: AzureStandIn;
  beforeAll(async () => {
    standIn = await startAzureStandIn({ frontDoorDeploymentMs: 1000 });
    seedSampleTargets(standIn);
  });
  afterAll(() => standIn.stop());

  function send(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; token?: boolean } = {},
  ): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${standIn.endpoint}${path}`,
        { method, ca: standIn.caPem, headers: { ...(options.token === false ? {} : { authorization: "Bearer t" }), "content-type": "application/json", ...options.headers } },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => (text += c.toString()));
          res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: text ? JSON.parse(text) : undefined }));
        },
      );
      req.on("error", reject);
      req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
    });
  }
  const record = `${SAMPLE_IDS.dnsZone}/CNAME/www?api-version=2018-05-01`;

  it("serves HTTPS with a certificate for 127.0.0.1 signed by its own CA, and refuses a client that does not trust it", async () => {
    await expect(
      new Promise((resolve, reject) =>
        request(`${standIn.endpoint}/`, (res) => resolve(res.statusCode))
          .on("error", reject)
          .end(),
      ),
    ).rejects.toThrow(/self-signed|unable to verify|certificate/i);
    expect((await send("GET", `${SAMPLE_IDS.trafficManager}?api-version=2022-04-01`)).status).toBe(200);
  });

  it("needs a bearer token, the operation's api-version, and answers 404 ResourceNotFound for a missing resource", async () => {
    expect(await send("GET", `${SAMPLE_IDS.trafficManager}?api-version=2022-04-01`, { token: false })).toMatchObject({ status: 401, body: { error: { code: "AuthenticationFailed" } } });
    expect(await send("GET", `${SAMPLE_IDS.trafficManager}?api-version=2018-08-01`)).toMatchObject({
      status: 400,
      body: { error: { code: "InvalidApiVersionParameter", message: "The api-version '2018-08-01' is invalid. The supported versions are '2022-04-01'." } },
    });
    expect(await send("GET", `${SAMPLE_IDS.trafficManager}/ExternalEndpoints/nope?api-version=2022-04-01`)).toMatchObject({ status: 404, body: { error: { code: "ResourceNotFound" } } });
  });

  it("DNS record sets: ETag on read, 412 PreconditionFailed on a stale If-Match, a new ETag on each write", async () => {
    const read = await send("GET", record);
    expect(read.body).toMatchObject({ name: "www", type: "Microsoft.Network/dnszones/CNAME", properties: { TTL: 60, CNAMERecord: { cname: "app-east.example.net" } } });
    const body = { properties: { TTL: 30, CNAMERecord: { cname: "x.example.net" } } };
    expect(await send("PUT", record, { body, headers: { "if-match": "stale" } })).toMatchObject({ status: 412, body: { error: { code: "PreconditionFailed" } } });
    const written = await send("PUT", record, { body, headers: { "if-match": read.body.etag } });
    expect(written.status).toBe(200);
    expect(written.body.etag).not.toBe(read.body.etag);
    expect(await send("PUT", record, { body, headers: { "if-none-match": "*" } })).toMatchObject({ status: 412 });
  });

  it("Front Door: PATCH answers 202 with Azure-AsyncOperation; deploymentStatus progresses", async () => {
    const origin = `${SAMPLE_IDS.frontDoor}/originGroups/og-app/origins/west?api-version=2024-02-01`;
    const patched = await send("PATCH", origin, { body: { properties: { enabledState: "Enabled" } } });
    expect(patched.status).toBe(202);
    expect(String(patched.headers["azure-asyncoperation"])).toMatch(/\/providers\/Microsoft\.Cdn\/operationresults\/[0-9a-f-]+\?api-version=2024-02-01$/);
    expect((await send("GET", origin)).body.properties.deploymentStatus).toBe("NotStarted");
    const op = await send("GET", String(patched.headers["azure-asyncoperation"]).slice(standIn.endpoint.length));
    expect(op.body.status).toBe("Succeeded");
    await new Promise((r) => setTimeout(r, 1100));
    expect((await send("GET", origin)).body.properties).toMatchObject({ enabledState: "Enabled", provisioningState: "Succeeded", deploymentStatus: "Succeeded" });
  });

  it("permissions API lists the actions of the role assignments covering a scope; injected faults carry Retry-After; every request is logged", async () => {
    const perms = await send("GET", `${SAMPLE_IDS.trafficManager}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`);
    expect(perms.body.value.flatMap((p: { actions: string[] }) => p.actions)).toContain("Microsoft.Network/trafficManagerProfiles/*");
    standIn.inject({ pathIncludes: "tm-app", status: 429, retryAfterSeconds: 9 });
    const throttled = await send("GET", `${SAMPLE_IDS.trafficManager}?api-version=2022-04-01`);
    expect(throttled).toMatchObject({ status: 429, body: { error: { code: "TooManyRequests" } } });
    expect(throttled.headers["retry-after"]).toBe("9");
    expect(standIn.log.at(-1)).toMatchObject({ method: "GET", status: 429, apiVersion: "2022-04-01" });
  });

  it("App Configuration key-values: quoted ETag header, 412 on a stale If-Match, 404 for a missing key", async () => {
    const kv = await send("GET", "/kv/app:active-region?api-version=2023-11-01");
    expect(kv.body).toMatchObject({ key: "app:active-region", value: "east", label: null });
    expect(kv.headers.etag).toBe(`"${kv.body.etag}"`);
    expect((await send("PUT", "/kv/app:active-region?api-version=2023-11-01", { body: { value: "west" }, headers: { "if-match": '"stale"' } })).status).toBe(412);
    expect((await send("GET", "/kv/missing?api-version=2023-11-01")).status).toBe(404);
  });

  it("fails the way Azure fails: a lock answers 409 ScopeLocked to writes only, an update's operation can end Failed (the origin restored), a fault can hang, an empty path segment is refused", async () => {
    standIn.lock(SAMPLE_IDS.trafficManager);
    const endpoint = `${SAMPLE_IDS.trafficManager}/ExternalEndpoints/app-west?api-version=2022-04-01`;
    expect((await send("GET", endpoint)).status).toBe(200);
    expect(await send("PATCH", endpoint, { body: { properties: { endpointStatus: "Enabled" } } })).toMatchObject({
      status: 409,
      body: {
        error: { code: "ScopeLocked", message: expect.stringMatching(/cannot perform write operation because following scope\(s\) are locked: '.*tm-app'\. Please remove the lock and try again\./) },
      },
    });
    standIn.unlock(SAMPLE_IDS.trafficManager);

    const origin = `${SAMPLE_IDS.frontDoor}/originGroups/og-app/origins/east`;
    standIn.resources.failNextUpdate(origin, { code: "Conflict", message: "deployment failed" });
    const before = (await send("GET", `${origin}?api-version=2024-02-01`)).body.properties;
    const patched = await send("PATCH", `${origin}?api-version=2024-02-01`, { body: { properties: { enabledState: "Disabled" } } });
    expect(patched.body.properties).toMatchObject({ enabledState: "Disabled", provisioningState: "Updating" });
    const op = await send("GET", String(patched.headers["azure-asyncoperation"]).slice(standIn.endpoint.length));
    expect(op.body).toMatchObject({ status: "Failed", error: { code: "Conflict", message: "deployment failed" } });
    expect((await send("GET", `${origin}?api-version=2024-02-01`)).body.properties).toMatchObject({ enabledState: before.enabledState, provisioningState: "Failed" });

    standIn.inject({ method: "GET", pathIncludes: "/CNAME/www", hang: true });
    const hung = await Promise.race([send("GET", record).then(() => "answered"), new Promise((r) => setTimeout(() => r("no answer"), 300))]);
    expect(hung).toBe("no answer");
    expect((await send("GET", record.replace("/dnszones/", "//dnszones/"))).status).toBe(400);
  });

  it("DNS: a PUT replaces the whole record set (metadata included); an alias holds no records; the permissions API refuses a caller without Microsoft.Authorization read", async () => {
    const read = await send("GET", record);
    const kept = await send("PUT", record, { body: { properties: { TTL: 300, metadata: { owner: "web" }, CNAMERecord: { cname: "a.example.net" } } }, headers: { "if-match": read.body.etag } });
    expect(kept.body.properties).toMatchObject({ TTL: 300, metadata: { owner: "web" } });
    const dropped = await send("PUT", record, { body: { properties: { TTL: 60, CNAMERecord: { cname: "a.example.net" } } }, headers: { "if-match": kept.body.etag } });
    expect(dropped.body.properties.metadata).toBeUndefined();
    expect((await send("PUT", record, { body: { properties: { TTL: 60, targetResource: { id: SAMPLE_IDS.trafficManager }, CNAMERecord: { cname: "a.example.net" } } } })).status).toBe(400);
    const assignments = standIn.roleAssignments.splice(0);
    try {
      expect(await send("GET", `${SAMPLE_IDS.trafficManager}/providers/Microsoft.Authorization/permissions?api-version=2022-04-01`)).toMatchObject({
        status: 403,
        body: { error: { code: "AuthorizationFailed" } },
      });
    } finally {
      standIn.roleAssignments.push(...assignments);
    }
  });
});
