import { app } from "@azure/functions";
import { doFailoverRoute } from "../core/httpRoutes";
import { switchTarget } from "../core/operations";
import { controlEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/**
 * POST /api/do_failover: switch away from the active target (or `expected_from`).
 * `{ "changed": false, "reason": "cooldown_active" }` during the cooldown; `force: true` is
 * break-glass and must name `expected_from` (the core refuses it otherwise).
 */
app.http(
  "http_do_failover",
  controlEndpoint(doFailoverRoute, (group, input, actor) => switchTarget(runtimeDeps(), group, { ...input, actor })),
);
