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
  z
    .strictObject({
      force: z.boolean({ error: "must be true or false" }).optional(),
      expected_from: z.enum(["primary", "secondary"], { error: "must be primary or secondary" }).optional(),
      reason: optionalReason,
    })
    // A forced switch skips the cooldown, so a retried request would switch back: it must say which way.
    .refine((body) => body.force !== true || body.expected_from !== undefined, {
      path: ["expected_from"],
      message: "is required with force: true (the target to move away from), so a retried request cannot switch back",
    }),
  (group, input, actor) => doFailover(runtimeDeps(), group, { ...input, actor }),
);
