import { app } from "@azure/functions";
import { drillRoute } from "../core/httpRoutes";
import { startDrill } from "../core/operations";
import { controlEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** POST /api/drill: a switchover and switchback run by the loop, or a dry run answered at once; each leaves a report. */
app.http(
  "http_drill",
  controlEndpoint(drillRoute, (group, input, actor) =>
    startDrill(runtimeDeps(), group, { ...(input.dry_run !== undefined ? { dry_run: input.dry_run } : {}), ...(input.reason ? { reason: input.reason } : {}), actor }),
  ),
);
