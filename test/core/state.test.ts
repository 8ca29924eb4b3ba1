import { TableClient } from "@azure/data-tables";
import { isFailoverError } from "../../src/core/errors";
import { bootstrap, switchTarget, healthCheck } from "../../src/core/operations";
import { PARTITION_KEY } from "../../src/core/state";
import { backendPair } from "../helpers/backends";
import { storageConnectionString, testDeps, testEnv } from "../helpers/env";

describe("state row on Azurite", () => {
  const backends = backendPair();

  function setup(extra: Record<string, string> = {}) {
    const env = testEnv({ PRIMARY_ENDPOINT: backends.primary.url, SECONDARY_ENDPOINT: backends.secondary.url, ...extra });
    const { deps, config } = testDeps(env);
    const table = TableClient.fromConnectionString(storageConnectionString(), config.tableName, { allowInsecureConnection: true });
    return { deps, config, table };
  }

  test("bootstrap creates the table and the seed-compatible row; a second bootstrap changes nothing", async () => {
    const { deps, table } = setup();
    const first = await bootstrap(deps, { group: "state" });
    expect(first.created).toBe(true);
    const row = await table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state");
    expect(row).toMatchObject({
      partitionKey: "failover",
      rowKey: "state",
      active_target: "primary",
      primary_endpoint: backends.primary.url,
      secondary_endpoint: backends.secondary.url,
      failover_count: 0,
      last_status: "OK",
    });
    // Someone edits the row between the two bootstraps: the second must not undo it.
    await table.updateEntity({ partitionKey: PARTITION_KEY, rowKey: "state", primary_endpoint: "https://127.0.0.1/health" }, "Merge", { etag: row.etag });
    const edited = await table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state");
    const second = await bootstrap(deps, { group: "state" });
    expect(second.created).toBe(false);
    const after = await table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state");
    expect(after.etag).toBe(edited.etag);
    expect(after.primary_endpoint).toBe("https://127.0.0.1/health");
  });

  test("a seed row written by the original demo (only the seven fields) is read as it is", async () => {
    const { deps, table } = setup();
    await table.createTable();
    await table.createEntity({
      partitionKey: PARTITION_KEY,
      rowKey: "state",
      active_target: "primary",
      primary_endpoint: backends.primary.url,
      secondary_endpoint: backends.secondary.url,
      failover_count: 0,
      last_status: "OK",
      last_check_utc: "2024-01-01T12:00:00.123456", // Python's isoformat(): no offset, read as UTC
      lock_until_utc: "",
      owner_note: "kept by the team",
    });
    const loaded = await deps.store.load("state");
    expect(loaded.state).toMatchObject({ active_target: "primary", failover_count: 0, consecutive_failures: 0, paused: false, last_check_utc: "2024-01-01T12:00:00.123Z" });
    await healthCheck(deps, "state", "cycle-1");
    const after = await table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state");
    expect(after.owner_note).toBe("kept by the team"); // unknown columns survive the Replace
    expect(after.last_status).toBe("OK");
  });

  const malformed: Array<[string, Record<string, unknown>, RegExp]> = [
    ["active_target tertiary", { active_target: "tertiary" }, /group "state".*active_target: must be primary or secondary \(got "tertiary"\)/],
    ["failover_count abc", { failover_count: "abc" }, /failover_count: must be an integer \(got "abc"\)/],
    ["missing secondary_endpoint", { secondary_endpoint: undefined }, /secondary_endpoint: is missing or not a string \(missing\)/],
    ["lock_until_utc garbage", { lock_until_utc: "tomorrow-ish" }, /lock_until_utc: must be an ISO 8601 time/],
    ["lock_until_utc a bare number (Date.parse would read the year 99999)", { lock_until_utc: "99999" }, /lock_until_utc: must be an ISO 8601 time such as 2026-01-01T12:00:00Z \(got "99999"\)/],
    ["paused_until_utc in US date order", { paused_until_utc: "5/6/2030" }, /paused_until_utc: must be an ISO 8601 time/],
  ];

  test.each(malformed)("a malformed row (%s) gives a clear error naming the field and leaves the row untouched", async (_name, patch, message) => {
    const { deps, table } = setup();
    await bootstrap(deps, { group: "state" });
    const original = await table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state");
    const { etag: _etag, timestamp: _ts, ...props } = original;
    const broken: Record<string, unknown> = { ...props, ...patch };
    for (const key of Object.keys(broken)) if (broken[key] === undefined || key.startsWith("odata")) delete broken[key];
    await table.updateEntity(broken as { partitionKey: string; rowKey: string }, "Replace", { etag: original.etag });
    const before = await table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state");

    for (const operation of [() => healthCheck(deps, "state", "cycle-1"), () => switchTarget(deps, "state")]) {
      const error = await operation().catch((err: unknown) => err);
      expect(isFailoverError(error, "malformed_state")).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
    const after = await table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state");
    expect(after.etag).toBe(before.etag);
  });

  test("a missing row is state_not_found naming the group and the way to create it", async () => {
    const { deps } = setup();
    await deps.store.ensureTable();
    const error = await healthCheck(deps, "nosuchgroup", "cycle-1").catch((err: unknown) => err);
    expect(isFailoverError(error, "state_not_found")).toBe(true);
    expect((error as Error).message).toMatch(/group "nosuchgroup".*POST \/api\/init/);
  });

  test("storage down is storage_unavailable, not a crash", async () => {
    const env = testEnv({ AzureWebJobsStorage: storageConnectionString().replace(/127\.0\.0\.1:\d+/, "127.0.0.1:9") });
    const { deps } = testDeps(env);
    const error = await healthCheck(deps, "state", "cycle-1").catch((err: unknown) => err);
    expect(isFailoverError(error, "storage_unavailable")).toBe(true);
    expect((error as Error).message).toMatch(/reading group "state"/);
  });

  test("a write with a stale ETag is refused (412) and the row keeps the newer value", async () => {
    const { deps, table } = setup();
    await bootstrap(deps, { group: "state" });
    const stale = await deps.store.load("state");
    const fresh = await deps.store.load("state");
    expect(await deps.store.replace(fresh, { ...fresh.state, last_status: "FIRST" })).toBe(true);
    expect(await deps.store.replace(stale, { ...stale.state, last_status: "SECOND" })).toBe(false);
    expect((await table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state")).last_status).toBe("FIRST");
  });
});
