import { app } from "@azure/functions";
import { manualCheck } from "../core/operations";
import { groupEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** GET /api/health_check: the original manual check, `{ "healthy": ..., "active_target": ... }` and more; reads, never writes. */
app.http(
  "http_health_check",
  groupEndpoint("health_check", "GET", async (group) => ({ jsonBody: await manualCheck(runtimeDeps(), group) })),
);
