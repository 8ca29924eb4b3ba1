import { app } from "@azure/functions";
import { z } from "zod";
import { retrySwitch } from "../core/operations";
import { controlEndpoint, optionalReason } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** POST /api/retry_switch: a held or undone switch is applied again, once a human has fixed its cause. */
app.http(
  "http_retry_switch",
  controlEndpoint("retry_switch", z.strictObject({ reason: optionalReason }), (group, input, actor) =>
    retrySwitch(runtimeDeps(), group, { ...(input.reason ? { reason: input.reason } : {}), actor }),
  ),
);
