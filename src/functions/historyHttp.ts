import { app } from "@azure/functions";
import { z } from "zod";
import { invalidRequest } from "../core/errors";
import { groupOf, jsonEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

const limitSchema = z.coerce.number().int().min(1).max(100);

/** GET /api/history: the group's audit history, newest first, `limit` per page with a continuation token. */
app.http("http_history", {
  route: "history",
  methods: ["GET"],
  authLevel: "function",
  handler: jsonEndpoint(async (request) => {
    const group = groupOf(request);
    const rawLimit = request.query.get("limit") ?? "20";
    const limit = limitSchema.safeParse(rawLimit);
    if (!limit.success) throw invalidRequest({ path: "limit", message: `must be an integer from 1 to 100 (got "${rawLimit}")` });
    const page = await runtimeDeps().audit.list(group, limit.data, request.query.get("continuation") ?? undefined);
    return { jsonBody: { group, ...page } };
  }),
});
