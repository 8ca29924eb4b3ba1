import { readCounts } from "../../src/local/tools/cost/costCount";
import { countCosts } from "../../src/local/tools/cost/costVantageCount";
import { storageConnectionString } from "../helpers/env";

/** docs/cost-counts.json (what docs/cost.md's tables are computed from) is what the app asks of storage today. */
test("the committed storage counts are current: recounted on Azurite through the counting proxy", async () => {
  const tableEndpoint = /TableEndpoint=([^;]+)/.exec(storageConnectionString())![1];
  const counts = await countCosts(tableEndpoint);
  // When this fails after a change to what a cycle or the watchdog reads or writes: npm run cost -- --write rewrites the JSON and the generated blocks of docs/cost.md.
  expect(counts).toEqual(readCounts());
  // A healthy cycle writes its row on the ETag of its own previous write, without reading it; the watchdog makes no failing call.
  expect(counts.healthyCycle.requests.failed).toBe(0);
  expect(counts.watchdogRun.fixed.failed + counts.watchdogRun.perGroup.failed).toBe(0);
  // With two vantage agents the controller's cycle asks storage the same; each agent answers the active endpoint and the standby, and its registry lists the table at most once.
  expect(counts.vantageCycle.controllerRequests).toEqual(counts.healthyCycle.requests);
  expect(counts.vantageCycle.perAgent.calls).toBe(2);
  expect(counts.vantageCycle.perAgent.requests.query).toBeLessThanOrEqual(1);
}, 60_000);
