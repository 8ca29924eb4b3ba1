import { app } from "@azure/functions";
import * as df from "durable-functions";
import { describeError } from "../core/errors";
import { bootstrap } from "../core/operations";
import { ensureOrchestration } from "./orchestrations";
import { runtimeDeps } from "./runtime";

/**
 * Every minute: make sure the default group's row exists (when its endpoints are configured)
 * and that every group's singleton orchestration is alive. A fresh deployment needs no manual
 * start, and one group's failure never stops the others.
 */
app.timer("watchdog", {
  schedule: "0 */1 * * * *",
  extraInputs: [df.input.durableClient()],
  handler: async (_timer, context) => {
    const deps = runtimeDeps();
    if (deps.config.primaryEndpoint && deps.config.secondaryEndpoint) {
      await bootstrap(deps, { group: deps.config.defaultGroup });
    } else {
      await deps.store.ensureTable();
    }
    const client = df.getClient(context);
    for (const group of await deps.store.listGroups()) {
      try {
        const { started, instance } = await ensureOrchestration(client, group, deps.config.policy.check_interval_seconds);
        if (started) context.log(`watchdog started ${instance.instance_id} (was ${instance.runtime_status ?? "missing"})`);
      } catch (err) {
        context.error(`watchdog could not ensure the orchestration of group "${group}": ${describeError(err)}`);
      }
    }
  },
});
