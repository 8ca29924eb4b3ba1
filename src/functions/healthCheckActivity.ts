import * as df from "durable-functions";
import { cycleCheck } from "../core/operations";
import { HEALTH_CHECK_ACTIVITY, healthCheckInputSchema } from "../core/orchestrationContract";
import { runtimeDeps } from "./shared/runtimeDeps";

/** Activity "health_check": the orchestration's counted check of one cycle. */
df.app.activity("health_check" satisfies typeof HEALTH_CHECK_ACTIVITY, {
  handler: (input: unknown) => {
    const { group, cycle } = healthCheckInputSchema.parse(input);
    return cycleCheck(runtimeDeps(), group, cycle);
  },
});
