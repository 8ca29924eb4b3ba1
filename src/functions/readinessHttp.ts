import { app } from "@azure/functions";
import { readinessRoute } from "../core/httpRoutes";
import { readiness } from "../core/operations";
import { groupEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** GET /api/readiness: can every step of the group's switch plan run? Reads only. */
app.http(
  "http_readiness",
  groupEndpoint(readinessRoute, async (group) => ({ jsonBody: await readiness(runtimeDeps(), group) })),
);
