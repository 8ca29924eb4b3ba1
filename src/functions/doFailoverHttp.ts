import { z } from "zod";
import { doFailover } from "../core/operations";
import { controlEndpoint, optionalReason } from "./http";
import { runtimeDeps } from "./runtime";

/**
 * POST /api/do_failover: switch away from the active target (or `expected_from`).
 * `{ "changed": false, "reason": "cooldown_active" }` during the cooldown; `force: true` is break-glass.
 */
controlEndpoint(
  "do_failover",
  z.strictObject({
    force: z.boolean({ error: "must be true or false" }).optional(),
    expected_from: z.enum(["primary", "secondary"], { error: "must be primary or secondary" }).optional(),
    reason: optionalReason,
  }),
  (group, input, actor) => doFailover(runtimeDeps(), group, { ...input, actor }),
);
