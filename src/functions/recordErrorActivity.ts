import * as df from "durable-functions";
import { recordCheckError } from "../core/operations";
import { RECORD_ERROR_ACTIVITY, recordErrorInputSchema } from "../core/orchestration";
import { runtimeDeps } from "./runtime";

df.app.activity(RECORD_ERROR_ACTIVITY, {
  handler: (input: unknown) => {
    const { group, error } = recordErrorInputSchema.parse(input);
    return recordCheckError(runtimeDeps(), group, error);
  },
});
