import { app } from "@azure/functions";
import { holdRoute } from "../core/httpRoutes";
import { hold } from "../core/operations";
import { controlEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** POST /api/hold: no automatic failback for the group until a time at most 72 h away; the caller owns the hold. */
app.http(
  "http_hold",
  controlEndpoint(holdRoute, (group, input, actor) => hold(runtimeDeps(), group, { until: new Date(input.until), reason: input.reason, actor })),
);
