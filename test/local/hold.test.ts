import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { startSampleBackend, type SampleBackend } from "../../src/local/services/sampleBackend";
import { call, eventually } from "../../src/local/tools/client";
import { testEnv } from "../helpers/env";

/**
 * A failback hold on the local host: the real loop at a 1 s interval, automatic failback after one
 * healthy check of the primary, Azurite. The hold keeps the group on the secondary while the
 * primary is healthy again, ends by itself at its time (audited, by the system), and the loop
 * fails back at the next check; a release ends one early.
 */
describe("failback holds on the local host", () => {
  let primary: SampleBackend;
  let secondary: SampleBackend;
  let host: LocalHost;

  beforeEach(async () => {
    primary = await startSampleBackend("primary");
    secondary = await startSampleBackend("secondary");
    const env = testEnv({
      PRIMARY_ENDPOINT: primary.url,
      SECONDARY_ENDPOINT: secondary.url,
      CHECK_INTERVAL_SECONDS: "1",
      FAILURE_THRESHOLD: "2",
      RECOVERY_THRESHOLD: "1",
      FAILBACK_MODE: "automatic",
      COOLDOWN_SECONDS: "0",
    });
    host = await startLocalHost({ env, timers: false });
  });
  afterEach(async () => {
    await host.stop();
    await primary.close();
    await secondary.close();
  });

  const api = (method: string, path: string, body?: unknown) => call(host.url, method, path, body);
  const activeTarget = async () => (await api("GET", "/api/status")).body?.state?.active_target as string | undefined;

  async function failOver(): Promise<void> {
    await api("POST", "/api/init");
    await api("POST", "/api/start");
    primary.behave({ kind: "status", status: 503 });
    await eventually("the failover", async () => ((await activeTarget()) === "secondary" ? true : undefined), 15_000);
  }

  test("held: no failback while the primary is healthy again; at its time the hold ends by itself, audited, and the loop fails back", async () => {
    await failOver();
    const until = new Date(Date.now() + 6_000).toISOString();
    const held = await api("POST", "/api/hold", { until, reason: "replica resync" });
    expect(held).toMatchObject({ status: 200, body: { changed: true, held: true, hold_until_utc: until, hold_owner: "function key", active_target: "secondary" } });
    primary.behave({ kind: "ok" });

    // The primary is healthy and counted (failback_successes grows), but the group stays on the secondary.
    const counted = await eventually("healthy checks of the primary", async () => {
      const state = (await api("GET", "/api/status")).body?.state;
      return state?.failback_successes >= 2 ? state : undefined;
    });
    expect(counted).toMatchObject({ active_target: "secondary", hold_owner: "function key", hold_reason: "replica resync" });
    const overview = (await api("GET", "/api/groups")).body.groups[0];
    expect(overview.hold).toMatchObject({ until, owner: "function key", reason: "replica resync" });
    expect(overview.hold.remaining_seconds).toBeGreaterThan(0);

    await eventually("the failback after the hold", async () => ((await activeTarget()) === "primary" ? true : undefined), 15_000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(until));
    // Oldest first, the entries about the hold and the switch (the standby's recovery is reported too).
    const entries = ((await api("GET", "/api/history?limit=10")).body.entries as Array<{ kind: string; actor: string; reason: string }>)
      .reverse()
      .filter((e) => ["hold", "hold_released", "failback"].includes(e.kind));
    expect(entries.map((e) => [e.kind, e.actor])).toEqual([
      ["hold", "function key"],
      ["hold_released", "system"],
      ["failback", "orchestrator"],
    ]);
    expect(entries[1].reason).toBe(`hold by function key expired at ${until}`);
    expect((await api("GET", "/api/groups")).body.groups[0].hold).toBeUndefined();
  }, 40_000);

  test("release ends the hold early and the loop fails back; bad holds are refused with the field named", async () => {
    await failOver();
    for (const [body, message] of [
      [{ reason: "no end" }, /until: /],
      [{ until: new Date(Date.now() + 73 * 3600_000).toISOString(), reason: "too long" }, /until: .* more than 72 hours away/],
      [{ until: "2001-01-01T00:00:00Z", reason: "past" }, /until: .* is not in the future/],
      [{ until: new Date(Date.now() + 60_000).toISOString(), reason: "  " }, /reason: must say why/],
    ] as const) {
      const refused = await api("POST", "/api/hold", body);
      expect([refused.status, refused.body.message]).toEqual([400, expect.stringMatching(message)]);
    }
    expect((await api("POST", "/api/hold", { until: new Date(Date.now() + 3_600_000).toISOString(), reason: "drill" })).body).toMatchObject({ changed: true, held: true });
    primary.behave({ kind: "ok" });
    await eventually("counted healthy checks", async () => ((await api("GET", "/api/status")).body?.state?.failback_successes >= 2 ? true : undefined));
    expect(await activeTarget()).toBe("secondary");

    expect((await api("POST", "/api/release", { reason: "resynced" })).body).toMatchObject({ changed: true, held: false, active_target: "secondary" });
    await eventually("the failback after the release", async () => ((await activeTarget()) === "primary" ? true : undefined), 15_000);
    expect((await api("POST", "/api/release", { reason: "again" })).body).toMatchObject({ changed: false, held: false });
    const entries = (await api("GET", "/api/history?limit=10")).body.entries as Array<{ kind: string; actor: string; reason: string }>;
    expect(entries.find((e) => e.kind === "hold_released")).toMatchObject({ actor: "function key", reason: "resynced" });
  }, 40_000);
});
