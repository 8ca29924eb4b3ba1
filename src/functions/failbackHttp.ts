import { z } from "zod";
import { doFailover } from "../core/operations";
import { controlEndpoint, optionalReason } from "./http";
import { runtimeDeps } from "./runtime";

/** POST /api/failback: back to the primary (verified healthy unless forced; cooldown applies unless forced). */
controlEndpoint(
  "failback",
  z.strictObject({ force: z.boolean({ error: "must be true or false" }).optional(), reason: optionalReason }),
  (group, input, actor) => doFailover(runtimeDeps(), group, { ...input, kind: "failback", expected_from: "secondary", actor }),
);
