import { app } from "@azure/functions";
import { removePlanRoute } from "../core/httpRoutes";
import { removePlan } from "../core/operations";
import { bodyOf, groupEndpoint, ifMatchOf, wake } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** DELETE /api/plan: remove the row's switch plan (the default group falls back to SWITCH_PLAN). */
app.http(
  "http_remove_plan",
  groupEndpoint(removePlanRoute, async (group, request, context, caller) => {
    const { reason } = await bodyOf(request, removePlanRoute.body);
    const answer = await removePlan(runtimeDeps(), group, { ...ifMatchOf(request), ...(reason ? { reason } : {}), actor: caller.actor });
    if (answer.changed) await wake(context, group, removePlanRoute.operation);
    return { jsonBody: answer };
  }),
);
