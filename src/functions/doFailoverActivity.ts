import * as df from "durable-functions";
import { switchTarget } from "../core/operations";
import { DO_FAILOVER_ACTIVITY, failoverActivityInputSchema } from "../core/orchestrationContract";
import { traceActivity } from "../core/telemetry";
import { runtimeDeps } from "./shared/runtimeDeps";

/** Activity "do_failover": the orchestration's switch (a failover or an automatic failback). */
df.app.activity("do_failover" satisfies typeof DO_FAILOVER_ACTIVITY, {
  handler: (input: unknown) => {
    const { group, traceparent, ...request } = failoverActivityInputSchema.parse(input);
    return traceActivity("do_failover", group, traceparent, () => switchTarget(runtimeDeps(), group, request));
  },
});
