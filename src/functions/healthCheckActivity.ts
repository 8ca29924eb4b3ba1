import * as df from "durable-functions";
import { cycleCheck } from "../core/operations";
import { HEALTH_CHECK_ACTIVITY, healthCheckInputSchema } from "../core/orchestration";
import { runtimeDeps } from "./runtime";

df.app.activity(HEALTH_CHECK_ACTIVITY, {
  handler: (input: unknown) => {
    const { group, cycle } = healthCheckInputSchema.parse(input);
    return cycleCheck(runtimeDeps(), group, cycle);
  },
});
