import * as df from "durable-functions";
import { recordCheckError } from "../core/operations";
import { RECORD_ERROR_ACTIVITY, recordErrorInputSchema } from "../core/orchestrationContract";
import { traceActivity } from "../core/telemetry";
import { runtimeDeps } from "./shared/runtimeDeps";

/** Activity "record_check_error": writes CHECK_ERROR and the error on the row when a check failed. */
df.app.activity("record_check_error" satisfies typeof RECORD_ERROR_ACTIVITY, {
  handler: (input: unknown) => {
    const { group, error } = recordErrorInputSchema.parse(input);
    return traceActivity("record_check_error", group, undefined, () => recordCheckError(runtimeDeps(), group, error));
  },
});
