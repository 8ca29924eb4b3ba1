import * as df from "durable-functions";
import { switchCycle } from "../core/operations";
import { SWITCH_CYCLE_ACTIVITY, switchCycleInputSchema } from "../core/orchestrationContract";
import { runtimeDeps } from "./shared/runtimeDeps";

/** Activity "switch_cycle": applies and verifies the group's switch plan as the row says. */
df.app.activity("switch_cycle" satisfies typeof SWITCH_CYCLE_ACTIVITY, {
  handler: (input: unknown) => switchCycle(runtimeDeps(), switchCycleInputSchema.parse(input).group),
});
