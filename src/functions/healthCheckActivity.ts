import * as df from "durable-functions";
import { cycleCheck } from "../core/operations";
import { HEALTH_CHECK_ACTIVITY, healthCheckInputSchema } from "../core/orchestrationContract";
import { traceCycle } from "../core/telemetry";
import { runtimeDeps } from "./shared/runtimeDeps";

/** Activity "health_check": the orchestration's counted check of one cycle. */
df.app.activity("health_check" satisfies typeof HEALTH_CHECK_ACTIVITY, {
  handler: async (input: unknown) => {
    const { group, cycle } = healthCheckInputSchema.parse(input);
    // The cycle's trace starts here; the orchestration hands its traceparent to the switch.
    const { result, traceparent } = await traceCycle(group, cycle, "health_check", () => cycleCheck(runtimeDeps(), group, cycle));
    return traceparent ? { ...result, traceparent } : result;
  },
});
