import { app } from "@azure/functions";
import { resumeRoute } from "../core/httpRoutes";
import { resume } from "../core/operations";
import { controlEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** POST /api/resume: automatic failover is back on for the group. */
app.http(
  "http_resume",
  controlEndpoint(resumeRoute, (group, input, actor) => resume(runtimeDeps(), group, { ...(input.reason ? { reason: input.reason } : {}), actor })),
);
