import { app } from "@azure/functions";
import * as df from "durable-functions";
import { statusRoute, type StatusAnswer } from "../core/httpRoutes";
import { groupEndpoint } from "./shared/http";
import { instanceStatus } from "./shared/orchestrationClient";
import { runtimeDeps } from "./shared/runtimeDeps";

/** GET /api/status: the group's state row together with its orchestration's runtime status. */
app.http(
  "http_status",
  groupEndpoint(statusRoute, async (group, _request, context) => {
    const [loaded, orchestration] = await Promise.all([runtimeDeps().store.load(group), instanceStatus(df.getClient(context), group)]);
    const answer: StatusAnswer = { group, state: loaded.state, overrides: loaded.overrides, ...(loaded.overrideIssues.length > 0 ? { override_problems: [...loaded.overrideIssues] } : {}), orchestration };
    return { jsonBody: answer };
  }),
);
