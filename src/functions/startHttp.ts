import { app } from "@azure/functions";
import * as df from "durable-functions";
import { startRoute, type StartAnswer } from "../core/httpRoutes";
import { instanceIdFor } from "../core/orchestrationContract";
import { groupEndpoint } from "./shared/http";
import { ensureOrchestration } from "./shared/orchestrationClient";
import { runtimeDeps } from "./shared/runtimeDeps";

/**
 * POST /api/start: starts the group's singleton orchestration unless it is already running.
 * It answers with the app's own status route, never the Durable extension's endpoints: those
 * carry the system key, which would let a caller suspend, terminate or purge the loop.
 */
app.http(
  "http_start",
  groupEndpoint(startRoute, async (group, request, context) => {
    const deps = runtimeDeps();
    await deps.store.loadRaw(group); // a group without a row has nothing to orchestrate (a malformed one gets CHECK_ERROR recorded)
    const client = df.getClient(context);
    const { started, instance } = await ensureOrchestration(client, group, deps.config.policy.check_interval_seconds);
    context.log(`${started ? "started" : "already running"}: ${instanceIdFor(group)}`);
    const statusUrl = `${new URL(request.url).origin}/api/status?group=${encodeURIComponent(group)}`;
    const answer: StartAnswer = { id: instanceIdFor(group), group, started, ...(started ? {} : { runtime_status: instance.runtime_status }), statusQueryGetUri: statusUrl };
    return { status: 202, headers: { location: statusUrl }, jsonBody: answer };
  }),
);
