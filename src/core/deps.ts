import { systemClock, type Clock } from "./clock";
import type { AppConfig } from "./config";
import { HistoryStore } from "./history";
import type { FailoverDeps } from "./operations";
import { httpProbe, type Prober } from "./probe";
import { StateStore, createTableClient } from "./storage";

/** Wires the real state store, history store, HTTP probe and clock for a configuration. */
export function createDeps(config: AppConfig, overrides: Partial<Pick<FailoverDeps, "clock" | "probe" | "notify" | "log">> = {}): FailoverDeps {
  const clock: Clock = overrides.clock ?? systemClock;
  const probe: Prober = overrides.probe ?? httpProbe;
  return {
    config,
    store: new StateStore(createTableClient(config.storage, config.tableName)),
    history: new HistoryStore(createTableClient(config.storage, config.historyTableName)),
    probe,
    clock,
    ...(overrides.notify ? { notify: overrides.notify } : {}),
    ...(overrides.log ? { log: overrides.log } : {}),
  };
}
