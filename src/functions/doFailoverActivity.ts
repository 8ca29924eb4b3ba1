import * as df from "durable-functions";
import { doFailover } from "../core/operations";
import { DO_FAILOVER_ACTIVITY, failoverActivityInputSchema } from "../core/orchestration";
import { runtimeDeps } from "./runtime";

df.app.activity(DO_FAILOVER_ACTIVITY, {
  handler: (input: unknown) => {
    const { group, ...request } = failoverActivityInputSchema.parse(input);
    return doFailover(runtimeDeps(), group, request);
  },
});
