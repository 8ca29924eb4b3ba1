import { app } from "@azure/functions";
import { z } from "zod";
import { pause } from "../core/operations";
import { controlEndpoint, optionalReason } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** POST /api/pause: no automatic switch for the group (optionally until a time); checks go on. */
app.http(
  "http_pause",
  controlEndpoint(
    "pause",
    z.strictObject({
      until: z.iso.datetime({ offset: true, error: "must be an ISO 8601 time such as 2026-01-01T12:00:00Z" }).optional(),
      reason: optionalReason,
    }),
    (group, input, actor) =>
      pause(runtimeDeps(), group, { ...(input.until ? { until: new Date(input.until) } : {}), ...(input.reason ? { reason: input.reason } : {}), actor }),
  ),
);
