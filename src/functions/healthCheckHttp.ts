import { app } from "@azure/functions";
import { healthCheckRoute } from "../core/httpRoutes";
import { manualCheck } from "../core/operations";
import { groupEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** GET /api/health_check: the original manual check, `{ "healthy": ..., "active_target": ... }` and more; reads, never writes. */
app.http(
  "http_health_check",
  groupEndpoint(healthCheckRoute, async (group) => ({ jsonBody: await manualCheck(runtimeDeps(), group) })),
);
