import { loadConfig } from "../../core/config";
import { createDeps, type FailoverDeps } from "../../core/deps";

/**
 * The app's wiring, built once per process on first use from the app settings. A bad setting
 * fails every function with the same error naming it, instead of a half-working app.
 */
let deps: FailoverDeps | undefined;

export function runtimeDeps(): FailoverDeps {
  deps ??= createDeps(loadConfig(process.env), { log: (message) => console.warn(message) });
  return deps;
}

/** For the local host: forget the wiring so the next call reads the settings again. */
export function resetRuntime(): void {
  deps = undefined;
}
