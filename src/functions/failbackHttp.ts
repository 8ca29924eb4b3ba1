import { app } from "@azure/functions";
import { z } from "zod";
import { switchTarget } from "../core/operations";
import { controlEndpoint, optionalReason } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** POST /api/failback: back to the primary (verified healthy unless forced; cooldown applies unless forced). */
app.http(
  "http_failback",
  controlEndpoint(
    "failback",
    z.strictObject({ force: z.boolean({ error: "must be true or false" }).optional(), reason: optionalReason }),
    (group, input, actor) => switchTarget(runtimeDeps(), group, { ...input, kind: "failback", actor }),
  ),
);
