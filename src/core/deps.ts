import { AuditLog } from "./auditLog";
import { systemClock, type Clock } from "./clock";
import type { AppConfig } from "./config";
import type { NotifyOptions } from "./notify";
import { egressFetch, type EgressFetch } from "./egress";
import { createHttpProbe, type Prober } from "./probe";
import { createStateStore, type StateStore } from "./storage";
import { createTableClient } from "./tableClient";
import { DefaultAzureCredential, type TokenCredential } from "@azure/identity";
import { createSwitchClients, type SwitchClients } from "./switch/clients";
import { createAgentCaller, createJudge, type Judgement, type Vantages } from "./vantage";
import type { Policy } from "./knobs";
import { probeOptions } from "./probe";

/** What every operation needs: the settings, the state row, the audit log, the probe and the clock. */
export interface FailoverDeps {
  readonly config: AppConfig;
  readonly store: StateStore;
  readonly audit: AuditLog;
  readonly probe: Prober;
  readonly clock: Clock;
  readonly notify?: Partial<NotifyOptions>;
  readonly log?: (message: string) => void;
  /** The Azure SDK clients of the switch steps, built on first use. */
  readonly switchClients: () => SwitchClients;
  /** Outbound calls that are not probes (notifications, switch-plan webhooks), under the egress policy. */
  readonly fetch: EgressFetch;
  /** The vantage agents a check asks besides the controller's own probe (VANTAGE_AGENTS). */
  readonly vantages: Vantages;
}

/**
 * Judges endpoints for one operation (see createJudge): every vantage of the group's policy
 * votes on each URL once, with the group's probe settings and quorum.
 */
export function judgeOnce(deps: FailoverDeps): (url: string, policy: Policy) => Promise<Judgement> {
  const judgeUrl = createJudge(deps.vantages, deps.probe);
  return (url, policy) => judgeUrl(url, probeOptions(policy), policy.vantages, policy.quorum);
}

/** Wires the real state store, audit log, HTTP probe and clock for a configuration. */
export function createDeps(config: AppConfig, overrides: Partial<Pick<FailoverDeps, "clock" | "probe" | "notify" | "log" | "vantages">> & { credential?: TokenCredential } = {}): FailoverDeps {
  const clock: Clock = overrides.clock ?? systemClock;
  let clients: SwitchClients | undefined;
  // The app's user-assigned identity (the one storage uses) unless the caller supplies a credential.
  const clientId = config.storage.kind === "identity" ? config.storage.clientId : undefined;
  const fetch = egressFetch(config.egress);
  const switchClients = () =>
    (clients ??= createSwitchClients(overrides.credential ?? new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {}), config.controlPlane, fetch, config.egress));
  const probe: Prober = overrides.probe ?? createHttpProbe(config.egress);
  const { agents, audience, key, region } = config.vantages;
  // The token for the agents is the managed identity's; it is asked for only when a check calls an agent.
  const agentCredential = audience ? (overrides.credential ?? new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {})) : undefined;
  const vantages: Vantages = overrides.vantages ?? {
    agents,
    ...(region ? { region } : {}),
    call: createAgentCaller({ ...(agentCredential ? { credential: agentCredential, audience } : {}), ...(key ? { key } : {}) }),
  };
  return {
    vantages,
    switchClients,
    config,
    store: createStateStore(config.storage, config.tableName),
    audit: new AuditLog(createTableClient(config.storage, config.auditTableName)),
    probe,
    clock,
    fetch,
    ...(overrides.notify ? { notify: overrides.notify } : {}),
    ...(overrides.log ? { log: overrides.log } : {}),
  };
}
