import type { ConfigurationSetting } from "@azure/app-configuration";
import type { SwitchClients } from "./clients";
import type { StepCalls } from "./session";
import type { Side, SwitchContext, SwitchStepRunner } from "./step";
import { StepError } from "./stepErrors";

type Config = Extract<import("./plan").SwitchStepConfig, { kind: "app_configuration" }>;

const MAX_CONFLICTS = 3;

/**
 * App Configuration: one key (and label) whose value names the active side, written with
 * `onlyIfUnchanged` (If-Match on the ETag just read; a new key with If-None-Match: *). A 412
 * re-reads and decides again. With a sentinel key, its value is then set to
 * `<group>:<failover_count>:<to>`, the key applications watch to refresh; being deterministic,
 * a repeat finds it already set and writes nothing. The endpoint must be an App Configuration
 * host of the configured cloud (or allowed by setting): the app's token goes to no other host.
 */
export function appConfigurationStep(config: Config, clients: SwitchClients, calls: StepCalls): SwitchStepRunner {
  const client = () => clients.appConfiguration(config.endpoint);
  const label = calls.label;
  const want = (side: Side) => (side === "primary" ? config.primary_value : config.secondary_value);
  const read = async (key: string): Promise<ConfigurationSetting | undefined> => {
    try {
      return await calls.read(`read ${key}`, (abortSignal) => client().getConfigurationSetting({ key, ...(config.label !== undefined ? { label: config.label } : {}) }, { abortSignal }));
    } catch (err) {
      if ((err as StepError).errorClass === "not_found") return undefined;
      throw err;
    }
  };
  /** Sets key to value unless it already has it; returns 1 when it wrote. */
  const ensure = async (key: string, value: string): Promise<number> => {
    for (let attempt = 1; ; attempt++) {
      const current = await read(key);
      if (current?.value === value) return 0;
      try {
        const id = { key, value, ...(config.label !== undefined ? { label: config.label } : {}) };
        const change = {
          method: "PUT",
          resource: `kv/${key}${config.label !== undefined ? `?label=${config.label}` : ""}`,
          before: current ? JSON.stringify(current.value?.slice(0, 100) ?? null) : "(none)",
          after: JSON.stringify(value.slice(0, 100)),
        };
        await calls.write(change, (abortSignal) =>
          current ? client().setConfigurationSetting({ ...id, etag: current.etag }, { onlyIfUnchanged: true, abortSignal }) : client().addConfigurationSetting(id, { abortSignal }),
        );
        return 1;
      } catch (err) {
        const e = err as StepError;
        if (e.status !== 412) throw e;
        if (attempt >= MAX_CONFLICTS) throw new StepError("conflict", `${label}: ${key} changed under ${attempt} conditional writes in a row (412 each time)`, undefined, { status: 412 });
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
