import { app } from "@azure/functions";
import * as df from "durable-functions";
import { z } from "zod";
import { doFailover } from "../core/operations";
import { actorOf, bodyOf, groupOf, jsonEndpoint, optionalReason, wake } from "./http";
import { runtimeDeps } from "./runtime";

const body = z.strictObject({ force: z.boolean({ error: "must be true or false" }).optional(), reason: optionalReason });

/** POST /api/failback: back to the primary (verified healthy unless forced; cooldown applies unless forced). */
app.http("http_failback", {
  route: "failback",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: jsonEndpoint(async (request, context) => {
    const group = groupOf(request);
    const input = await bodyOf(request, body);
    const result = await doFailover(runtimeDeps(), group, { ...input, kind: "failback", expected_from: "secondary", actor: actorOf(request) });
    if (result.changed) await wake(context, group, "failback");
    return { jsonBody: result };
  }),
});
