import { error, last, type Answer } from "./armResources";

/**
 * The answers of ARM's asynchronous operations, as the async-operations document of ARM
 * describes them, shared by the stand-in's resources whose actions are long-running (SQL
 * failover groups, Cosmos DB accounts, storage accounts).
 */

export interface OperationState {
  status: "InProgress" | "Succeeded" | "Failed";
  readonly startTime: string;
  endTime?: string;
  fails?: { readonly code: string; readonly message: string };
}

/** The 202 that starts an operation: its status at Azure-AsyncOperation (`base/statusPath/id`), its result at Location (`base/resultPath/id`). */
export function accepted(base: string, statusPath: string, resultPath: string, id: string, apiVersion: string): Answer {
  return {
    status: 202,
    headers: {
      "azure-asyncoperation": `${base}/${statusPath}/${id}?api-version=${apiVersion}`,
      location: `${base}/${resultPath}/${id}?api-version=${apiVersion}`,
      "retry-after": "1",
    },
  };
}

/**
 * A GET of an operation: at its result URL, 202 until it ends, then `result()` (or its failure as
 * an error); at its status URL, its status with its times (and error when it Failed).
 */
export function operationAnswer(path: string, isResult: boolean, op: OperationState | undefined, endpoint: string, apiVersion: string, result: () => Answer): Answer {
  if (!op) return error(404, "NotFound", `Operation ${last(path)} not found.`);
  const done = op.status !== "InProgress";
  if (isResult) {
    if (!done) return { status: 202, headers: { location: `${endpoint}${path}?api-version=${apiVersion}`, "retry-after": "1" } };
    return op.status === "Failed" ? error(500, op.fails!.code, op.fails!.message) : result();
  }
  const failure = op.status === "Failed" && op.fails ? { error: { code: op.fails.code, message: op.fails.message } } : {};
  return {
    status: 200,
    body: { name: last(path), status: op.status, startTime: op.startTime, ...(op.endTime ? { endTime: op.endTime } : {}), ...failure },
    headers: done ? {} : { "retry-after": "1" },
  };
}
