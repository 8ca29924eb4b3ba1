import { app } from "@azure/functions";
import { invalidRequest } from "../core/errors";
import { initRoute, type InitAnswer } from "../core/httpRoutes";
import { overrideRowValues } from "../core/state";
import { bootstrap, planFromRequest, recordReadiness } from "../core/operations";
import { bodyOf, jsonRoute } from "./shared/http";
import { runtimeDeps } from "./shared/runtimeDeps";

/**
 * POST /api/init: the original "create the initial entity" step, and the way to add a group.
 * Idempotent: an existing row is returned (200); a new one answers 201. With a switch plan,
 * the plan's readiness is checked, recorded on the row and returned (not ready is a warning).
 */
app.http(
  "http_init",
  jsonRoute(initRoute, async (request) => {
    const deps = runtimeDeps();
    // The policy knobs are parsed by the same schemas as the row's overrides.
    const { group: bodyGroup, primary_endpoint, secondary_endpoint, primary_region, secondary_region, switch_plan, ...knobs } = await bodyOf(request, initRoute.body);
    // The group comes from the body or the query; both given must agree.
    const queryGroup = request.query.get("group") ?? undefined;
    if (queryGroup !== undefined && !initRoute.query.shape.group.safeParse(queryGroup).success)
      throw invalidRequest({ path: "group", message: "must be 1-63 letters, digits, '-' or '_', starting with a letter or digit" });
    if (queryGroup !== undefined && bodyGroup !== undefined && queryGroup !== bodyGroup) {
      throw invalidRequest({ path: "group", message: `given as "${queryGroup}" in the query and "${bodyGroup}" in the body; give it once` });
    }
    const group = bodyGroup ?? queryGroup;
    if ((primary_endpoint === undefined) !== (secondary_endpoint === undefined)) {
      const missing = primary_endpoint === undefined ? "primary_endpoint" : "secondary_endpoint";
      throw invalidRequest({ path: missing, message: "primary_endpoint and secondary_endpoint go together: give both or neither" });
    }
    const target = group ?? deps.config.defaultGroup;
    const result = await bootstrap(deps, {
      group: target,
      ...(primary_endpoint && secondary_endpoint ? { primary_endpoint, secondary_endpoint } : {}),
      ...(primary_region ? { primary_region } : {}),
      ...(secondary_region ? { secondary_region } : {}),
      // The plan is checked as PUT /api/plan checks it (App Configuration hosts included) and stored as its JSON text.
      overrides: { ...overrideRowValues(knobs), ...(switch_plan ? { switch_plan: planFromRequest(switch_plan, deps.config).text } : {}) },
    });
    // Readiness of the switch plan, recorded on the row: a warning, never a reason to refuse init.
    const readiness = await recordReadiness(deps, target).catch((err: unknown) => ({ plan: "unknown", ready: false, problems: [`the readiness check failed: ${(err as Error).message}`] }));
    const plan = readiness.plan === "none" && readiness.problems.length === 0 ? {} : { readiness: { ready: readiness.ready, problems: readiness.problems } };
    const answer: InitAnswer = { group: target, created: result.created, state: result.state, ...plan };
    return { status: result.created ? 201 : 200, jsonBody: answer };
  }),
);
