import { app } from "@azure/functions";
import * as df from "durable-functions";
import { z } from "zod";
import { resume } from "../core/operations";
import { actorOf, bodyOf, groupOf, jsonEndpoint, optionalReason, wake } from "./http";
import { runtimeDeps } from "./runtime";

const body = z.strictObject({ reason: optionalReason });

/** POST /api/resume: automatic failover is back on for the group. */
app.http("http_resume", {
  route: "resume",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: jsonEndpoint(async (request, context) => {
    const group = groupOf(request);
    const input = await bodyOf(request, body);
    const result = await resume(runtimeDeps(), group, { ...(input.reason ? { reason: input.reason } : {}), actor: actorOf(request) });
    if (result.changed) await wake(context, group, "resume");
    return { jsonBody: result };
  }),
});
