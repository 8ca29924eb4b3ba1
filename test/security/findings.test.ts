import { loadConfig } from "../../src/core/config";
import { isFailoverError } from "../../src/core/errors";
import { pause, resume, switchTarget } from "../../src/core/operations";
import { clearRegisteredSecrets } from "../../src/core/redact";
import { PARTITION_KEY } from "../../src/core/state";
import { startLocalHost } from "../../src/local/host/host";
import { backendPair } from "../helpers/backends";
import { TableClient } from "@azure/data-tables";
import { bootstrappedGroup, storageConnectionString, testEnv } from "../helpers/env";

/** One test per finding of issue 9 that is not covered by the hostile-input suite or its own module's tests. */
describe("findings on Azurite and the local host", () => {
  const backends = backendPair();
  const setup = (settings: Record<string, string> = {}) => bootstrappedGroup({ PRIMARY_ENDPOINT: backends.primary.url, SECONDARY_ENDPOINT: backends.secondary.url, ...settings });
  afterEach(() => clearRegisteredSecrets());

  test("finding 2: a huge caller identity is capped, so the row can never grow into refusing writes", async () => {
    const { deps, row } = await setup({ COOLDOWN_SECONDS: "0" });
    const actor = `attacker${"\u202e".repeat(2)}${"A".repeat(16_000)}`;
    for (let i = 0; i < 6; i++) {
      await pause(deps, "state", { reason: `r${i}`, actor });
      await resume(deps, "state", { actor });
    }
    const forced = await switchTarget(deps, "state", { force: true, expected_from: "primary", actor, reason: "break glass" });
    expect(forced.changed).toBe(true);
    const transitions = JSON.parse(String((await row()).recent_transitions)) as Array<{ actor: string }>;
    expect(Array.from(transitions[0].actor)).toHaveLength(128);
    expect(transitions[0].actor).not.toMatch(/\u202e/);
  });

  test("finding 2: a row already near Table storage's property limit drops its transition summary and still switches", async () => {
    const { deps, table, row } = await setup();
    const current = await row();
    // Written by hand (or by an older version): 4 entries, just under the 32,768-character limit of a string property.
    const entry = (i: number, n: number) => ({ at: new Date().toISOString(), kind: "pause", from: "primary", to: "primary", reason: "x".repeat(n), actor: `a${i}` });
    const overhead = JSON.stringify([0, 1, 2, 3].map((i) => entry(i, 0))).length;
    const huge = [0, 1, 2, 3].map((i) => entry(i, Math.floor((32_700 - overhead) / 4)));
    expect(JSON.stringify(huge).length).toBeLessThanOrEqual(32_768);
    await table.updateEntity({ partitionKey: PARTITION_KEY, rowKey: "state", recent_transitions: JSON.stringify(huge) }, "Merge", { etag: current.etag });
    const forced = await switchTarget(deps, "state", { force: true, expected_from: "primary", actor: "ops", reason: "x".repeat(500) });
    expect(forced).toMatchObject({ changed: true, active_target: "secondary" });
    expect(JSON.parse(String((await row()).recent_transitions))).toEqual([]);
  });

  test("finding 13: a typo in a tuning knob on the row falls back to the app setting; a forced switch works", async () => {
    const { deps, table, row } = await setup();
    const current = await row();
    await table.updateEntity({ partitionKey: PARTITION_KEY, rowKey: "state", cooldown_seconds: "3OO", failure_threshold: "abc" }, "Merge", { etag: current.etag });
    const loaded = await deps.store.load("state");
    expect(loaded.overrideIssues.map((i) => i.path).sort()).toEqual(["cooldown_seconds", "failure_threshold"]);
    expect(await switchTarget(deps, "state", { force: true, expected_from: "primary", actor: "ops", reason: "break glass" })).toMatchObject({ changed: true });
  });

  test("finding 8: a mis-set webhook URL is named but not echoed (SAS tokens: storageTimeout.test.ts)", () => {
    const secretUrl = "contoso.webhook.office.com/webhookb2/SECRET-TOKEN-123"; // the scheme is missing
    const error = (() => {
      try {
        loadConfig({ AzureWebJobsStorage: "UseDevelopmentStorage=true", NOTIFY_WEBHOOK_URL: secretUrl });
      } catch (err) {
        return err;
      }
      throw new Error("expected a configuration error");
    })();
    expect(isFailoverError(error, "invalid_config")).toBe(true);
    expect((error as Error).message).toMatch(/NOTIFY_WEBHOOK_URL: must be an absolute/);
    expect(JSON.stringify(error)).not.toContain("SECRET-TOKEN-123");
    expect((error as Error).message).not.toContain("SECRET-TOKEN-123");
  });

  test("finding 11: with cooldown 0, a do_failover sent twice with one Idempotency-Key switches once; the repeat gets the first answer", async () => {
    const host = await startLocalHost({ env: testEnv({ PRIMARY_ENDPOINT: backends.primary.url, SECONDARY_ENDPOINT: backends.secondary.url, COOLDOWN_SECONDS: "0" }), timers: false });
    try {
      await fetch(`${host.url}/api/init`, { method: "POST" });
      const send = () =>
        fetch(`${host.url}/api/do_failover`, { method: "POST", headers: { "content-type": "application/json", "idempotency-key": "change-4711" }, body: "{}" }).then(async (r) => ({
          status: r.status,
          replayed: r.headers.get("idempotent-replayed"),
          body: (await r.json()) as Record<string, unknown>,
        }));
      const first = await send();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const second = await send();
      expect(first).toMatchObject({ status: 200, replayed: "false", body: { changed: true, active_target: "secondary", failover_count: 1 } });
      expect(second).toEqual({ ...first, replayed: "true" });
      const status = (await (await fetch(`${host.url}/api/status`)).json()) as { state: unknown };
      expect(status.state).toMatchObject({ active_target: "secondary", failover_count: 1 });
      // Without the key the same request is a new request (cooldown 0: it switches back).
      const plain = await (await fetch(`${host.url}/api/do_failover`, { method: "POST", body: "{}" })).json();
      expect(plain).toMatchObject({ changed: true, failover_count: 2 });
    } finally {
      await host.stop();
    }
  });

  test("secrets in endpoint URLs: init refuses a key, a signature or a token in the query, naming the field; one edited into the row by hand is not shown to readers", async () => {
    const env = testEnv({ PRIMARY_ENDPOINT: backends.primary.url, SECONDARY_ENDPOINT: backends.secondary.url });
    const host = await startLocalHost({ env, timers: false });
    try {
      const init = (body: unknown) =>
        fetch(`${host.url}/api/init?group=payments`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as Record<string, any>,
        }));
      for (const query of ["code=abc123secret", "sig=Zm9vYmFyYmF6", "access_token=eyJhbGciOi", "api-key=k3y"]) {
        const refused = await init({ primary_endpoint: `${backends.primary.url}?${query}`, secondary_endpoint: backends.secondary.url });
        expect(refused.status).toBe(400);
        expect(refused.body.issues).toEqual([{ path: "primary_endpoint", message: expect.stringContaining(`must not carry a secret in its query (${query.split("=")[0]}=)`) }]);
        expect(JSON.stringify(refused.body)).not.toContain(query.split("=")[1]);
      }
      expect((await init({ primary_endpoint: `${backends.primary.url}?region=east`, secondary_endpoint: backends.secondary.url })).status).toBe(201);
      // Edited into the row by hand (the table is the truth): probed as it is, never shown.
      const table = TableClient.fromConnectionString(storageConnectionString(), env.FAILOVER_TABLE, { allowInsecureConnection: true });
      const row = await table.getEntity(PARTITION_KEY, "payments");
      await table.updateEntity({ partitionKey: PARTITION_KEY, rowKey: "payments", primary_endpoint: `${backends.primary.url}?code=s3cretKeyValue` }, "Merge", { etag: row.etag });
      const answers = await Promise.all(["/api/status?group=payments", "/api/groups", "/api/health_check?group=payments"].map((path) => fetch(`${host.url}${path}`).then((r) => r.text())));
      for (const text of answers) {
        expect(text).not.toContain("s3cretKeyValue");
        expect(text).toContain("code=[redacted]");
      }
    } finally {
      await host.stop();
    }
  });
});
