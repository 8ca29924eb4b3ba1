import { app } from "@azure/functions";
import * as df from "durable-functions";
import { consolePage } from "../console/page";
import { readOverviews } from "../core/overview";
import { jsonEndpoint } from "./shared/http";
import { instanceStatus } from "./shared/orchestrationClient";
import { runtimeDeps } from "./shared/runtimeDeps";

/** GET /api/groups: every group's overview (row, effective policy, loop liveness). Reads only. */
app.http("http_groups", {
  route: "groups",
  methods: ["GET"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: jsonEndpoint({ query: [], right: "read" }, async (_request, context) => {
    const deps = runtimeDeps();
    const client = df.getClient(context);
    const groups = await readOverviews(deps.store, deps.config.policy, (group) => instanceStatus(client, group), () => deps.clock.now());
    return { jsonBody: { now: deps.clock.now().toISOString(), groups } };
  }),
});

/** GET /api/console: the operator console, one self-contained page under a strict Content-Security-Policy. */
app.http("http_console", {
  route: "console",
  methods: ["GET"],
  authLevel: "function",
  handler: async () => {
    const page = consolePage();
    return { status: 200, headers: page.headers, body: page.html };
  },
});
