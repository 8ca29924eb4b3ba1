import { TableClient } from "@azure/data-tables";
import { bootstrap } from "../../src/core/operations";
import { PARTITION_KEY } from "../../src/core/state";
import { storageConnectionString, testDeps, testEnv } from "../helpers/env";

/**
 * Groups on Azurite: a name is unique regardless of case, and MAX_GROUPS holds however many
 * inits race, because a group's row, its name claim and the group count are written in one
 * entity-group transaction.
 */
describe("creating groups", () => {
  const endpoints = { primary_endpoint: "http://127.0.0.1:9/p", secondary_endpoint: "http://127.0.0.1:9/s" };

  function setup(settings: Record<string, string> = {}) {
    const { deps, config } = testDeps(testEnv(settings));
    const table = TableClient.fromConnectionString(storageConnectionString(), config.tableName, { allowInsecureConnection: true });
    return { deps, table };
  }

  test("case variants of a name are one group: State and STATE are refused while state exists, naming it; the exact name again is an existing group", async () => {
    const { deps } = setup();
    expect((await bootstrap(deps, { group: "state", ...endpoints })).created).toBe(true);
    for (const variant of ["State", "STATE"]) {
      await expect(bootstrap(deps, { group: variant, ...endpoints })).rejects.toMatchObject({
        code: "invalid_request",
        message: expect.stringContaining(`"${variant}" differs only in case from the existing group "state"`),
      });
    }
    expect((await bootstrap(deps, { group: "state", ...endpoints })).created).toBe(false);
    expect(await deps.store.listGroups()).toEqual(["state"]);
  });

  test("racing case variants: exactly one of them is created", async () => {
    const { deps } = setup();
    await deps.store.ensureTable();
    const results = await Promise.allSettled(["pay", "Pay", "PAY", "pAy", "paY"].map((group) => bootstrap(deps, { group, ...endpoints })));
    expect(results.filter((r) => r.status === "fulfilled" && r.value.created)).toHaveLength(1);
    expect((await deps.store.listGroups()).map((g) => g.toLowerCase())).toEqual(["pay"]);
  });

  test("MAX_GROUPS holds under 30 concurrent inits with 3 free places: exactly 3 are created, the rest refused naming the limit", async () => {
    const { deps } = setup({ MAX_GROUPS: "5" });
    for (const group of ["g1", "g2"]) await bootstrap(deps, { group, ...endpoints });
    const results = await Promise.allSettled(Array.from({ length: 30 }, (_, i) => bootstrap(deps, { group: `new${i}`, ...endpoints })));
    const created = results.filter((r) => r.status === "fulfilled" && r.value.created);
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(created).toHaveLength(3);
    expect(refused).toHaveLength(27);
    for (const r of refused) expect(r.reason).toMatchObject({ code: expect.stringMatching(/invalid_request|conflict/), message: expect.stringMatching(/MAX_GROUPS is 5|kept changing/) });
    expect(refused.filter((r) => /MAX_GROUPS is 5/.test((r.reason as Error).message)).length).toBeGreaterThan(20);
    expect(await deps.store.listGroups()).toHaveLength(5);
  }, 60_000);

  test("a row deleted by hand gives its place and its name back: the stale claim is reused and the count recounted at the limit", async () => {
    const { deps, table } = setup({ MAX_GROUPS: "2" });
    for (const group of ["a", "b"]) await bootstrap(deps, { group, ...endpoints });
    await expect(bootstrap(deps, { group: "c", ...endpoints })).rejects.toMatchObject({ message: expect.stringContaining("MAX_GROUPS is 2") });
    await table.deleteEntity(PARTITION_KEY, "b");
    // The same name (even in another case) is free again, and so is the place.
    expect((await bootstrap(deps, { group: "B", ...endpoints })).created).toBe(true);
    await table.deleteEntity(PARTITION_KEY, "a");
    expect((await bootstrap(deps, { group: "c", ...endpoints })).created).toBe(true);
    expect((await deps.store.listGroups()).sort()).toEqual(["B", "c"]);
    await expect(bootstrap(deps, { group: "d", ...endpoints })).rejects.toMatchObject({ message: expect.stringContaining("MAX_GROUPS is 2") });
  });

  test("a deployment from before the registry: its groups count and their names are taken", async () => {
    const { deps, table } = setup({ MAX_GROUPS: "2" });
    await deps.store.ensureTable();
    await table.createEntity({
      partitionKey: PARTITION_KEY,
      rowKey: "Legacy",
      active_target: "primary",
      primary_endpoint: "http://p/h",
      secondary_endpoint: "http://s/h",
      failover_count: 0,
      last_status: "OK",
    });
    await expect(bootstrap(deps, { group: "legacy", ...endpoints })).rejects.toMatchObject({ message: expect.stringContaining('differs only in case from the existing group "Legacy"') });
    expect((await bootstrap(deps, { group: "second", ...endpoints })).created).toBe(true);
    await expect(bootstrap(deps, { group: "third", ...endpoints })).rejects.toMatchObject({ message: expect.stringContaining("MAX_GROUPS is 2") });
  });
});
