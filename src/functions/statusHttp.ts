import { app } from "@azure/functions";
import * as df from "durable-functions";
import { groupOf, jsonEndpoint } from "./shared/http";
import { instanceStatus } from "./shared/orchestrationClient";
import { runtimeDeps } from "./shared/runtimeDeps";

/** GET /api/status: the group's state row together with its orchestration's runtime status. */
app.http("http_status", {
  route: "status",
  methods: ["GET"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: jsonEndpoint(async (request, context) => {
    const group = groupOf(request);
    const [loaded, orchestration] = await Promise.all([runtimeDeps().store.load(group), instanceStatus(df.getClient(context), group)]);
    return { jsonBody: { group, state: loaded.state, overrides: loaded.overrides, orchestration } };
  }),
});
