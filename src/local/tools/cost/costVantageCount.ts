import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { errorAnswer } from "../../../core/errorAnswer";
import { ORCHESTRATOR_NAME, instanceIdFor } from "../../../core/orchestrationContract";
import { answerProbeRequest, createAgentDeps, loadAgentSettings } from "../../../core/vantageAgent";
import { startLocalHost } from "../../host/host";
import { VirtualClock } from "../../host/hubClock";
import type { ExecutionRecord } from "../../host/instances";
import { azuriteConnectionString } from "../../services/azurite";
import { startCountingProxy, type StorageRequest } from "../../services/countingProxy";
import { startSampleBackend } from "../../services/sampleBackend";
import { call } from "../client";
import { classify, countStorageRequests } from "./costCount";
import type { CostCounts, TableRequests, VantageCycle } from "./costModel";

/**
 * Counts what vantage agents add to a healthy cycle, with the real code: the controller on the
 * local host with VANTAGE_AGENTS, each agent the agent's core (caller check, EndpointRegistry
 * on the state table, probe) behind an HTTP server of its own, as the tests run it. The
 * controller's table requests and the agents' go through two counting proxies in front of the
 * same Azurite, so each side is counted apart; the agents read the registry on the host's
 * virtual clock, so its 30 s freshness meets the 30 s interval as it would in Azure.
 */

const KEY = "cost-count-agent-key-0123456789";

function averageRequests(all: TableRequests[]): TableRequests {
  const mean = (k: keyof TableRequests) => Math.round((all.reduce((a, r) => a + r[k], 0) / all.length) * 100) / 100;
  return { read: mean("read"), query: mean("query"), write: mean("write"), batch: mean("batch"), table: mean("table"), failed: mean("failed") };
}

export async function countVantageCycle(tableEndpoint: string, agents = 2, cycles = 5): Promise<VantageCycle> {
  const controllerProxy = await startCountingProxy(tableEndpoint);
  const agentProxy = await startCountingProxy(tableEndpoint);
  const primary = await startSampleBackend("primary");
  const secondary = await startSampleBackend("secondary");
  const clock = new VirtualClock(new Date("2026-01-01T00:00:00Z"));
  const suffix = Math.random().toString(36).slice(2, 8);
  const tableName = `costvantage${suffix}`;
  const calls: number[] = Array.from({ length: agents }, () => 0);
  const servers: Server[] = [];
  const records: ExecutionRecord[] = [];
  try {
    const vantageAgents = [];
    for (let i = 0; i < agents; i++) {
      const settings = loadAgentSettings({
        AGENT_KEY: KEY,
        AGENT_STATE_STORAGE: azuriteConnectionString(agentProxy.endpoint),
        FAILOVER_TABLE: tableName,
        EGRESS_ALLOW_PRIVATE: "true",
        REGION_NAME: `region${i}`,
      });
      // One process per agent in Azure: each has its own registry, on the hub's clock.
      const deps = createAgentDeps(settings, { clock });
      const server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
          calls[i]++;
          answerProbeRequest(deps, (name) => (req.headers[name] as string | undefined) ?? null, Buffer.concat(chunks).toString("utf8")).then(
            (answer) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer)),
            (err: unknown) => {
              const { status, jsonBody } = errorAnswer(err);
              res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(jsonBody));
            },
          );
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      servers.push(server);
      vantageAgents.push({ name: `agent${i}`, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/probe`, region: `region${i}` });
    }
    const host = await startLocalHost({
      env: {
        AzureWebJobsStorage: azuriteConnectionString(controllerProxy.endpoint),
        PRIMARY_ENDPOINT: primary.url,
        SECONDARY_ENDPOINT: secondary.url,
        FAILOVER_TABLE: tableName,
        FAILOVER_HISTORY_TABLE: `costvantagehistory${suffix}`,
        CHECK_INTERVAL_SECONDS: "30",
        FAILURE_THRESHOLD: "3",
        EGRESS_ALLOW_PRIVATE: "true",
        VANTAGE_AGENTS: JSON.stringify(vantageAgents),
        VANTAGE_AGENT_KEY: KEY,
      },
      timers: false,
      clock,
      onExecution: (record) => records.push(record),
    });
    try {
      const hub = host.taskHub;
      const init = await call(host.url, "POST", "/api/init", { group: "state" });
      if (init.status !== 201 && init.status !== 200) throw new Error(`POST /api/init answered ${init.status}: ${JSON.stringify(init.body)}`);
      hub.start(ORCHESTRATOR_NAME, instanceIdFor("state"), { group: "state", interval_seconds: 30 });
      const measured: { controller: StorageRequest[]; agent: StorageRequest[]; calls: number }[] = [];
      for (let i = 0; i < 2 + cycles; i++) {
        await hub.idle();
        const from = { controller: controllerProxy.requests.length, agent: agentProxy.requests.length, calls: calls.reduce((a, b) => a + b, 0), records: records.length };
        if (!clock.advance()) throw new Error("the loop has nothing scheduled");
        await hub.idle();
        if (records.length !== from.records + 1) throw new Error(`expected one finished execution, got ${records.length - from.records}`);
        // The first two warm up: tables known, every agent's registry read once, the loop in its steady state.
        if (i >= 2) measured.push({ controller: controllerProxy.requests.slice(from.controller), agent: agentProxy.requests.slice(from.agent), calls: calls.reduce((a, b) => a + b, 0) - from.calls });
      }
      const failed = measured.flatMap((m) => m.agent).filter((r) => r.status >= 400);
      if (failed.length > 0) throw new Error(`an agent's table request failed: ${JSON.stringify(failed[0])}`);
      const perAgent = (r: TableRequests): TableRequests => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round((v / agents) * 100) / 100])) as unknown as TableRequests;
      return {
        agents,
        controllerRequests: averageRequests(measured.map((m) => classify(m.controller))),
        perAgent: {
          calls: Math.round((measured.reduce((a, m) => a + m.calls, 0) / measured.length / agents) * 100) / 100,
          requests: perAgent(averageRequests(measured.map((m) => classify(m.agent)))),
        },
      };
    } finally {
      await host.stop();
    }
  } finally {
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await primary.close();
    await secondary.close();
    await controllerProxy.close();
    await agentProxy.close();
  }
}

/** Everything docs/cost-counts.json holds: the app's storage requests (costCount.ts) and a healthy cycle with two vantage agents. */
export async function countCosts(tableEndpoint: string): Promise<CostCounts> {
  return { ...(await countStorageRequests(tableEndpoint)), vantageCycle: await countVantageCycle(tableEndpoint) };
}
