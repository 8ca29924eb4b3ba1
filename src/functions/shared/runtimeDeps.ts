import { loadConfig } from "../../core/config";
import type { TokenCredential } from "@azure/identity";
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

export function runtimeDeps(): FailoverDeps {
  deps ??= createDeps(loadConfig(process.env), { log: (message) => console.warn(message), ...(credential ? { credential } : {}) });
  return deps;
}

/**
 * For the local host: forget the wiring so the next call reads the settings again; a local run
 * may supply the credential for the switch steps (in Azure it is the app's managed identity).
 */
export function resetRuntime(options: { credential?: TokenCredential } = {}): void {
  deps = undefined;
  credential = options.credential;
}
