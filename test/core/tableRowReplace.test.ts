import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AzureNamedKeyCredential, TableClient, generateAccountSas } from "@azure/data-tables";
import { loadConfig } from "../../src/core/config";
import { FailoverError } from "../../src/core/errors";
import { PARTITION_KEY, initialState } from "../../src/core/state";
import { createStateStore } from "../../src/core/storage";
import { StorageTimeoutError } from "../../src/core/storageTimeout";
import { TableWriteError, bearerSigner, isPlainRow, leanRowReplace } from "../../src/core/tableRowReplace";
import { startFreezableProxy, throughProxy } from "../helpers/freezableProxy";
import { storageConnectionString, uniqueTable } from "../helpers/env";

/** The loop's row Replace as one REST call: signed as Azurite checks it, with the SDK's contract (ETag, 412, 404, retries, deadline). */

async function tableWithRow(name: string): Promise<{ table: TableClient; etag: string }> {
  const table = TableClient.fromConnectionString(storageConnectionString(), name, { allowInsecureConnection: true });
  await table.createTable();
  const { etag } = await table.createEntity({ partitionKey: PARTITION_KEY, rowKey: "g1", note: "first" });
  return { table, etag: etag! };
}

test("an account key (Shared Key Lite, checked by Azurite): the row replaced, its new ETag the one a read gives; a stale ETag is a 412, a missing row a 404", async () => {
  const name = uniqueTable("lean");
  const { table, etag } = await tableWithRow(name);
  const config = loadConfig({ AzureWebJobsStorage: storageConnectionString() });
  const replace = leanRowReplace(config.storage, name, 5000)!;
  const written = await replace(PARTITION_KEY, "g1", { note: "second", count: 7, ok: true, gone: null }, etag);
  const read = await table.getEntity<Record<string, unknown>>(PARTITION_KEY, "g1");
  expect(read.etag).toBe(written.etag);
  expect([read.note, read.count, read.ok, "gone" in read]).toEqual(["second", 7, true, false]);
  await expect(replace(PARTITION_KEY, "g1", { note: "third" }, etag)).rejects.toMatchObject({ statusCode: 412, code: "UpdateConditionNotSatisfied" });
  await expect(replace(PARTITION_KEY, "nobody", { note: "x" }, etag)).rejects.toMatchObject({ statusCode: 404 });
  expect((await table.getEntity<Record<string, unknown>>(PARTITION_KEY, "g1")).note).toBe("second");
});

test("a SAS connection string: the signature rides in the query and the write is accepted", async () => {
  const name = uniqueTable("leansas");
  const { table, etag } = await tableWithRow(name);
  const dev = /AccountName=([^;]+);AccountKey=([^;]+);.*TableEndpoint=([^;]+)/.exec(storageConnectionString())!;
  const sas = generateAccountSas(new AzureNamedKeyCredential(dev[1], dev[2]), {
    expiresOn: new Date(Date.now() + 3600_000),
    permissions: { query: true, write: true, update: true, add: true, list: true },
    resourceTypes: "sco",
  });
  const replace = leanRowReplace(loadConfig({ AzureWebJobsStorage: `TableEndpoint=${dev[3]};SharedAccessSignature=${sas}` }).storage, name, 5000)!;
  await replace(PARTITION_KEY, "g1", { note: "by sas" }, etag);
  expect((await table.getEntity<Record<string, unknown>>(PARTITION_KEY, "g1")).note).toBe("by sas");
});

test("the state store writes the row through it and decides on the ETag it returned; a row of other values goes through the SDK", async () => {
  const store = createStateStore(loadConfig({ AzureWebJobsStorage: storageConnectionString() }).storage, uniqueTable("leanstore"));
  await store.ensureTable();
  await store.createGroup("state", initialState("http://p.example/health", "http://s.example/health"), {}, 100);
  const loaded = await store.load("state");
  expect(await store.replace(loaded, { ...loaded.state, failover_count: 1 })).toBe(true);
  expect(store.lastWritten("state")!.loaded.etag).toBe((await store.load("state")).etag);
  expect(await store.replace(loaded, { ...loaded.state, failover_count: 2 })).toBe(false); // the old ETag: a lost race
  expect(isPlainRow({ a: "x", b: 1, c: true, d: null })).toBe(true);
  expect(isPlainRow({ at: new Date() })).toBe(false);
  expect(isPlainRow({ n: Number.NaN })).toBe(false);
});

test("storage frozen mid-write: a storage_unavailable error within the deadline and the row forgotten (the write's outcome is unknown); thawed, a read and the write go through", async () => {
  const port = Number(/TableEndpoint=http:\/\/127\.0\.0\.1:(\d+)/.exec(storageConnectionString())![1]);
  const proxy = await startFreezableProxy(port);
  try {
    const store = createStateStore(loadConfig({ AzureWebJobsStorage: throughProxy(storageConnectionString(), proxy.port) }).storage, uniqueTable("leanfrozen"), 1000);
    await store.ensureTable();
    await store.createGroup("state", initialState("http://p.example/health", "http://s.example/health"), {}, 100);
    const loaded = await store.load("state");
    proxy.freeze();
    const started = Date.now();
    const error = (await store.replace(loaded, { ...loaded.state, failover_count: 5 }).catch((e: unknown) => e)) as FailoverError;
    expect(error).toBeInstanceOf(FailoverError);
    expect(error.code).toBe("storage_unavailable");
    expect(error.message).toMatch(/writing group "state".*no answer from Table storage within 1 s/);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(store.lastWritten("state")).toBeUndefined(); // the next check reads the row instead of trusting a write it never heard back from
    proxy.thaw();
    const again = await store.load("state");
    expect(await store.replace(again, { ...again.state, failover_count: 6 })).toBe(true);
    expect((await store.load("state")).state.failover_count).toBe(6);
  } finally {
    await proxy.close();
  }
});

describe("identity-based storage (a local HTTP stand-in of the Table endpoint)", () => {
  let server: Server;
  let endpoint: string;
  const seen: Array<{ authorization?: string; ifMatch?: string; url?: string; body: string }> = [];
  let answers: Array<(res: ServerResponse) => void> = [];
  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.push({ authorization: req.headers.authorization, ifMatch: req.headers["if-match"], url: req.url, body });
        const answer = answers.shift() ?? ((r: ServerResponse) => r.writeHead(204, { etag: `W/"n${seen.length}"` }).end());
        answer(res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  beforeEach(() => {
    seen.length = 0;
    answers = [];
  });

  const storage = () => ({ kind: "identity" as const, tableServiceUri: endpoint });
  const credential = (tokens: string[], expiresInMs: number) => {
    let calls = 0;
    return {
      calls: () => calls,
      getToken: async () => ({ token: tokens[calls++] ?? "none", expiresOnTimestamp: Date.now() + expiresInMs }),
    };
  };

  test("a bearer token for storage, fetched once and reused; the body carries the keys; retried after a 503", async () => {
    const identity = credential(["t1", "t2"], 3600_000);
    const replace = leanRowReplace(storage(), "failoverstate", 5000, identity)!;
    answers = [(r) => r.writeHead(503).end('{"odata.error":{"code":"ServerBusy","message":{"value":"busy"}}}')];
    const first = await replace(PARTITION_KEY, "it's", { a: 1 }, 'W/"e0"');
    await replace(PARTITION_KEY, "g2", { a: 2 }, first.etag);
    expect(identity.calls()).toBe(1);
    expect(seen.map((s) => s.authorization)).toEqual(["Bearer t1", "Bearer t1", "Bearer t1"]);
    expect(seen[0].url).toBe("/failoverstate(PartitionKey='failover',RowKey='it''s')");
    expect(JSON.parse(seen[0].body)).toEqual({ a: 1, PartitionKey: "failover", RowKey: "it's" });
    expect(seen[2].ifMatch).toBe(first.etag);
  });

  test("a token within five minutes of expiry is refreshed, one request for many writes", async () => {
    let now = 0;
    const identity = { calls: 0, getToken: async () => ({ token: `t${++identity.calls}`, expiresOnTimestamp: 10 * 60_000 }) };
    const sign = bearerSigner(identity, () => now);
    expect(await sign(new URL("http://x/"), "")).toEqual({ authorization: "Bearer t1" });
    now = 6 * 60_000;
    const many = await Promise.all([1, 2, 3].map(() => sign(new URL("http://x/"), "")));
    expect(many.map((h) => h.authorization)).toEqual(["Bearer t2", "Bearer t2", "Bearer t2"]);
    expect(identity.calls).toBe(2);
  });

  test("an error the service names is not retried and says what it is; a call never answered, or a token never given, ends at the deadline", async () => {
    const replace = leanRowReplace(storage(), "failoverstate", 400, credential(["t1"], 3600_000))!;
    answers = [(r) => r.writeHead(400, { "content-type": "application/json" }).end('{"odata.error":{"code":"EntityTooLarge","message":{"value":"The entity is larger than allowed.\\nRequestId:1"}}}')];
    const error = (await replace(PARTITION_KEY, "g1", { a: 1 }, "*").catch((e: unknown) => e)) as TableWriteError;
    expect(error).toBeInstanceOf(TableWriteError);
    expect(error.message).toBe("HTTP 400 EntityTooLarge: The entity is larger than allowed.");
    expect(seen).toHaveLength(1);
    answers = [(r) => r.writeHead(400).end("x".repeat(4 * 1024 * 1024))]; // a storage answering megabytes: read at most 64 KiB, named in 300 characters
    const huge = (await replace(PARTITION_KEY, "g1", { a: 1 }, "*").catch((e: unknown) => e)) as TableWriteError;
    expect([huge.statusCode, huge.message.length < 320]).toEqual([400, true]);
    answers = [() => undefined]; // never answered
    const started = Date.now();
    await expect(replace(PARTITION_KEY, "g1", { a: 1 }, "*")).rejects.toBeInstanceOf(StorageTimeoutError);
    expect(Date.now() - started).toBeLessThan(2000);
    // An identity that never hands out a token (the metadata endpoint hung): the same deadline.
    const hungToken = leanRowReplace(storage(), "failoverstate", 400, { getToken: () => new Promise<never>(() => undefined) })!;
    const asked = Date.now();
    await expect(hungToken(PARTITION_KEY, "g1", { a: 1 }, "*")).rejects.toBeInstanceOf(StorageTimeoutError);
    expect(Date.now() - asked).toBeLessThan(2000);
  });
});
