import type { Response } from "undici";
import type { EgressFetch } from "../egress";
import { signWebhook } from "../webhookSignature";
import type { SwitchStepConfig } from "./plan";
import type { SwitchStepRunner } from "./step";
import { StepError, classifyStatus, fetchStepError, parseRetryAfter } from "./stepErrors";

type Config = Extract<SwitchStepConfig, { kind: "webhook" }>;

/**
 * A signed webhook that tells a receiver to switch. The message id is stable for one switch,
 * `<group>:<failover_count>:<to>`, so a receiver drops the repeat when the step runs again
 * (activities run at least once). With a secret, the Standard Webhooks headers are sent. Only a
 * 2xx counts; a 2xx means delivered, not switched: the receiver's state can't be read back.
 * Sent through the app's egress policy, like probes and notifications.
 */
export function webhookStep(config: Config, fetch: EgressFetch, now: () => number = Date.now): SwitchStepRunner {
  const host = (() => {
    const u = new URL(config.url);
    return u.host;
  })();
  const label = `webhook ${host}`;
  return {
    kind: "webhook",
    label,
    async actual() {
      return { side: "unknown", detail: "a webhook receiver's state cannot be read" };
    },
    async apply({ group, failoverCount, from, to }) {
      const id = `${group}:${failoverCount}:${to}`;
      const body = JSON.stringify({ type: "failover.switch", id, group, from, to, failover_count: failoverCount, at: new Date(now()).toISOString() });
      const headers: Record<string, string> = { "content-type": "application/json", ...(config.secret ? signWebhook(config.secret, id, body, now()) : { "webhook-id": id }) };
      let response: Response;
      try {
        response = await fetch(config.url, { method: "POST", headers, body, redirect: "manual", signal: AbortSignal.timeout(config.timeout_ms) });
      } catch (err) {
        throw fetchStepError(label, err, config.timeout_ms);
      }
      const text = (await response.text().catch(() => "")).slice(0, 200).replace(/\s+/g, " ");
      if (!response.ok) {
        throw new StepError(classifyStatus(response.status), `${label}: HTTP ${response.status}${text ? `: ${text}` : ""}`, parseRetryAfter(response.headers.get("retry-after"), now()));
      }
      return { writes: 1, detail: `delivered ${id} (HTTP ${response.status})` };
    },
    async verify() {
      return { status: "verified", detail: "delivered (a 2xx means delivered, not switched)" };
    },
    async readiness() {
      return { ready: true, problems: [] };
    },
  };
}
