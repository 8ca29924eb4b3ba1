import { app } from "@azure/functions";
import { getPlanRoute } from "../core/httpRoutes";
import { getPlan } from "../core/operations";
import { groupEndpoint } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** GET /api/plan: the group's switch plan as it will run, where it comes from and the row's ETag. */
app.http(
  "http_get_plan",
  groupEndpoint(getPlanRoute, async (group) => ({ jsonBody: await getPlan(runtimeDeps(), group) })),
);
