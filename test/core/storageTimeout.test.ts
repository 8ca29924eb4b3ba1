import { AzureNamedKeyCredential, generateAccountSas } from "@azure/data-tables";
import { loadConfig } from "../../src/core/config";
import { FailoverError } from "../../src/core/errors";
import { StateStore } from "../../src/core/storage";
import { createTableClient } from "../../src/core/tableClient";
import { initialState } from "../../src/core/state";
import { freePort } from "../../src/local/services/azurite";
import { startFreezableProxy, throughProxy, type FreezableProxy } from "../helpers/freezableProxy";
import { storageConnectionString, uniqueTable } from "../helpers/env";

async function failure(promise: Promise<unknown>): Promise<{ error: FailoverError; ms: number }> {
  const started = Date.now();
  try {
    await promise;
  } catch (err) {
    return { error: err as FailoverError, ms: Date.now() - started };
  }
  throw new Error("expected a failure");
}

describe("storage calls have a deadline (frozen storage through a TCP proxy in front of Azurite)", () => {
  let proxy: FreezableProxy;
  beforeEach(async () => {
    const port = Number(/TableEndpoint=http:\/\/127\.0\.0\.1:(\d+)/.exec(storageConnectionString())![1]);
    proxy = await startFreezableProxy(port);
  });
  afterEach(() => proxy.close());

  test("a frozen storage fails a read as storage_unavailable within the deadline; thawed, the same store works again", async () => {
    const config = loadConfig({ AzureWebJobsStorage: throughProxy(storageConnectionString(), proxy.port) });
    const store = new StateStore(createTableClient(config.storage, uniqueTable("frozen"), 1000));
    await store.ensureTable();
    await store.createGroup("state", initialState("http://p.example/health", "http://s.example/health"), {}, 100);
    proxy.freeze();
    const { error, ms } = await failure(store.load("state"));
    expect(error).toBeInstanceOf(FailoverError);
    expect(error.code).toBe("storage_unavailable");
    expect(error.message).toMatch(/reading group "state".*no answer from Table storage within 1 s/);
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(3000);
    // Writes and lists too.
    expect((await failure(store.listGroups())).error.code).toBe("storage_unavailable");
    proxy.thaw();
    expect((await store.load("state")).state.active_target).toBe("primary");
  });

  test("a SAS token in the connection string never appears in the error", async () => {
    const dev = /AccountName=([^;]+);AccountKey=([^;]+)/.exec(storageConnectionString())!;
    const sas = generateAccountSas(new AzureNamedKeyCredential(dev[1], dev[2]), { expiresOn: new Date(Date.now() + 3600_000) });
    const signature = new URLSearchParams(sas).get("sig")!;
    const deadPort = await freePort();
    const config = loadConfig({ AzureWebJobsStorage: `TableEndpoint=http://127.0.0.1:${deadPort}/${dev[1]};SharedAccessSignature=${sas}` });
    const store = new StateStore(createTableClient(config.storage, "failoverstate", 2000));
    const { error } = await failure(store.load("state"));
    expect(error.code).toBe("storage_unavailable");
    expect(error.message).toContain(`127.0.0.1:${deadPort}`);
    expect(error.message).not.toContain(signature);
    expect(error.message).not.toContain(encodeURIComponent(signature));
  });
});
