import { app } from "@azure/functions";
import * as df from "durable-functions";
import { z } from "zod";
import { pause } from "../core/operations";
import { actorOf, bodyOf, groupOf, jsonEndpoint, optionalReason, wake } from "./http";
import { runtimeDeps } from "./runtime";

const body = z.strictObject({
  until: z.iso.datetime({ offset: true, error: "must be an ISO 8601 time such as 2026-01-01T12:00:00Z" }).optional(),
  reason: optionalReason,
});

/** POST /api/pause: no automatic switch for the group (optionally until a time); checks go on. */
app.http("http_pause", {
  route: "pause",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: jsonEndpoint(async (request, context) => {
    const group = groupOf(request);
    const input = await bodyOf(request, body);
    const result = await pause(runtimeDeps(), group, {
      ...(input.until ? { until: new Date(input.until) } : {}),
      ...(input.reason ? { reason: input.reason } : {}),
      actor: actorOf(request),
    });
    if (result.changed) await wake(context, group, "pause");
    return { jsonBody: result };
  }),
});
