import { app } from "@azure/functions";
import { setPlanRoute } from "../core/httpRoutes";
import { setPlan } from "../core/operations";
import { bodyOf, groupEndpoint, ifMatchOf, wake } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/** PUT /api/plan: validate the plan, check its readiness and write both on the row (If-Match: only on that ETag). */
app.http(
  "http_set_plan",
  groupEndpoint(setPlanRoute, async (group, request, context, caller) => {
    const { plan, reason } = await bodyOf(request, setPlanRoute.body);
    const answer = await setPlan(runtimeDeps(), group, plan, { ...ifMatchOf(request), ...(reason ? { reason } : {}), actor: caller.actor });
    if (answer.changed) await wake(context, group, setPlanRoute.operation);
    return { jsonBody: answer };
  }),
);
