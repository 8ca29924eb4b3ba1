import { loadConfig } from "../../src/core/config";
import { evaluateCheck } from "../../src/core/policy";
import { healthCheck, switchTarget } from "../../src/core/operations";
import { policySchema, defaultPolicyText } from "../../src/core/knobs";
import { initialState, type FailoverState } from "../../src/core/state";
import { createAgentCaller, judge, quorumOf, type Vote } from "../../src/core/vantage";
import { lyingProbe, partitionedProbe } from "../../src/local/services/vantageFaults";
import { httpProbe, type ProbeOptions } from "../../src/core/probe";
import { backendPair } from "../helpers/backends";
import { bootstrappedGroup, storageConnectionString, testEnv, uniqueTable } from "../helpers/env";
import { AGENT_TEST_KEY, startTestAgent, type TestAgent } from "../helpers/vantageAgents";

const up = (vantage: string): Vote => ({ vantage, healthy: true, latency_ms: 5, status_code: 200 });
const down = (vantage: string): Vote => ({ vantage, healthy: false, latency_ms: 5, error_class: "timeout", error: "no complete answer" });
const silent = (vantage: string): Vote => ({ vantage, latency_ms: 4000, error_class: "agent_timeout", error: "no answer within 4000 ms" });

describe("the quorum", () => {
  test("a majority by default; the knob sets it", () => {
    expect([1, 2, 3, 4, 5].map((n) => quorumOf(0, n))).toEqual([1, 2, 2, 3, 3]);
    expect(quorumOf(3, 5)).toBe(3);
    // More than there are vantages: all of them, not a quorum that could never be reached.
    expect(quorumOf(4, 2)).toBe(2);
    expect(quorumOf(2, 1)).toBe(1);
  });

  test("unhealthy when the quorum saw it down; inconclusive when fewer voted than the quorum; healthy otherwise", () => {
    expect(judge("u", [down("a"), down("b"), up("c")], 2).verdict).toBe("unhealthy");
    expect(judge("u", [down("a"), up("b"), up("c")], 2).verdict).toBe("healthy");
    // A vantage partitioned from the endpoint is outvoted.
    expect(judge("u", [down("a"), up("b"), silent("c")], 2).verdict).toBe("healthy");
    // Only one vote, quorum 2: it counts neither way, whatever it says.
    const lonely = judge("u", [down("a"), silent("b"), silent("c")], 2);
    expect(lonely.verdict).toBe("inconclusive");
    expect(lonely.probe).toMatchObject({ healthy: false, error_class: "inconclusive" });
    expect(lonely.probe.error).toContain("1 voted (quorum 2)");
    expect(judge("u", [up("a"), silent("b"), silent("c")], 2).verdict).toBe("inconclusive");
    const failed = judge("u", [down("a"), down("b"), up("c")], 2);
    expect(failed.probe).toMatchObject({ healthy: false, error_class: "timeout" });
    expect(failed.probe.error).toBe("2 of 3 vantages saw it unhealthy, 3 voted (quorum 2): a down (timeout), b down (timeout), c up");
  });

  test("one vantage: the verdict is its own probe, as before vantages existed", () => {
    const own = { url: "u", healthy: false, latency_ms: 7, error_class: "refused" as const, error: "connection refused", body_bytes_read: 0 };
    expect(judge("u", [down("controller")], 1, own).probe).toBe(own);
  });
});

describe("an inconclusive check in the policy", () => {
  const policy = policySchema.parse({ ...defaultPolicyText(), failure_threshold: "2" });
  const inconclusive = { url: "u", healthy: false, latency_ms: 1, error_class: "inconclusive" as const, error: "0 of 3 vantages saw it unhealthy, 1 voted (quorum 2)", body_bytes_read: 0 };
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

  test("counts neither way: the failure streak stays, no failover; a run of threshold is reported once", () => {
    let s: FailoverState = { ...initialState("https://p.example/h", "https://s.example/h"), consecutive_failures: 1, unhealthy_since_utc: at(0).toISOString() };
    const first = evaluateCheck(s, { active: inconclusive }, policy, at(30), at(30).toISOString());
    expect(first.next).toMatchObject({ consecutive_failures: 1, unhealthy_since_utc: at(0).toISOString(), last_status: "INCONCLUSIVE", inconclusive_checks: 1 });
    expect(first.recommendation).toBe("none");
    expect(first.transitions).toEqual([]);
    s = first.next;
    const second = evaluateCheck(s, { active: inconclusive }, policy, at(60), at(60).toISOString());
    expect(second.next.inconclusive_checks).toBe(2);
    expect(second.transitions.map((t) => t.kind)).toEqual(["checks_inconclusive"]);
    expect(second.recommendation).toBe("none");
    const third = evaluateCheck(second.next, { active: inconclusive }, policy, at(90), at(90).toISOString());
    expect(third.transitions).toEqual([]);
    // A conclusive check ends the run and counts again.
    const failed = evaluateCheck(third.next, { active: { ...inconclusive, error_class: "timeout" } }, policy, at(120), at(120).toISOString());
    expect(failed.next).toMatchObject({ inconclusive_checks: 0, consecutive_failures: 2, last_status: "UNHEALTHY" });
    expect(failed.recommendation).toBe("failover");
  });

  test("an inconclusive standby keeps its streak and its last known health", () => {
    const s = { ...initialState("https://p.example/h", "https://s.example/h"), secondary_healthy: true, standby_consecutive_failures: 1 };
    const healthy = { url: "p", healthy: true, latency_ms: 1, body_bytes_read: 0 };
    const next = evaluateCheck(s, { active: healthy, standby: { ...inconclusive, url: "s" } }, policy, at(30), at(30).toISOString()).next;
    expect(next).toMatchObject({ secondary_healthy: true, standby_consecutive_failures: 1, standby_checked_utc: at(30).toISOString() });
  });
});

describe("VANTAGE_AGENTS and the knobs", () => {
  const env = (extra: Record<string, string>) => ({ AzureWebJobsStorage: "UseDevelopmentStorage=true", ...extra });
  const agents = (list: unknown) => JSON.stringify(list);

  test("read with the key or the audience; each bad entry named", () => {
    const config = loadConfig(
      env({ VANTAGE_AGENTS: agents([{ name: "westeurope", url: "https://a.example/api/probe", region: "westeurope" }]), VANTAGE_AGENT_AUDIENCE: "api://agents", REGION_NAME: "North Europe" }),
    );
    expect(config.vantages).toEqual({ agents: [{ name: "westeurope", url: "https://a.example/api/probe", region: "westeurope" }], audience: "api://agents", region: "northeurope" });
    const bad = (value: string, extra: Record<string, string> = { VANTAGE_AGENT_KEY: "k".repeat(20) }) => {
      try {
        loadConfig(env({ VANTAGE_AGENTS: value, ...extra }));
      } catch (err) {
        return (err as Error).message;
      }
      return "accepted";
    };
    expect(bad("[{")).toMatch(/VANTAGE_AGENTS.*JSON array/);
    expect(bad(agents([{ name: "a", url: "http://agent.example/api/probe" }]))).toMatch(/VANTAGE_AGENTS\[0\]\.url: must be an absolute https:\/\/ URL/);
    expect(bad(agents([{ name: "a", url: "http://127.0.0.1:7071/api/probe" }]))).toBe("accepted");
    expect(bad(agents([{ name: "controller", url: "https://a.example/p" }]))).toMatch(/names the controller's own probe/);
    expect(
      bad(
        agents([
          { name: "a", url: "https://a.example/p" },
          { name: "a", url: "https://b.example/p" },
        ]),
      ),
    ).toMatch(/names must be unique/);
    expect(bad(agents([{ name: "a", url: "https://a.example/p", extra: 1 }]))).toMatch(/extra/);
    expect(bad(agents([{ name: "a", url: "https://a.example/p" }]), {})).toMatch(/neither VANTAGE_AGENT_AUDIENCE .* nor VANTAGE_AGENT_KEY/);
  });

  test("the vantages knob: all, or names; the quorum at most 16", () => {
    const parse = (extra: Record<string, string>) => policySchema.safeParse({ ...defaultPolicyText(), ...extra });
    expect(parse({ vantages: " Controller, westeurope,westeurope" }).data?.vantages).toBe("controller,westeurope");
    expect(parse({ vantages: "all" }).data?.vantages).toBe("all");
    expect(parse({ vantages: "west europe" }).success).toBe(false);
    expect(parse({ quorum: "17" }).success).toBe(false);
  });
});

describe("vantage agents on Azurite and real HTTP", () => {
  const backends = backendPair();
  // Each group gets its own state table: the agents list the endpoints of that table.
  let tableName = uniqueTable("state");
  const started: TestAgent[] = [];
  const primaryHost = () => new URL(backends.primary.url).host;

  beforeEach(() => {
    tableName = uniqueTable("state");
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((a) => a.close()));
  });

  async function agent(name: string, options: { probe?: Parameters<typeof startTestAgent>[0]["probe"]; hang?: boolean } = {}) {
    const a = await startTestAgent({ name, region: name, tableName, ...options });
    started.push(a);
    return a.agent;
  }

  async function group(agents: object[], settings: Record<string, string> = {}) {
    return bootstrappedGroup({
      FAILOVER_TABLE: tableName,
      FAILOVER_HISTORY_TABLE: uniqueTable("history"),
      PRIMARY_ENDPOINT: backends.primary.url,
      SECONDARY_ENDPOINT: backends.secondary.url,
      FAILURE_THRESHOLD: "2",
      VANTAGE_AGENTS: JSON.stringify(agents),
      VANTAGE_AGENT_KEY: AGENT_TEST_KEY,
      ...settings,
    });
  }

  test("one vantage partitioned from the primary: no failover, and its vote shows it", async () => {
    const cut = await agent("westeurope", { probe: partitionedProbe(httpProbe, () => [primaryHost()]) });
    const fine = await agent("eastus");
    const { deps, clock, row } = await group([cut, fine]);
    for (let i = 0; i < 3; i++) {
      clock.advance(30);
      const check = await healthCheck(deps, "state", clock.now().toISOString());
      expect(check).toMatchObject({ healthy: true, recommendation: "none" });
      expect(check.votes?.map((v) => [v.vantage, v.healthy])).toEqual([
        ["controller", true],
        ["westeurope", false],
        ["eastus", true],
      ]);
    }
    const stored = await row();
    expect(stored).toMatchObject({ consecutive_failures: 0, last_status: "OK", failover_count: 0 });
    expect(JSON.parse(String(stored.last_votes))[1]).toMatchObject({ vantage: "westeurope", region: "westeurope", healthy: false, error_class: "network" });
    // The standby was judged by the three as well.
    expect(JSON.parse(String(stored.standby_votes))).toHaveLength(3);
  });

  test("the primary down from everywhere: a failover after the threshold whose audit names the votes; the standby verified by the quorum", async () => {
    const { deps, clock } = await group([await agent("westeurope"), await agent("eastus")]);
    backends.primary.behave({ kind: "status", status: 503 });
    clock.advance(30);
    await healthCheck(deps, "state", clock.now().toISOString());
    clock.advance(30);
    const check = await healthCheck(deps, "state", clock.now().toISOString());
    expect(check).toMatchObject({ recommendation: "failover", error_class: "http_status" });
    expect(check.reason).toContain("votes: controller down (http_status), westeurope down (http_status), eastus down (http_status)");
    const switched = await switchTarget(deps, "state", { expected_from: "primary", automatic: true, reason: check.reason, actor: "orchestrator" });
    expect(switched).toMatchObject({ changed: true, active_target: "secondary" });
    const entries = (await deps.audit.list("state", 5)).entries;
    expect(entries.find((e) => e.kind === "failover")?.reason).toContain("westeurope down (http_status)");
  });

  test("a lying vantage cannot fail the group over alone, nor stop a failover the others see", async () => {
    const liar = await agent("liar", { probe: lyingProbe(false) });
    const honest = await agent("eastus");
    const { deps, clock } = await group([liar, honest]);
    for (let i = 0; i < 3; i++) {
      clock.advance(30);
      expect(await healthCheck(deps, "state", clock.now().toISOString())).toMatchObject({ healthy: true, recommendation: "none", consecutive_failures: 0 });
    }
    await Promise.all(started.splice(0).map((a) => a.close()));
    tableName = uniqueTable("state");
    const optimist = await agent("optimist", { probe: lyingProbe(true) });
    const other = await agent("westus");
    const second = await group([optimist, other]);
    backends.primary.behave({ kind: "status", status: 500 });
    second.clock.advance(30);
    await healthCheck(second.deps, "state", second.clock.now().toISOString());
    second.clock.advance(30);
    expect(await healthCheck(second.deps, "state", second.clock.now().toISOString())).toMatchObject({ recommendation: "failover" });
  });

  test("agents that do not answer cast no vote: the check is inconclusive and never counts, and a run of them is reported", async () => {
    const hung = await agent("hung", { hang: true });
    const gone = await agent("gone");
    await started.pop()!.close();
    const { deps, clock, row } = await group([hung, gone], { PROBE_TIMEOUT_MS: "200" });
    backends.primary.behave({ kind: "status", status: 503 });
    for (let i = 0; i < 2; i++) {
      clock.advance(30);
      const check = await healthCheck(deps, "state", clock.now().toISOString());
      expect(check).toMatchObject({ healthy: false, error_class: "inconclusive", recommendation: "none", consecutive_failures: 0, inconclusive_checks: i + 1 });
      expect(check.votes?.map((v) => [v.vantage, v.error_class])).toEqual([
        ["controller", "http_status"],
        ["hung", "agent_timeout"],
        ["gone", "agent_unreachable"],
      ]);
    }
    const stored = await row();
    expect(stored).toMatchObject({ last_status: "INCONCLUSIVE", consecutive_failures: 0, failover_count: 0 });
    const entries = (await deps.audit.list("state", 5)).entries;
    expect(entries.map((e) => e.kind)).toContain("checks_inconclusive");
  });

  test("an agent probes only registered endpoints, for the controller only", async () => {
    const a = await agent("westeurope");
    await group([a]);
    const options: ProbeOptions = { timeoutMs: 1000, expectedStatus: [{ min: 200, max: 299 }], maxBodyBytes: 1024, followRedirects: false };
    const call = createAgentCaller({ key: AGENT_TEST_KEY });
    expect(await call(a, backends.primary.url, options)).toMatchObject({ vantage: "westeurope", region: "westeurope", healthy: true, status_code: 200 });
    // Not an endpoint of any group: refused, no vote.
    const refused = await call(a, "http://127.0.0.1:9/other", options);
    expect(refused).toMatchObject({ error_class: "agent_refused", error: expect.stringContaining("HTTP 403") });
    expect(refused).not.toHaveProperty("healthy");
    expect(await createAgentCaller({ key: "wrong-key-0123456789" })(a, backends.primary.url, options)).toMatchObject({
      error_class: "agent_refused",
      error: expect.stringContaining("missing or wrong x-vantage-key"),
    });
    expect(await createAgentCaller({})(a, backends.primary.url, options)).toMatchObject({ error_class: "agent_refused" });
  });

  test("with no agent the check is the controller's alone and the row keeps no votes", async () => {
    const { deps, clock, row } = await bootstrappedGroup({ PRIMARY_ENDPOINT: backends.primary.url, SECONDARY_ENDPOINT: backends.secondary.url });
    clock.advance(30);
    const check = await healthCheck(deps, "state", clock.now().toISOString());
    expect(check.votes).toBeUndefined();
    expect((await row()).last_votes).toBeUndefined();
    expect(testEnv().AzureWebJobsStorage).toBe(storageConnectionString());
  });
});
