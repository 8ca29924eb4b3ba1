import type { ConfigurationSetting } from "@azure/app-configuration";
import type { SwitchClients } from "./clients";
import type { Side, SwitchContext, SwitchStepRunner } from "./step";
import { toStepError } from "./stepErrors";

type Config = Extract<import("./plan").SwitchStepConfig, { kind: "app_configuration" }>;

const MAX_CONFLICTS = 3;

/**
 * App Configuration: one key (and label) whose value names the active side, written with
 * `onlyIfUnchanged` (If-Match on the ETag just read; a new key with If-None-Match: *). A 412
 * re-reads and decides again. With a sentinel key, its value is then set to
 * `<group>:<failover_count>:<to>`, the key applications watch to refresh; being deterministic,
 * a repeat finds it already set and writes nothing.
 */
export function appConfigurationStep(config: Config, clients: SwitchClients, now: () => number = Date.now): SwitchStepRunner {
  const client = () => clients.appConfiguration(config.endpoint);
  const host = new URL(config.endpoint).host;
  const label = `app_configuration ${host} ${config.key}${config.label ? ` (${config.label})` : ""}`;
  const want = (side: Side) => (side === "primary" ? config.primary_value : config.secondary_value);
  const read = async (key: string): Promise<ConfigurationSetting | undefined> => {
    try {
      return await client().getConfigurationSetting({ key, ...(config.label !== undefined ? { label: config.label } : {}) });
    } catch (err) {
      const e = toStepError(err, `${label}: read ${key}`, now());
      if (e.errorClass === "not_found") return undefined;
      throw e;
    }
  };
  /** Sets key to value unless it already has it; returns 1 when it wrote. */
  const ensure = async (key: string, value: string): Promise<number> => {
    for (let attempt = 1; ; attempt++) {
      const current = await read(key);
      if (current?.value === value) return 0;
      try {
        const id = { key, value, ...(config.label !== undefined ? { label: config.label } : {}) };
        if (current) await client().setConfigurationSetting({ ...id, etag: current.etag }, { onlyIfUnchanged: true });
        else await client().addConfigurationSetting(id);
        return 1;
      } catch (err) {
        const e = toStepError(err, `${label}: write ${key}`, now());
        if (e.errorClass !== "conflict" || attempt >= MAX_CONFLICTS) throw e;
      }
    }
  };
  const sentinelValue = (c: SwitchContext) => `${c.group}:${c.failoverCount}:${c.to}`;

  return {
    kind: "app_configuration",
    label,
    async actual() {
      const s = await read(config.key);
      const side = s?.value === config.primary_value ? "primary" : s?.value === config.secondary_value ? "secondary" : "unknown";
      return { side, detail: s ? `value ${JSON.stringify(s.value?.slice(0, 100))}` : "key missing" };
    },
    async apply(context) {
      let writes = await ensure(config.key, want(context.to));
      if (config.sentinel_key) writes += await ensure(config.sentinel_key, sentinelValue(context));
      return { writes, detail: writes ? `${config.key} = ${JSON.stringify(want(context.to).slice(0, 100))}${config.sentinel_key ? `, sentinel ${config.sentinel_key} bumped` : ""}` : "already set" };
    },
    async verify(context) {
      const s = await read(config.key);
      if (s?.value !== want(context.to)) return { status: "mismatch", detail: `reads ${JSON.stringify(s?.value?.slice(0, 100) ?? null)}` };
      return { status: "verified", detail: `value set (etag ${s.etag}); applications switch on their next refresh` };
    },
    async readiness() {
      try {
        await read(config.key);
        return { ready: true, problems: [] };
      } catch (err) {
        return { ready: false, problems: [(err as Error).message] };
      }
    },
  };
}
