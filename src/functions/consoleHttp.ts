import { app } from "@azure/functions";
import * as df from "durable-functions";
import { consolePage } from "../console/page";
import { consoleRoute, groupsRoute, type GroupsAnswer } from "../core/httpRoutes";
import { rightsOf } from "../core/identity";
import { readOverviews } from "../core/overview";
import { planText } from "../core/switch/saga";
import { jsonRoute } from "./shared/http";
import { instanceStatus } from "./shared/orchestrationClient";
import { runtimeDeps } from "./shared/runtimeDeps";

/** GET /api/groups: every group's overview (row, effective policy, traffic, loop liveness) and what the caller may do. Reads only. */
app.http("http_groups", {
  ...jsonRoute(groupsRoute, async (_request, context, caller) => {
    const deps = runtimeDeps();
    const { config } = deps;
    const client = df.getClient(context);
    const hasPlan = (group: string, raw: Readonly<Record<string, unknown>>) => planText(raw, group, config) !== undefined;
    const groups = await readOverviews(
      deps.store,
      config.policy,
      (group) => instanceStatus(client, group),
      () => deps.clock.now(),
      hasPlan,
    );
    const answer: GroupsAnswer = { now: deps.clock.now().toISOString(), caller: rightsOf(caller, config.authEnabled), groups };
    return { jsonBody: answer };
  }),
  extraInputs: [df.input.durableClient()],
});

/** GET /api/console: the operator console, one self-contained page under a strict Content-Security-Policy. */
app.http("http_console", {
  route: consoleRoute.path,
  methods: [consoleRoute.method],
  authLevel: "function",
  handler: async () => {
    const page = consolePage();
    return { status: 200, headers: page.headers, body: page.html };
  },
});
