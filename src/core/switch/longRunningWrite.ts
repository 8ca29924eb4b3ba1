import type { StepCalls, WriteDescription } from "./session";
import type { StepError } from "./stepErrors";

/** What an Azure SDK's begin... call answers: a poller of the long-running operation. */
interface Poller {
  pollUntilDone(options: { abortSignal?: AbortSignal }): Promise<unknown>;
}

/**
 * A write that starts a long-running ARM operation (a failover, a priority change), then its wait,
 * both with the call's deadline and the write in the ledger: "succeeded", or "unknown" when a
 * status poll failed or ran out of time (the next read decides). An operation that ended Failed
 * is the step error `failed` makes of the service's message; the ledger entry says which.
 */
export async function longRunningWrite(
  calls: StepCalls,
  change: WriteDescription,
  begin: (abortSignal: AbortSignal) => Promise<Poller>,
  waitFor: string,
  failed: (message: string) => StepError,
): Promise<"succeeded" | "unknown"> {
  const endedFailed = (err: unknown): StepError | undefined => {
    const message = (err as Error).message;
    if (!/long-running operation has failed/i.test(message)) return undefined;
    calls.amend("accepted; operation Failed");
    return failed(message.replace(/^.*?: /, ""));
  };
  let poller: Poller;
  try {
    poller = await calls.write(change, begin, { result: () => "accepted" });
  } catch (err) {
    throw endedFailed(err) ?? err;
  }
  try {
    await calls.read(waitFor, (abortSignal) => poller.pollUntilDone({ abortSignal }));
    calls.amend("accepted; operation Succeeded");
    return "succeeded";
  } catch (err) {
    const failure = endedFailed(err);
    if (failure) throw failure;
    calls.amend(`accepted; outcome unknown (status poll: ${(err as StepError).errorClass ?? "error"})`);
    return "unknown";
  }
}
