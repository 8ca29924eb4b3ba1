import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/main";
import { call } from "../../src/local/tools/client";
import { standInCredential } from "../../src/local/services/azureStandIn/credential";
import { samplePlan, seedSampleTargets } from "../../src/local/services/azureStandIn/sampleTargets";
import { startAzureStandIn, type AzureStandIn } from "../../src/local/services/azureStandIn/server";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { testEnv } from "../helpers/env";

/**
 * GET, PUT and DELETE /api/plan and init with a plan, over HTTP on the local host against the
 * Azure stand-in, and the `failover plan` commands over them. Every answer is also checked
 * against the OpenAPI document by the test setup (a status it does not list fails the test).
 */
describe("switch plans over HTTP and the CLI", () => {
  let standIn: AzureStandIn;
  let host: LocalHost;
  const TM_ROLE = "a4b10055-b0c7-44c2-b00f-c7b5b3550cf7";

  beforeAll(async () => {
    standIn = await startAzureStandIn();
    seedSampleTargets(standIn);
    const env = testEnv({ PRIMARY_ENDPOINT: "http://127.0.0.1:9/p", SECONDARY_ENDPOINT: "http://127.0.0.1:9/s", ...standIn.appSettings() });
    host = await startLocalHost({ env, timers: false, credential: standInCredential });
  });
  afterAll(async () => {
    await host.stop();
    await standIn.stop();
  });

  async function send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${host.url}${path}`, { method, headers: { "content-type": "application/json", ...headers }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    const text = await response.text();
    return { status: response.status, body: text === "" ? undefined : JSON.parse(text) };
  }
  const kinds = async (group: string) => ((await call(host.url, "GET", `/api/history?group=${group}`)).body.entries as Array<{ kind: string }>).map((e) => e.kind);

  test("init with a plan stores it and answers its readiness; GET reads it with the row's ETag; init of an existing row leaves its plan alone", async () => {
    const plan = samplePlan(standIn, ["dns"]);
    const init = await call(host.url, "POST", "/api/init?group=payments", { primary_endpoint: "http://127.0.0.1:9/p2", secondary_endpoint: "http://127.0.0.1:9/s2", switch_plan: plan });
    expect(init).toMatchObject({ status: 201, body: { readiness: { ready: true, problems: [] } } });
    const read = await call(host.url, "GET", "/api/plan?group=payments");
    expect(read).toMatchObject({
      status: 200,
      body: { group: "payments", source: "switch_plan", plan: { steps: [{ kind: "dns" }], on_failure: "hold" }, etag: expect.any(String), readiness: { ready: true } },
    });
    const again = await call(host.url, "POST", "/api/init?group=payments", {
      primary_endpoint: "http://127.0.0.1:9/p2",
      secondary_endpoint: "http://127.0.0.1:9/s2",
      switch_plan: samplePlan(standIn, ["traffic_manager"]),
    });
    expect(again.status).toBe(200);
    expect((await call(host.url, "GET", "/api/plan?group=payments")).body.plan.generation).toBe(read.body.plan.generation);
    // A malformed plan at init is refused naming the field, and no row is created.
    const bad = await call(host.url, "POST", "/api/init?group=orders", { primary_endpoint: "http://127.0.0.1:9/p3", secondary_endpoint: "http://127.0.0.1:9/s3", switch_plan: { steps: [] } });
    expect(bad).toMatchObject({ status: 400, body: { error: "invalid_request", message: expect.stringContaining("switch_plan.steps: a plan needs at least one step") } });
    expect((await call(host.url, "GET", "/api/plan?group=orders")).status).toBe(404);
  });

  test("PUT sets a plan on the current ETag, refuses a stale one with 412 and a malformed plan with 400 naming the step's field; DELETE removes it; each change is audited", async () => {
    const before = (await call(host.url, "GET", "/api/plan?group=payments")).body;
    const set = await send("PUT", "/api/plan?group=payments", { plan: samplePlan(standIn, ["traffic_manager", "dns"]), reason: "add TM" }, { "if-match": before.etag });
    expect(set).toMatchObject({ status: 200, body: { changed: true, plan: { steps: [{ kind: "traffic_manager" }, { kind: "dns" }] }, readiness: { ready: true } } });
    const stale = await send("PUT", "/api/plan?group=payments", { plan: samplePlan(standIn, ["dns"]) }, { "if-match": before.etag });
    expect(stale).toMatchObject({ status: 412, body: { error: "precondition_failed", message: expect.stringContaining("changed since you read it") } });
    const malformed = samplePlan(standIn, ["dns"]);
    malformed.steps[0].zone_id = "/not/a/zone";
    expect(await send("PUT", "/api/plan?group=payments", { plan: malformed })).toMatchObject({
      status: 400,
      body: { issues: [{ path: "plan.steps.0.zone_id", message: expect.stringContaining("must be a resource ID") }] },
    });
    expect(await send("PUT", "/api/plan?group=payments", { plan: samplePlan(standIn, ["dns"]), extra: 1 })).toMatchObject({ status: 400, body: { error: "invalid_request" } });
    expect(await send("PUT", "/api/plan?group=payments&Group=x", { plan: samplePlan(standIn, ["dns"]) })).toMatchObject({ status: 400, body: { issues: [{ path: "Group" }] } });
    expect(await send("PUT", "/api/plan?group=payments", { plan: samplePlan(standIn, ["dns"]) }, { "if-match": "x".repeat(300) })).toMatchObject({
      status: 400,
      body: { issues: [{ path: "If-Match" }] },
    });
    expect((await call(host.url, "GET", "/api/plan?group=payments")).body.plan.generation).toBe(set.body.plan.generation);

    const removed = await send("DELETE", "/api/plan?group=payments", { reason: "decommission" });
    expect(removed).toMatchObject({ status: 200, body: { changed: true, source: "none", plan: null } });
    expect(await send("DELETE", "/api/plan?group=payments", {})).toMatchObject({ status: 200, body: { changed: false } });
    expect(await kinds("payments")).toEqual(["plan_changed", "plan_changed"]);
    // Nothing was switched: setting and removing a plan reads the world, never writes it.
    expect(standIn.writes()).toEqual([]);
  });

  test("failover plan show, set (with --if-match), check and remove", async () => {
    const out: string[] = [];
    const cli = async (...args: string[]) => {
      out.length = 0;
      const code = await runCli(args, { out: (s) => out.push(s), err: (s) => out.push(s), env: { FAILOVER_URL: host.url }, sleep: async () => undefined });
      return { code, out: out.join("\n") };
    };
    const dir = mkdtempSync(join(tmpdir(), "plan-"));
    const file = join(dir, "plan.json");
    writeFileSync(file, JSON.stringify(samplePlan(standIn, ["traffic_manager"])));

    expect(await cli("plan", "show", "-g", "payments")).toMatchObject({ code: 0, out: expect.stringMatching(/^group payments: no switch plan \(a switch moves the row only\) · etag \S+$/) });
    const etag = JSON.parse((await cli("plan", "show", "-g", "payments", "--json")).out).etag as string;
    expect(await cli("plan", "set", "-g", "payments", "--file", file, "--if-match", etag, "--reason", "go live")).toMatchObject({
      code: 0,
      out: expect.stringMatching(/^plan set: group payments: plan [0-9a-f]{12} from switch_plan \(on failure: hold\) · READY · etag \S+\n {2}step 0 traffic_manager /),
    });
    expect(await cli("plan", "set", "-g", "payments", "--file", file, "--if-match", etag, "--reason", "again")).toMatchObject({ code: 1, out: expect.stringContaining("changed since you read it") });
    expect(await cli("plan", "set", "-g", "payments", "--file", join(dir, "none.json"), "--reason", "x")).toMatchObject({ code: 1, out: expect.stringContaining("no such file") });

    expect(await cli("plan", "check", "-g", "payments")).toMatchObject({ code: 0, out: expect.stringMatching(/^READY \(plan [0-9a-f]{12}\)$/) });
    standIn.revoke(TM_ROLE);
    const check = await cli("plan", "check", "-g", "payments");
    expect(check).toMatchObject({ code: 2, out: expect.stringContaining("NOT READY") });
    expect(check.out).toMatch(/grant Traffic Manager Contributor/);

    expect(await cli("plan", "remove", "-g", "payments", "--reason", "done")).toMatchObject({ code: 0, out: expect.stringMatching(/^plan removed: group payments: no switch plan/) });
    expect(await cli("plan", "check", "-g", "payments")).toMatchObject({ code: 0, out: "no switch plan" });
  });
});
