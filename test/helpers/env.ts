import { TableClient } from "@azure/data-tables";
import { randomBytes } from "node:crypto";
import type { Clock } from "../../src/core/clock";
import { loadConfig, type AppConfig } from "../../src/core/config";
import { createDeps, type FailoverDeps } from "../../src/core/deps";
import { bootstrap } from "../../src/core/operations";
import { PARTITION_KEY } from "../../src/core/state";

export function storageConnectionString(): string {
  const value = process.env.TEST_STORAGE_CONNECTION_STRING;
  if (!value) throw new Error("TEST_STORAGE_CONNECTION_STRING is not set: run the tests through jest (its global setup starts Azurite)");
  return value;
}

/** A table name no other test uses, so test files never see each other's rows. */
export function uniqueTable(prefix: string): string {
  return `${prefix}${randomBytes(4).toString("hex")}`;
}

/** App settings for a test: Azurite storage, fresh tables, fast probes; `overrides` win. */
export function testEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    AzureWebJobsStorage: storageConnectionString(),
    FAILOVER_TABLE: uniqueTable("state"),
    FAILOVER_HISTORY_TABLE: uniqueTable("history"),
    PROBE_TIMEOUT_MS: "1000",
    // Test backends and receivers listen on 127.0.0.1.
    EGRESS_ALLOW_PRIVATE: "true",
    ...overrides,
  };
}

export class ManualClock implements Clock {
  constructor(private current: Date = new Date("2026-01-01T00:00:00.000Z")) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(seconds: number): void {
    this.current = new Date(this.current.getTime() + seconds * 1000);
  }
}

export function testDeps(env: Record<string, string>, clock: Clock = new ManualClock()): { deps: FailoverDeps; config: AppConfig; clock: Clock } {
  const config = loadConfig(env);
  return { deps: createDeps(config, { clock, notify: { timeoutMs: 1000 } }), config, clock };
}

/** Fresh tables with the default group's row created, a manual clock, and a reader for the raw row. */
export async function bootstrappedGroup(settings: Record<string, string>) {
  const clock = new ManualClock();
  const { deps, config } = testDeps(testEnv(settings), clock);
  await bootstrap(deps, { group: "state" });
  const table = TableClient.fromConnectionString(storageConnectionString(), config.tableName, { allowInsecureConnection: true });
  return { deps, clock, table, row: (group = "state") => table.getEntity<Record<string, unknown>>(PARTITION_KEY, group) };
}
