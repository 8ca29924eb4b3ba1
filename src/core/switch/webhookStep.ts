import type { EgressFetch } from "../egress";
import { signWebhook } from "../webhookSignature";
import type { SwitchStepConfig } from "./plan";
import type { StepCalls } from "./session";
import type { SwitchStepRunner } from "./step";
import { StepError, classifyStatus, fetchStepError, parseRetryAfter } from "./stepErrors";

type Config = Extract<SwitchStepConfig, { kind: "webhook" }>;

/**
 * A signed webhook that tells a receiver to switch. The message id is stable for one switch,
 * `<group>:<failover_count>:<to>`, so a receiver drops the repeat when the step runs again
 * (activities run at least once). With a secret, the Standard Webhooks headers are sent. Only a
 * 2xx counts; a 2xx means delivered, not switched: the receiver's state can't be read back.
 * Sent through the app's egress policy, like probes and notifications, within its timeout_ms
 * and the cycle's budget; the POST passes the fence and goes in the ledger.
 */
export function webhookStep(config: Config, fetch: EgressFetch, calls: StepCalls): SwitchStepRunner {
  const label = calls.label;
  const now = calls.now;
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
      const url = new URL(config.url);
      const status = await calls.write(
        { method: "POST", resource: `${url.host}${url.pathname}`, before: from, after: to },
        async (signal) => {
          let response;
          try {
            response = await fetch(config.url, { method: "POST", headers, body, redirect: "manual", signal });
          } catch (err) {
            throw fetchStepError(label, signal.reason instanceof StepError ? signal.reason : err, config.timeout_ms);
          }
          const text = (await response.text().catch(() => "")).slice(0, 200).replace(/\s+/g, " ");
          if (!response.ok) {
            throw new StepError(classifyStatus(response.status), `${label}: HTTP ${response.status}${text ? `: ${text}` : ""}`, parseRetryAfter(response.headers.get("retry-after"), now()), {
              status: response.status,
            });
          }
          return response.status;
        },
        { timeoutMs: config.timeout_ms, result: (s) => `ok ${s}` },
      );
      return { writes: 1, detail: `delivered ${id} (HTTP ${status})` };
    },
    async verify() {
      return { status: "verified", detail: "delivered (a 2xx means delivered, not switched)" };
    },
    async readiness() {
      return { ready: true, problems: [] };
    },
  };
}
