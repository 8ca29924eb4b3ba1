import { app } from "@azure/functions";
import { retrySwitchRoute } from "../core/httpRoutes";
import { retrySwitch } from "../core/operations";
import { controlEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** POST /api/retry_switch: a held or undone switch is applied again, once a human has fixed its cause. */
app.http(
  "http_retry_switch",
  controlEndpoint(retrySwitchRoute, (group, input, actor) => retrySwitch(runtimeDeps(), group, { ...(input.reason ? { reason: input.reason } : {}), actor })),
);
