import { app } from "@azure/functions";
import { pauseRoute } from "../core/httpRoutes";
import { pause } from "../core/operations";
import { controlEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** POST /api/pause: no automatic switch for the group (optionally until a time); checks go on. */
app.http(
  "http_pause",
  controlEndpoint(pauseRoute, (group, input, actor) =>
    pause(runtimeDeps(), group, { ...(input.until ? { until: new Date(input.until) } : {}), ...(input.reason ? { reason: input.reason } : {}), actor }),
  ),
);
