import { app } from "@azure/functions";
import * as df from "durable-functions";
import { instanceIdFor } from "../core/orchestrationContract";
import { groupEndpoint } from "./shared/http";
import { ensureOrchestration } from "./shared/orchestrationClient";
import { runtimeDeps } from "./shared/runtimeDeps";

/**
 * POST /api/start: starts the group's singleton orchestration unless it is already running,
 * and answers with the Durable HTTP status endpoints either way.
 */
app.http(
  "http_start",
  groupEndpoint("start", "POST", async (group, request, context) => {
    const deps = runtimeDeps();
    await deps.store.loadRaw(group); // a group without a row has nothing to orchestrate (a malformed one gets CHECK_ERROR recorded)
    const client = df.getClient(context);
    const { started } = await ensureOrchestration(client, group, deps.config.policy.check_interval_seconds);
    context.log(`${started ? "started" : "already running"}: ${instanceIdFor(group)}`);
    return client.createCheckStatusResponse(request, instanceIdFor(group));
  }),
);
