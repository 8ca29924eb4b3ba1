import { app } from "@azure/functions";
import { failbackRoute } from "../core/httpRoutes";
import { switchTarget } from "../core/operations";
import { controlEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** POST /api/failback: back to the primary (verified healthy unless forced; cooldown applies unless forced). */
app.http(
  "http_failback",
  controlEndpoint(failbackRoute, (group, input, actor) => switchTarget(runtimeDeps(), group, { ...input, kind: "failback", actor })),
);
