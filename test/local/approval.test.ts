import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { startSampleBackend, type SampleBackend } from "../../src/local/services/sampleBackend";
import { call, eventually } from "../../src/local/tools/client";
import { testEnv } from "../helpers/env";

interface Entry {
  readonly kind: string;
  readonly actor: string;
  readonly reason: string;
}

/**
 * Decision mode approval on the local host: the real loop at a 1 s interval, a failover after
 * two failed checks of the primary, Azurite. The loop proposes the failover and waits; the
 * operator approves (the loop switches at once) or rejects it; nobody answers (proceed or
 * abandon); the primary recovers first (the proposal goes stale).
 */
describe("approval before a failover on the local host", () => {
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
      COOLDOWN_SECONDS: "0",
      DECISION_MODE: "approval",
      APPROVAL_TIMEOUT_SECONDS: "600",
    });
    host = await startLocalHost({ env, timers: false });
  });
  afterEach(async () => {
    await host.stop();
    await primary.close();
    await secondary.close();
  });

  const api = (method: string, path: string, body?: unknown) => call(host.url, method, path, body);
  const state = async () => (await api("GET", "/api/status")).body?.state as Record<string, unknown> | undefined;
  const history = async () => ((await api("GET", "/api/history?limit=20")).body.entries as Entry[]).slice().reverse();

  /** Starts the loop with `overrides` on the row, breaks the primary and waits for the proposal. */
  async function proposed(overrides: Record<string, unknown> = {}): Promise<{ id: string; overview: Record<string, unknown> }> {
    expect((await api("POST", "/api/init", overrides)).status).toBe(201);
    await api("POST", "/api/start");
    primary.behave({ kind: "status", status: 503 });
    const overview = await eventually(
      "the proposal",
      async () => {
        const g = (await api("GET", "/api/groups")).body.groups[0];
        return g?.proposal ? g : undefined;
      },
      15_000,
    );
    return { id: overview.proposal.id as string, overview };
  }

  test("approved: the proposal says what was seen and waits; a decision about another proposal is a 409; approved, the loop fails over at once, the audit names who decided", async () => {
    const { id, overview } = await proposed();
    expect(overview).toMatchObject({ active_target: "primary", severity: "active_down", proposal: { id, state: "pending", kind: "failover", from: "primary" } });
    expect(overview.severity_reason).toMatch(/a failover waits for approval until /);
    const requested = (await history()).find((e) => e.kind === "approval_requested");
    expect(requested?.reason).toMatch(/^2 consecutive failed checks of the primary \(threshold 2\); the standby \(secondary\) healthy at .*; approve or reject by .* \(then: abandon\)$/);
    // Still proposed, not made, three checks later.
    await eventually("more failed checks", async () => (Number((await state())?.consecutive_failures) >= 5 ? true : undefined), 15_000);
    expect(await state()).toMatchObject({ active_target: "primary", proposal_id: id, proposal_state: "pending" });

    const wrong = await api("POST", "/api/approve", { proposal_id: "failover-0", reason: "stale screen" });
    expect([wrong.status, wrong.body.message]).toEqual([409, `Group "state": proposal failover-0 is not the group's proposal (${id}, pending)`]);
    const approved = await api("POST", "/api/approve", { proposal_id: id, reason: "confirmed with the DBA" });
    expect(approved).toMatchObject({ status: 200, body: { changed: true, active_target: "primary", proposal: { id, state: "approved", decided_by: "function key" } } });
    await eventually("the approved failover", async () => ((await state())?.active_target === "secondary" ? true : undefined), 10_000);
    const entries = (await history()).filter((e) => ["approval_requested", "approval_granted", "failover"].includes(e.kind));
    expect(entries.map((e) => [e.kind, e.actor])).toEqual([
      ["approval_requested", "system"],
      ["approval_granted", "function key"],
      ["failover", "orchestrator"],
    ]);
    expect(entries[1].reason).toMatch(/^confirmed with the DBA \(failover primary -> secondary proposed at /);
    expect(entries[2].reason).toMatch(/^approved by function key at \S+: \d+ consecutive failed checks of the primary/);
    const after = await state();
    expect(Object.keys(after ?? {}).filter((k) => k.startsWith("proposal_"))).toEqual([]);
    // Nothing left to decide on.
    expect((await api("POST", "/api/reject", { proposal_id: id })).status).toBe(409);
  }, 40_000);

  test("rejected: no failover while the primary stays down; its recovery clears the rejection, the next incident is proposed anew and withdrawn (stale) when the primary recovers", async () => {
    const { id } = await proposed();
    expect((await api("POST", "/api/reject", { proposal_id: id, reason: "known blip" })).body).toMatchObject({ changed: true, proposal: { state: "rejected", decided_by: "function key" } });
    const failures = Number((await state())?.consecutive_failures);
    await eventually("three more failed checks", async () => (Number((await state())?.consecutive_failures) >= failures + 3 ? true : undefined), 15_000);
    expect(await state()).toMatchObject({ active_target: "primary", proposal_id: id, proposal_state: "rejected" });

    primary.behave({ kind: "ok" });
    await eventually("the rejection cleared", async () => ((await state())?.proposal_state === undefined ? true : undefined), 10_000);
    primary.behave({ kind: "status", status: 503 });
    const second = await eventually("a new proposal", async () => {
      const s = await state();
      return s?.proposal_state === "pending" ? s : undefined;
    });
    expect(second.proposal_id).not.toBe(id);
    primary.behave({ kind: "ok" });
    await eventually("the proposal withdrawn", async () => ((await state())?.proposal_state === undefined ? true : undefined), 10_000);
    const kinds = (await history()).map((e) => e.kind).filter((k) => k.startsWith("approval") || k === "proposal_stale" || k === "failover");
    expect(kinds).toEqual(["approval_requested", "approval_rejected", "approval_requested", "proposal_stale"]);
    expect((await state())?.active_target).toBe("primary");
  }, 40_000);

  test("nobody answers, proceed: the loop fails over when the timeout ends, saying nobody answered", async () => {
    const { id } = await proposed({ approval_timeout_seconds: 2, approval_timeout_action: "proceed" });
    const expires = (await state())?.proposal_expires_utc as string;
    await eventually("the failover after the timeout", async () => ((await state())?.active_target === "secondary" ? true : undefined), 10_000);
    const failover = (await history()).find((e) => e.kind === "failover");
    expect(failover?.reason).toMatch(new RegExp(`^no answer by ${expires}, proceeding \\(approval_timeout_action proceed\\): `));
    expect((await history()).some((e) => e.kind === "approval_granted")).toBe(false);
    expect(id).toMatch(/^failover-/);
  }, 40_000);

  test("nobody answers, abandon: approval_expired by the system, no failover while the primary stays down", async () => {
    const { id } = await proposed({ approval_timeout_seconds: 2, approval_timeout_action: "abandon" });
    await eventually("the proposal expired", async () => ((await state())?.proposal_state === "expired" ? true : undefined), 10_000);
    const failures = Number((await state())?.consecutive_failures);
    await eventually("two more failed checks", async () => (Number((await state())?.consecutive_failures) >= failures + 2 ? true : undefined), 15_000);
    expect(await state()).toMatchObject({ active_target: "primary", proposal_id: id, proposal_state: "expired" });
    const expired = (await history()).find((e) => e.kind === "approval_expired");
    expect(expired).toMatchObject({ actor: "system", reason: expect.stringMatching(/; abandoned \(approval_timeout_action abandon\) until the condition clears$/) });
    // A reject of an expired proposal is refused; a late approval still counts.
    expect((await api("POST", "/api/reject", { proposal_id: id })).status).toBe(409);
    expect((await api("POST", "/api/approve", { proposal_id: id, reason: "on call now" })).body).toMatchObject({ changed: true, proposal: { state: "approved" } });
    await eventually("the late-approved failover", async () => ((await state())?.active_target === "secondary" ? true : undefined), 10_000);
  }, 40_000);
});
