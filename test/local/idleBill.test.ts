import { azuriteConnectionString } from "../../src/local/services/azurite";
import { startCountingProxy, type CountingProxy } from "../../src/local/services/countingProxy";
import { registeredFunctions, triggerOf } from "../../src/local/host/functionsCore";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { startSampleBackend, type SampleBackend } from "../../src/local/services/sampleBackend";
import { eventually } from "../../src/local/tools/client";
import { storageConnectionString, testEnv } from "../helpers/env";

/** The idle bill: what the app itself asks of storage when nothing happens, counted on Azurite. */
describe("idle storage traffic of the app", () => {
  let proxy: CountingProxy;
  let primary: SampleBackend;
  let secondary: SampleBackend;
  let host: LocalHost;

  beforeEach(async () => {
    const tableEndpoint = /TableEndpoint=([^;]+)/.exec(storageConnectionString())![1];
    proxy = await startCountingProxy(tableEndpoint);
    primary = await startSampleBackend("primary");
    secondary = await startSampleBackend("secondary");
    const env = testEnv({ AzureWebJobsStorage: azuriteConnectionString(proxy.endpoint), PRIMARY_ENDPOINT: primary.url, SECONDARY_ENDPOINT: secondary.url, CHECK_INTERVAL_SECONDS: "3600" });
    host = await startLocalHost({ env, timers: false });
  });
  afterEach(async () => {
    await host.stop();
    await primary.close();
    await secondary.close();
    await proxy.close();
  });

  test("the watchdog runs every 5 minutes", () => {
    expect(triggerOf(registeredFunctions().get("watchdog")!).schedule).toBe("0 */5 * * * *");
  });

  test("a watchdog run on the happy path makes no failing storage call: tables created once, the row read before any create", async () => {
    await host.runTimer("watchdog"); // first run: creates the tables and the row, starts the loop
    await eventually("the first cycle", async () => ((host.taskHub.stats("failover-state")?.executions ?? 0) >= 1 && proxy.requests.some((r) => r.method === "PUT") ? true : undefined));
    await host.taskHub.idle();
    proxy.requests.length = 0;
    for (let run = 0; run < 3; run++) await host.runTimer("watchdog");
    const failing = proxy.requests.filter((r) => r.status >= 400);
    expect(failing).toEqual([]);
    // Per run: read the default row, list the groups, read the group's audit partition for retention. Nothing else.
    expect(proxy.requests.map((r) => r.method)).toEqual(Array(9).fill("GET"));
    expect(host.taskHub.stats("failover-state")).toMatchObject({ starts: 1 });
  });
});
