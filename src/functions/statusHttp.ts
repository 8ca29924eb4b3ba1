import { app } from "@azure/functions";
import * as df from "durable-functions";
import { redact } from "../core/redact";
import { statusRoute, type StatusAnswer } from "../core/httpRoutes";
import { groupEndpoint } from "./shared/http";
import { instanceStatus } from "./shared/orchestrationClient";
import { runtimeDeps } from "./shared/runtimeDeps";

/** GET /api/status: the group's state row together with its orchestration's runtime status. */
app.http(
  "http_status",
  groupEndpoint(statusRoute, async (group, _request, context) => {
    const [loaded, orchestration] = await Promise.all([runtimeDeps().store.load(group), instanceStatus(df.getClient(context), group)]);
    // A secret in an endpoint edited into the row by hand is not shown to readers (init refuses one).
    const state = { ...loaded.state, primary_endpoint: redact(loaded.state.primary_endpoint), secondary_endpoint: redact(loaded.state.secondary_endpoint) };
    const answer: StatusAnswer = { group, state, overrides: loaded.overrides, ...(loaded.overrideIssues.length > 0 ? { override_problems: [...loaded.overrideIssues] } : {}), orchestration };
    return { jsonBody: answer };
  }),
);
