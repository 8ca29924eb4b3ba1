import { loadConfig } from "../../core/config";
import type { TokenCredential } from "@azure/identity";
import type { Clock } from "../../core/clock";
import { createDeps, type FailoverDeps } from "../../core/deps";
import { enableAzureMonitor } from "./azureMonitor";

// In Azure, telemetry goes to Application Insights from the first invocation on.
enableAzureMonitor();

/**
 * The app's wiring, built once per process on first use from the app settings. A bad setting
 * fails every function with the same error naming it, instead of a half-working app.
 */
let deps: FailoverDeps | undefined;
let credential: TokenCredential | undefined;
// In Azure the Functions host collects what the worker writes to the console as its log.
const consoleLog = (message: string): void => console.warn(message);
let log = consoleLog;
let clock: Clock | undefined;

export function runtimeDeps(): FailoverDeps {
  deps ??= createDeps(loadConfig(process.env), { log, ...(credential ? { credential } : {}), ...(clock ? { clock } : {}) });
  return deps;
}

/**
 * For the local host: forget the wiring so the next call reads the settings again; a local run
 * may supply the credential for the switch steps (in Azure it is the app's managed identity)
 * and where the app's log lines go (the local host's log, as the Functions host collects them),
 * and the clock: the task hub's, so that the app and its orchestrations read the same time (in
 * Azure both read the wall clock; a soak's virtual clock must not leave the app on the real one).
 */
export function resetRuntime(options: { credential?: TokenCredential; log?: (message: string) => void; clock?: Clock } = {}): void {
  deps = undefined;
  credential = options.credential;
  clock = options.clock;
  log = options.log ?? consoleLog;
}
