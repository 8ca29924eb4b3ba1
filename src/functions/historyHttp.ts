import { app } from "@azure/functions";
import { z } from "zod";
import { invalidRequest } from "../core/errors";
import { groupOf, jsonEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

// Digits only: "1e1", " 5" or "5.0" are refused, not read as a number.
const limitSchema = z.string().regex(/^\d{1,3}$/).transform(Number).pipe(z.number().int().min(1).max(100));

/** GET /api/history: the group's audit history, newest first, `limit` per page with a continuation token. */
app.http("http_history", {
  route: "history",
  methods: ["GET"],
  authLevel: "function",
  handler: jsonEndpoint({ query: ["group", "limit", "continuation"], right: "read" }, async (request) => {
    const group = groupOf(request);
    const deps = runtimeDeps();
    const rawLimit = request.query.get("limit") ?? "20";
    const limit = limitSchema.safeParse(rawLimit);
    if (!limit.success) throw invalidRequest({ path: "limit", message: `must be an integer from 1 to 100 (got "${rawLimit}")` });
    await deps.store.loadRaw(group); // an unknown group is a 404, not an empty page
    const page = await deps.audit.list(group, limit.data, request.query.get("continuation") ?? undefined);
    return { jsonBody: { group, ...page } };
  }),
});
