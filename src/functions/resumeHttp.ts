import { app } from "@azure/functions";
import { z } from "zod";
import { resume } from "../core/operations";
import { controlEndpoint, optionalReason } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** POST /api/resume: automatic failover is back on for the group. */
app.http(
  "http_resume",
  controlEndpoint("resume", z.strictObject({ reason: optionalReason }), (group, input, actor) =>
    resume(runtimeDeps(), group, { ...(input.reason ? { reason: input.reason } : {}), actor }),
  ),
);
