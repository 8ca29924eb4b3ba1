import { app } from "@azure/functions";
import { healthCheck } from "../core/operations";
import { groupOf, jsonEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** GET /api/health_check: the original manual check, `{ "healthy": ..., "active_target": ... }` and more. */
app.http("http_health_check", {
  route: "health_check",
  methods: ["GET"],
  authLevel: "function",
  handler: jsonEndpoint(async (request) => ({ jsonBody: await healthCheck(runtimeDeps(), groupOf(request)) })),
});
