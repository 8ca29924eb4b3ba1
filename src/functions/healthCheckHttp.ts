import { app } from "@azure/functions";
import { manualCheck } from "../core/operations";
import { groupOf, jsonEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** GET /api/health_check: the original manual check, `{ "healthy": ..., "active_target": ... }` and more; reads, never writes. */
app.http("http_health_check", {
  route: "health_check",
  methods: ["GET"],
  authLevel: "function",
  handler: jsonEndpoint(async (request) => ({ jsonBody: await manualCheck(runtimeDeps(), groupOf(request)) })),
});
