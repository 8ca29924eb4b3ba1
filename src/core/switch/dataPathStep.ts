import type { EgressFetch } from "../egress";
import { readCapped } from "../probe";
import type { SwitchPlan } from "./plan";
import type { StepCalls } from "./session";
import { otherSide, type Side, type SwitchStepRunner } from "./step";
import { StepError, classifyStatus, fetchStepError, parseRetryAfter } from "./stepErrors";

type Config = NonNullable<SwitchPlan["data_path"]>;

const MAX_BODY_BYTES = 65_536;

/**
 * The plan's optional data-path probe: a GET of a URL whose response names the side that
 * served it, in a header or in the body. It proves what the control plane cannot: that
 * requests reach the new side. It writes nothing; verify reports "propagating" while the old
 * side still answers (DNS TTLs, Front Door deployments and client caches lag the control
 * plane), and drift detection sees a data path served by the other side. Sent under the egress
 * policy, like probes and notifications.
 */
export function dataPathStep(config: Config, fetch: EgressFetch, calls: StepCalls): SwitchStepRunner {
  const label = calls.label;
  const now = calls.now;
  const text = (side: Side) => (side === "primary" ? config.primary_text : config.secondary_text);

  function served(): Promise<{ side: Side | "unknown"; detail: string }> {
    return calls.read("GET", (signal) => servedBy(signal), config.timeout_ms);
  }

  async function servedBy(signal: AbortSignal): Promise<{ side: Side | "unknown"; detail: string }> {
    let response;
    try {
      response = await fetch(config.url, { method: "GET", redirect: "manual", signal, headers: { "cache-control": "no-cache", "user-agent": "failover-orchestrator-data-path/1" } });
    } catch (err) {
      throw fetchStepError(label, signal.reason instanceof StepError ? signal.reason : err, config.timeout_ms);
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new StepError(classifyStatus(response.status), `${label}: HTTP ${response.status}`, parseRetryAfter(response.headers.get("retry-after"), now()));
    }
    let seen: string;
    if (config.header) {
      await response.body?.cancel().catch(() => undefined);
      seen = response.headers.get(config.header) ?? "";
    } else {
      seen = response.body ? (await readCapped(response.body, MAX_BODY_BYTES)).text : "";
    }
    const where = config.header ? `header ${config.header}` : "body";
    const side = seen.includes(config.primary_text) ? "primary" : seen.includes(config.secondary_text) ? "secondary" : "unknown";
    const shown = config.header ? `: ${JSON.stringify(seen.slice(0, 100))}` : "";
    return { side, detail: side === "unknown" ? `the ${where} names neither "${config.primary_text}" nor "${config.secondary_text}"${shown}` : `served by ${side} (${where} has "${text(side)}")` };
  }

  return {
    kind: "data_path",
    label,
    actual: served,
    async apply() {
      return { writes: 0, detail: "reads only: checked when verifying" };
    },
    async verify({ to }) {
      const s = await served();
      if (s.side === to) return { status: "verified", detail: s.detail };
      const lag = s.side === otherSide(to) ? "still the old side: DNS TTLs, deployments and caches lag the control plane" : "waiting for the new side";
      return { status: "propagating", detail: `${s.detail}; ${lag}` };
    },
    async readiness() {
      try {
        await served();
        return { ready: true, problems: [] };
      } catch (err) {
        return { ready: false, problems: [(err as Error).message] };
      }
    },
  };
}
