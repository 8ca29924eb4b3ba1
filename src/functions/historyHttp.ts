import { app } from "@azure/functions";
import { invalidRequest } from "../core/errors";
import { historyRoute, type HistoryAnswer } from "../core/httpRoutes";
import { groupOf, jsonRoute } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** GET /api/history: the group's audit history, newest first, `limit` per page with a continuation token. */
app.http(
  "http_history",
  jsonRoute(historyRoute, async (request) => {
    const group = groupOf(request);
    const deps = runtimeDeps();
    const rawLimit = request.query.get("limit") ?? "20";
    const limit = historyRoute.query.shape.limit.safeParse(rawLimit);
    if (!limit.success || limit.data === undefined) throw invalidRequest({ path: "limit", message: `must be an integer from 1 to 100 (got "${rawLimit}")` });
    await deps.store.loadRaw(group); // an unknown group is a 404, not an empty page
    const page = await deps.audit.list(group, limit.data, request.query.get("continuation") ?? undefined);
    const answer: HistoryAnswer = { group, ...page };
    return { jsonBody: answer };
  }),
);
