import { TableClient } from "@azure/data-tables";
import { FailoverError } from "../../src/core/errors";
import { IDEMPOTENCY_PARTITION, parseIdempotencyKey, runOnce } from "../../src/core/idempotency";
import { storageConnectionString, uniqueTable } from "../helpers/env";

describe("idempotency keys (Azurite)", () => {
  let table: TableClient;
  beforeAll(async () => {
    table = TableClient.fromConnectionString(storageConnectionString(), uniqueTable("idem"), { allowInsecureConnection: true });
    await table.createTable();
  });
  const now = new Date("2026-01-01T00:00:00Z");
  const later = (ms: number) => new Date(now.getTime() + ms);

  test("the same key and request runs once; the repeat gets the first answer", async () => {
    let runs = 0;
    const act = async () => ({ changed: true, run: ++runs });
    const first = await runOnce(table, "state", "k1", "do_failover {}", now, act);
    const second = await runOnce(table, "state", "k1", "do_failover {}", later(300), act);
    expect(first).toEqual({ result: { changed: true, run: 1 }, replayed: false });
    expect(second).toEqual({ result: { changed: true, run: 1 }, replayed: true });
    expect(runs).toBe(1);
    // Another group is another key space.
    expect((await runOnce(table, "payments", "k1", "do_failover {}", now, act)).replayed).toBe(false);
  });

  test("the same key with another request is refused, naming the header", async () => {
    await runOnce(table, "state", "k2", "pause {}", now, async () => ({ changed: true }));
    await expect(runOnce(table, "state", "k2", "resume {}", now, async () => ({ changed: true }))).rejects.toMatchObject({
      code: "invalid_request",
      message: expect.stringMatching(/^idempotency-key: already used/),
    });
  });

  test("a concurrent repeat while the first is running is a conflict, not a second run", async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let runs = 0;
    const first = runOnce(table, "state", "k3", "r", now, async () => {
      runs++;
      await gate;
      return { ok: true };
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    await expect(runOnce(table, "state", "k3", "r", now, async () => ({ ok: runs++ }))).rejects.toMatchObject({ code: "conflict" });
    release();
    await first;
    expect(runs).toBe(1);
  });

  test("a failed action frees the key; an expired record is taken again", async () => {
    await expect(runOnce(table, "state", "k4", "r", now, async () => Promise.reject(new FailoverError("conflict", "busy")))).rejects.toThrow("busy");
    expect((await runOnce(table, "state", "k4", "r", now, async () => 1)).replayed).toBe(false);
    expect((await runOnce(table, "state", "k4", "r", later(25 * 3600_000), async () => 2)).result).toBe(2);
    const rows: string[] = [];
    for await (const e of table.listEntities({ queryOptions: { filter: `PartitionKey eq '${IDEMPOTENCY_PARTITION}'` } })) rows.push(String(e.rowKey));
    expect(rows.every((r) => /^[A-Za-z0-9_-]+~[0-9a-f]{64}$/.test(r))).toBe(true);
  });

  test("header values are bounded printable ASCII", () => {
    expect(parseIdempotencyKey(null)).toBeUndefined();
    expect(parseIdempotencyKey("0b6c1f2e-retry-safe")).toBe("0b6c1f2e-retry-safe");
    for (const bad of ["", "a b", "x".repeat(201), "caf\u00e9"]) expect(() => parseIdempotencyKey(bad)).toThrow(/^idempotency-key: must be 1-200 printable ASCII/);
  });
});
