import { z } from "zod";
import { resume } from "../core/operations";
import { controlEndpoint, optionalReason } from "./http";
import { runtimeDeps } from "./runtime";

/** POST /api/resume: automatic failover is back on for the group. */
controlEndpoint("resume", z.strictObject({ reason: optionalReason }), (group, input, actor) =>
  resume(runtimeDeps(), group, { ...(input.reason ? { reason: input.reason } : {}), actor }),
);
