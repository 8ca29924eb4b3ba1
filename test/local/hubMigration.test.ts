import { TableClient } from "@azure/data-tables";
import { PARTITION_KEY } from "../../src/core/state";
import { call, eventually } from "../../src/local/tools/client";
import { startLocalHost } from "../../src/local/host/host";
import { startSampleBackend, type SampleBackend } from "../../src/local/services/sampleBackend";
import { storageConnectionString, testEnv } from "../helpers/env";

/**
 * What docs/deploy.md promises of a deployment that moves to a new task hub (the
 * partition-count upgrade, or a change of Durable backend): the rows are the truth, so the
 * watchdog's first run against the new, empty hub starts a loop for every group, and each loop
 * goes on from its row (a failed-over group stays on its secondary). Two local hosts on the
 * same tables, each with its own task hub, play the deployment before and after.
 */
describe("moving to a new task hub", () => {
  let primary: SampleBackend;
  let secondary: SampleBackend;
  beforeAll(async () => {
    primary = await startSampleBackend("primary");
    secondary = await startSampleBackend("secondary");
  });
  afterAll(async () => {
    await primary.close();
    await secondary.close();
  });

  test("the watchdog's first run in the new hub starts every group's loop, which goes on from its row", async () => {
    const env = testEnv({ PRIMARY_ENDPOINT: primary.url, SECONDARY_ENDPOINT: secondary.url, CHECK_INTERVAL_SECONDS: "1", COOLDOWN_SECONDS: "600" });
    const before = await startLocalHost({ env, timers: false, taskHubName: "FailoverHub" });
    try {
      await call(before.url, "POST", "/api/init");
      await call(before.url, "POST", "/api/init", { group: "other", primary_endpoint: primary.url, secondary_endpoint: secondary.url });
      await before.runTimer("watchdog");
      expect((await call(before.url, "POST", "/api/do_failover?group=other", { reason: "before the move" })).body).toMatchObject({ changed: true, active_target: "secondary" });
    } finally {
      await before.stop();
    }

    const after = await startLocalHost({ env, timers: false, taskHubName: "FailoverHubP1" });
    try {
      expect(after.taskHub.list()).toEqual([]); // the new hub knows no instance
      await after.runTimer("watchdog");
      for (const instance of ["failover-state", "failover-other"]) {
        await eventually(`${instance} running in the new hub`, async () => (after.taskHub.status(instance)?.runtimeStatus === "Running" ? true : undefined));
      }
      const table = TableClient.fromConnectionString(storageConnectionString(), env.FAILOVER_TABLE, { allowInsecureConnection: true });
      const checked = await eventually("a check of the failed-over group by its new loop", async () => {
        const row = await table.getEntity<Record<string, unknown>>(PARTITION_KEY, "other");
        return row.consecutive_successes ? row : undefined;
      });
      expect(checked).toMatchObject({ active_target: "secondary", failover_count: 1 });
      expect((await table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state")).active_target).toBe("primary");
    } finally {
      await after.stop();
    }
  }, 60_000);
});
