import * as df from "durable-functions";
import { healthCheck } from "../core/operations";
import { HEALTH_CHECK_ACTIVITY, groupInputSchema } from "../core/orchestration";
import { runtimeDeps } from "./runtime";

df.app.activity(HEALTH_CHECK_ACTIVITY, {
  handler: (input: unknown) => healthCheck(runtimeDeps(), groupInputSchema.parse(input).group),
});
