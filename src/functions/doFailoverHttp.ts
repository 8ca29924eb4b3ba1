import { app } from "@azure/functions";
import * as df from "durable-functions";
import { z } from "zod";
import { doFailover } from "../core/operations";
import { actorOf, bodyOf, groupOf, jsonEndpoint, optionalReason, wake } from "./http";
import { runtimeDeps } from "./runtime";

const body = z.strictObject({
  force: z.boolean({ error: "must be true or false" }).optional(),
  expected_from: z.enum(["primary", "secondary"], { error: "must be primary or secondary" }).optional(),
  reason: optionalReason,
});

/**
 * POST /api/do_failover: switch away from the active target (or `expected_from`).
 * `{ "changed": false, "reason": "cooldown_active" }` during the cooldown; `force: true` is break-glass.
 */
app.http("http_do_failover", {
  route: "do_failover",
  methods: ["POST"],
  authLevel: "function",
  extraInputs: [df.input.durableClient()],
  handler: jsonEndpoint(async (request, context) => {
    const group = groupOf(request);
    const input = await bodyOf(request, body);
    const result = await doFailover(runtimeDeps(), group, { ...input, actor: actorOf(request) });
    if (result.changed) await wake(context, group, "do_failover");
    return { jsonBody: result };
  }),
});
