import type { Clock } from "../../core/clock";
import type { Prober } from "../../core/probe";
import { createAgentDeps, loadAgentSettings, type AgentDeps } from "../../core/vantageAgent";

/**
 * The agent's wiring, built once per process on first use from its app settings. A bad
 * setting fails every request with the same error naming it.
 */
let deps: AgentDeps | undefined;
let overrides: { probe?: Prober; clock?: Clock } = {};

export function agentDeps(): AgentDeps {
  deps ??= createAgentDeps(loadAgentSettings(process.env), overrides);
  return deps;
}

/** For the local host: read the settings again on the next request, with a probe of its own (a local run's partition) and its clock. */
export function resetAgentRuntime(options: { probe?: Prober; clock?: Clock } = {}): void {
  deps = undefined;
  overrides = options;
}
