import { app } from "@azure/functions";
import * as df from "durable-functions";
import { instanceIdFor } from "../core/orchestrationContract";
import { groupOf, jsonEndpoint } from "./shared/http";
import { ensureOrchestration } from "./shared/orchestrationClient";
import { runtimeDeps } from "./shared/runtimeDeps";

/**
 * POST /api/start: starts the group's singleton orchestration unless it is already running,
 * and answers with the Durable HTTP status endpoints either way.
 */
app.http("http_start", {
  route: "start",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: jsonEndpoint(async (request, context) => {
    const deps = runtimeDeps();
    const group = groupOf(request);
    await deps.store.loadRaw(group); // a group without a row has nothing to orchestrate (a malformed one gets CHECK_ERROR recorded)
    const client = df.getClient(context);
    const { started } = await ensureOrchestration(client, group, deps.config.policy.check_interval_seconds);
    context.log(`${started ? "started" : "already running"}: ${instanceIdFor(group)}`);
    return client.createCheckStatusResponse(request, instanceIdFor(group));
  }),
});
