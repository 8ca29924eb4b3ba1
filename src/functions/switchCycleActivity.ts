import * as df from "durable-functions";
import { switchCycle } from "../core/operations";
import { SWITCH_CYCLE_ACTIVITY, switchCycleInputSchema } from "../core/orchestrationContract";
import { traceActivity } from "../core/telemetry";
import { runtimeDeps } from "./shared/runtimeDeps";

/** Activity "switch_cycle": applies and verifies the group's switch plan as the row says, looks for drift, checks readiness when due; a span of the cycle's trace. */
df.app.activity("switch_cycle" satisfies typeof SWITCH_CYCLE_ACTIVITY, {
  handler: (input: unknown) => {
    const { group, cycle, traceparent } = switchCycleInputSchema.parse(input);
    return traceActivity("switch_cycle", group, traceparent, () => switchCycle(runtimeDeps(), group, cycle));
  },
});
