import { loadConfig } from "../../src/core/config";
import { createDeps, type FailoverDeps } from "../../src/core/deps";
import { FailoverError } from "../../src/core/errors";
import { PENDING_RESULT, parseLedger } from "../../src/core/switch/session";
import { bootstrap, switchCycle, switchTarget } from "../../src/core/operations";
import { standInCredential } from "../../src/local/services/azureStandIn/credential";
import { SAMPLE_IDS, SAMPLE_SUBSCRIPTION, seedSampleTargets } from "../../src/local/services/azureStandIn/sampleTargets";
import { startAzureStandIn, type AzureStandIn } from "../../src/local/services/azureStandIn/server";
import { ManualClock, testEnv } from "../helpers/env";

/**
 * The switch saga under faults, through switch_cycle on Azurite and the local Azure stand-in, in
 * virtual time: permanent errors at every step of a ten-step plan in both on_failure modes, a
 * storm of 429s with Retry-After, a newer decision arriving while an apply is mid-way, and the
 * storage refusing the row's writes around the traffic writes.
 */

const RG = `/subscriptions/${SAMPLE_SUBSCRIPTION}/resourceGroups/rg-app/providers`;
const tmProfile = (i: number) => `${RG}/Microsoft.Network/trafficManagerProfiles/tm-${i}`;
const record = (i: number) => `${SAMPLE_IDS.dnsZone}/CNAME/r${i}`;

/** Ten steps, alternating a Traffic Manager profile and a DNS record set, each with its own resource. */
function tenStepWorld(standIn: AzureStandIn) {
  const steps: Array<Record<string, unknown>> = [];
  const resources: string[] = [];
  for (let i = 0; i < 10; i++) {
    const n = Math.floor(i / 2);
    if (i % 2 === 0) {
      standIn.resources.addTrafficManagerProfile(tmProfile(n), {
        endpoints: [
          { name: "east", target: "east.example.net", status: "Enabled", priority: 1 },
          { name: "west", target: "west.example.net", status: "Disabled", priority: 2 },
        ],
      });
      steps.push({
        kind: "traffic_manager",
        profile_id: tmProfile(n),
        primary: { endpoint_type: "ExternalEndpoints", endpoint_name: "east" },
        secondary: { endpoint_type: "ExternalEndpoints", endpoint_name: "west" },
      });
      resources.push(tmProfile(n));
    } else {
      standIn.resources.addRecordSet(SAMPLE_IDS.dnsZone, "CNAME", `r${n}`, 60, "east.example.net");
      steps.push({ kind: "dns", zone_id: SAMPLE_IDS.dnsZone, record_name: `r${n}`, record_type: "CNAME", primary_value: "east.example.net", secondary_value: "west.example.net" });
      resources.push(record(n));
    }
  }
  return { steps, resources };
}

/** Which side each of the ten steps serves now: "primary", "secondary", "both" or "none". */
function sides(standIn: AzureStandIn): string[] {
  const out: string[] = [];
  for (let i = 0; i < 10; i++) {
    const n = Math.floor(i / 2);
    if (i % 2 === 0) {
      const on = (name: string) => (standIn.resources.get(`${tmProfile(n)}/ExternalEndpoints/${name}`)!.properties as { endpointStatus: string }).endpointStatus === "Enabled";
      out.push(on("east") && on("west") ? "both" : on("east") ? "primary" : on("west") ? "secondary" : "none");
    } else {
      const cname = (standIn.resources.get(record(n))!.properties as { CNAMERecord: { cname: string } }).CNAMERecord.cname;
      out.push(cname === "east.example.net" ? "primary" : "secondary");
    }
  }
  return out;
}

describe("the switch saga under faults (switch_cycle, Azurite, the stand-in, virtual time)", () => {
  const clock = new ManualClock();
  let standIn: AzureStandIn;
  let deps: FailoverDeps;

  beforeEach(async () => {
    standIn = await startAzureStandIn({ now: () => clock.now().getTime() });
    seedSampleTargets(standIn);
  });
  afterEach(async () => {
    await standIn.stop();
  });

  async function group(plan: Record<string, unknown>, settings: Record<string, string> = {}) {
    deps = createDeps(
      loadConfig(
        testEnv({
          PRIMARY_ENDPOINT: "http://127.0.0.1:9/health",
          SECONDARY_ENDPOINT: "http://127.0.0.1:10/health",
          SWITCH_PLAN: JSON.stringify(plan),
          DRIFT_CHECK_EVERY: "0",
          ...standIn.appSettings(),
          ...settings,
        }),
      ),
      { clock, credential: standInCredential },
    );
    await bootstrap(deps, { group: "state" });
    expect(await switchCycle(deps, "state")).toMatchObject({ action: "verify", switch_state: "verified" });
  }
  const kinds = async () => (await deps.audit.list("state", 100)).entries.map((e) => e.kind);
  const failover = () => switchTarget(deps, "state", { force: true, expected_from: "primary", reason: "drill" });

  describe.each(["hold", "compensate"] as const)("a ten-step plan failing permanently (a resource lock) at each step, on_failure=%s", (mode) => {
    test.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])("at step %i", async (k) => {
      const world = tenStepWorld(standIn);
      await group({ on_failure: mode, steps: world.steps });
      expect(sides(standIn)).toEqual(Array(10).fill("primary"));
      standIn.lock(world.resources[k]);
      await failover();
      const result = await switchCycle(deps, "state");
      const row = (await deps.store.load("state")).state;
      const writesTo = (i: number) => standIn.writes().filter((w) => w.path.toLowerCase().startsWith(world.resources[i].toLowerCase())).length;
      // The locked step was tried exactly once.
      expect(writesTo(k)).toBe(1);
      if (mode === "hold") {
        expect(result).toMatchObject({ action: "apply", switch_state: "held", error_class: "locked" });
        expect(sides(standIn)).toEqual([...Array(k).fill("secondary"), ...Array(10 - k).fill("primary")]);
      } else {
        expect(result).toMatchObject({ action: "apply", switch_state: "compensated", error_class: "locked" });
        expect(sides(standIn)).toEqual(Array(10).fill("primary"));
      }
      expect(row).toMatchObject({ switch_failed_step: k, switch_error_class: "locked" });
      // No step was ever without an enabled endpoint.
      for (let n = 0; n < 5; n++) {
        const ids = ["east", "west"].map((e) => `${tmProfile(n)}/ExternalEndpoints/${e}`);
        expect([n, standIn.resources.serving.longestUnserved(ids, "control", clock.now().getTime()).ms]).toEqual([n, 0]);
      }
      // Stopped: later cycles write nothing, and the episode is one entry.
      const writes = standIn.writes().length;
      for (let i = 0; i < 3; i++) {
        clock.advance(60);
        expect(await switchCycle(deps, "state")).toMatchObject({ action: "held" });
      }
      expect(standIn.writes()).toHaveLength(writes);
      const entries = (await kinds()).filter((kind) => kind.startsWith("switch_") && kind !== "switch_verified");
      expect(entries).toEqual([mode === "hold" ? "switch_held" : "switch_compensated"]);
      const entry = (await deps.audit.list("state", 10)).entries[0];
      expect(entry.reason).toContain("a human must act: remove the resource lock");
      // The ledger names every write, the refused one included.
      const expectedWrites = mode === "hold" ? 2 * Math.ceil(k / 2) + Math.floor(k / 2) + 1 : undefined;
      if (expectedWrites !== undefined) expect(entry.writes).toHaveLength(expectedWrites);
      expect(entry.writes?.filter((w) => w.result === "locked 409")).toHaveLength(1);
    });
  });

  test("a storm of 429s with Retry-After 5 for 20 s: each attempt waits exactly the Retry-After, one failure entry for the episode, verified within one Retry-After of the storm's end", async () => {
    await group({
      steps: [
        {
          kind: "traffic_manager",
          profile_id: SAMPLE_IDS.trafficManager,
          primary: { endpoint_type: "ExternalEndpoints", endpoint_name: "app-east" },
          secondary: { endpoint_type: "ExternalEndpoints", endpoint_name: "app-west" },
        },
      ],
    });
    const stormEnds = clock.now().getTime() + 20_000;
    standIn.inject({ pathIncludes: "tm-app", status: 429, retryAfterSeconds: 5, until: stormEnds });
    await failover();
    let verifiedAt: number | undefined;
    const waits: number[] = [];
    for (let t = 0; t < 60 && verifiedAt === undefined; t++) {
      const r = await switchCycle(deps, "state");
      if (r.next_attempt_utc && r.action === "apply") waits.push(Date.parse(r.next_attempt_utc) - clock.now().getTime());
      if (r.switch_state === "verified") verifiedAt = clock.now().getTime();
      clock.advance(1);
    }
    expect(waits.length).toBeGreaterThanOrEqual(4);
    expect(new Set(waits)).toEqual(new Set([5000]));
    expect(verifiedAt! - stormEnds).toBeLessThanOrEqual(5000);
    expect((await kinds()).filter((k) => k === "switch_failed")).toHaveLength(1);
  });

  test("a forced failback arriving while the automatic failover's apply is mid-way: the old apply stops before its next write, its one write is audited, and the next cycle makes the world match the row", async () => {
    await group({
      steps: [
        {
          kind: "traffic_manager",
          profile_id: SAMPLE_IDS.trafficManager,
          primary: { endpoint_type: "ExternalEndpoints", endpoint_name: "app-east" },
          secondary: { endpoint_type: "ExternalEndpoints", endpoint_name: "app-west" },
        },
      ],
    });
    await failover();
    let failbackAt: number | undefined;
    standIn.onRequest = async (method, path) => {
      if (method === "PATCH" && path.endsWith("app-west") && failbackAt === undefined) {
        await switchTarget(deps, "state", { kind: "failback", force: true, reason: "operator", actor: "ops" });
        failbackAt = Date.now();
      }
    };
    expect(await switchCycle(deps, "state")).toMatchObject({ action: "superseded" });
    standIn.onRequest = undefined;
    expect(standIn.writes().filter((w) => w.at > failbackAt!)).toEqual([]);
    const superseded = (await deps.audit.list("state", 10)).entries.find((e) => e.kind === "switch_superseded")!;
    expect(superseded.writes).toEqual([
      expect.objectContaining({ method: "PATCH", resource: "trafficManagerProfiles/tm-app/ExternalEndpoints/app-west", change: "Disabled -> Enabled", result: "ok (Enabled)" }),
    ]);
    expect(superseded.writes![0].intent).toMatch(/^1-secondary-/);
    // The next cycle applies the failback: the row and the world agree.
    expect(await switchCycle(deps, "state")).toMatchObject({ action: "apply", switch_state: "verified", switch_target: "primary" });
    const state = (await deps.store.load("state")).state;
    expect(state).toMatchObject({ active_target: "primary", switch_state: "verified" });
    expect(JSON.parse(state.switch_ledger!).writes).toEqual([
      expect.objectContaining({ resource: "trafficManagerProfiles/tm-app/ExternalEndpoints/app-west", change: "Enabled -> Disabled", intent: state.switch_intent_id }),
    ]);
    expect(
      standIn.resources.serving.longestUnserved([`${SAMPLE_IDS.trafficManager}/ExternalEndpoints/app-east`, `${SAMPLE_IDS.trafficManager}/ExternalEndpoints/app-west`], "control", Date.now()),
    ).toEqual({ ms: 0 });
  });

  describe("the ledger reaches the row before each traffic write", () => {
    const tmPlan = {
      steps: [
        {
          kind: "traffic_manager",
          profile_id: SAMPLE_IDS.trafficManager,
          primary: { endpoint_type: "ExternalEndpoints", endpoint_name: "app-east" },
          secondary: { endpoint_type: "ExternalEndpoints", endpoint_name: "app-west" },
        },
      ],
    };
    /** The storage refuses every row write while the rule given last says so (the state store of the real Table client, its writes intercepted). */
    let refusing: () => boolean = () => false;
    let intercepted: FailoverDeps["store"] | undefined;
    function storageRefusesWrites(rule: () => boolean): void {
      refusing = rule;
      if (intercepted === deps.store) return;
      intercepted = deps.store;
      const replace = deps.store.replace.bind(deps.store);
      deps.store.replace = async (loaded, next) => {
        if (refusing()) throw new FailoverError("storage_unavailable", "the storage refused the write (injected)");
        return replace(loaded, next);
      };
    }
    const armWrites = () => standIn.writes().filter((w) => w.path.includes("tm-app"));

    test("the storage refusing the cycle's row write after both traffic writes: both writes are on the row as pending, and the next cycle audits them with the switch", async () => {
      await group(tmPlan);
      await failover();
      // The row takes each write's pending entry, then refuses the cycle's own write once both traffic writes are made.
      storageRefusesWrites(() => armWrites().length >= 2);
      await expect(switchCycle(deps, "state")).rejects.toThrow(/the storage refused the write/);
      expect(armWrites().map((w) => `${w.method} ${w.path.split("/").pop()}`)).toEqual(["PATCH app-west", "PATCH app-east"]);
      const row = (await deps.store.load("state")).state;
      const pending = parseLedger(row.switch_ledger).writes;
      expect(pending.map((e) => [e.resource, e.change, e.result, e.intent])).toEqual([
        ["trafficManagerProfiles/tm-app/ExternalEndpoints/app-west", "Disabled -> Enabled", PENDING_RESULT, row.switch_intent_id],
        ["trafficManagerProfiles/tm-app/ExternalEndpoints/app-east", "Enabled -> Disabled", PENDING_RESULT, row.switch_intent_id],
      ]);
      expect(new Set(pending.map((e) => e.id)).size).toBe(2);

      // The storage back: the next cycle finds the world switched (no write), verifies, and its audit entry carries the two writes.
      storageRefusesWrites(() => false);
      clock.advance(30);
      expect(await switchCycle(deps, "state")).toMatchObject({ switch_state: "verified", switch_target: "secondary" });
      expect(armWrites()).toHaveLength(2);
      const applied = (await deps.audit.list("state", 10)).entries.find((e) => e.kind === "switch_applied")!;
      expect(applied.writes?.map((w) => [w.id, w.result])).toEqual(pending.map((e) => [e.id, PENDING_RESULT]));
    });

    test("the storage refusing the row write between the two traffic writes: the second write is never sent, traffic stays on the new side, and the next cycle finishes the switch with both writes on its ledger", async () => {
      await group(tmPlan);
      await failover();
      storageRefusesWrites(() => armWrites().length >= 1);
      await expect(switchCycle(deps, "state")).rejects.toThrow(/the storage refused the write/);
      // Make-before-break: the new side enabled, the old one still on; nothing left without traffic.
      expect(armWrites().map((w) => w.path.split("/").pop())).toEqual(["app-west"]);
      const row = (await deps.store.load("state")).state;
      expect(parseLedger(row.switch_ledger).writes.map((e) => [e.resource.split("/").pop(), e.result])).toEqual([["app-west", PENDING_RESULT]]);

      storageRefusesWrites(() => false);
      clock.advance(30);
      expect(await switchCycle(deps, "state")).toMatchObject({ switch_state: "verified", switch_target: "secondary" });
      expect(armWrites().map((w) => w.path.split("/").pop())).toEqual(["app-west", "app-east"]);
      const ledger = parseLedger((await deps.store.load("state")).state.switch_ledger).writes;
      expect(ledger.map((e) => [e.resource.split("/").pop(), e.result])).toEqual([
        ["app-west", PENDING_RESULT],
        ["app-east", "ok (Disabled)"],
      ]);
    });

    test("the storage refusing every row write from the start: no traffic write is sent (a write the row cannot show is never made)", async () => {
      await group(tmPlan);
      await failover();
      storageRefusesWrites(() => true);
      await expect(switchCycle(deps, "state")).rejects.toThrow(/the storage refused the write/);
      expect(armWrites()).toEqual([]);
      storageRefusesWrites(() => false);
      clock.advance(30);
      expect(await switchCycle(deps, "state")).toMatchObject({ switch_state: "verified" });
      expect(parseLedger((await deps.store.load("state")).state.switch_ledger).writes.map((e) => e.result)).toEqual(["ok (Enabled)", "ok (Disabled)"]);
    });
  });
});
