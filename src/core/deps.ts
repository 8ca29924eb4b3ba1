import { AuditLog } from "./auditLog";
import { systemClock, type Clock } from "./clock";
import type { AppConfig } from "./config";
import type { NotifyOptions } from "./notify";
import { httpProbe, type Prober } from "./probe";
import { StateStore, createTableClient } from "./storage";

/** What every operation needs: the settings, the state row, the audit log, the probe and the clock. */
export interface FailoverDeps {
  readonly config: AppConfig;
  readonly store: StateStore;
  readonly audit: AuditLog;
  readonly probe: Prober;
  readonly clock: Clock;
  readonly notify?: Partial<NotifyOptions>;
  readonly log?: (message: string) => void;
}

/** Wires the real state store, audit log, HTTP probe and clock for a configuration. */
export function createDeps(config: AppConfig, overrides: Partial<Pick<FailoverDeps, "clock" | "probe" | "notify" | "log">> = {}): FailoverDeps {
  const clock: Clock = overrides.clock ?? systemClock;
  const probe: Prober = overrides.probe ?? httpProbe;
  return {
    config,
    store: new StateStore(createTableClient(config.storage, config.tableName)),
    audit: new AuditLog(createTableClient(config.storage, config.auditTableName)),
    probe,
    clock,
    ...(overrides.notify ? { notify: overrides.notify } : {}),
    ...(overrides.log ? { log: overrides.log } : {}),
  };
}
