import { app } from "@azure/functions";
import { releaseRoute } from "../core/httpRoutes";
import { release } from "../core/operations";
import { controlEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** POST /api/release: ends the group's failback hold before its time. */
app.http(
  "http_release",
  controlEndpoint(releaseRoute, (group, input, actor) => release(runtimeDeps(), group, { ...(input.reason ? { reason: input.reason } : {}), actor })),
);
