import { app } from "@azure/functions";
import { z } from "zod";
import { switchTarget } from "../core/operations";
import { controlEndpoint, optionalReason } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/**
 * POST /api/do_failover: switch away from the active target (or `expected_from`).
 * `{ "changed": false, "reason": "cooldown_active" }` during the cooldown; `force: true` is
 * break-glass and must name `expected_from` (the core refuses it otherwise).
 */
app.http(
  "http_do_failover",
  controlEndpoint(
    "do_failover",
    z.strictObject({
      force: z.boolean({ error: "must be true or false" }).optional(),
      expected_from: z.enum(["primary", "secondary"], { error: "must be primary or secondary" }).optional(),
      reason: optionalReason,
    }),
    (group, input, actor) => switchTarget(runtimeDeps(), group, { ...input, actor }),
  ),
);
