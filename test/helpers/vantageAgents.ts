import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { errorAnswer } from "../../src/core/errorAnswer";
import { httpProbe, type Prober } from "../../src/core/probe";
import { answerProbeRequest, createAgentDeps, loadAgentSettings } from "../../src/core/vantageAgent";
import type { VantageAgent } from "../../src/core/vantage";
import { storageConnectionString } from "./env";

export const AGENT_TEST_KEY = "test-agent-key-0123456789";

export interface TestAgent {
  readonly agent: VantageAgent;
  close(): Promise<void>;
}

/**
 * A vantage agent on a real HTTP server in this process: the agent's core (caller check,
 * endpoint registry on the state table, probe) behind the same answers as its Function;
 * `probe` gives it a fault (see local/services/vantageFaults.ts). `hang` never answers.
 */
export async function startTestAgent(options: { name: string; region?: string; tableName: string; probe?: Prober; hang?: boolean }): Promise<TestAgent> {
  const settings = loadAgentSettings({
    AGENT_KEY: AGENT_TEST_KEY,
    AGENT_STATE_STORAGE: storageConnectionString(),
    FAILOVER_TABLE: options.tableName,
    EGRESS_ALLOW_PRIVATE: "true",
    REGION_NAME: options.region,
  });
  const deps = createAgentDeps(settings, { probe: options.probe ?? httpProbe });
  const server: Server = createServer((req, res) => {
    if (options.hang) return;
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
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
  const port = (server.address() as AddressInfo).port;
  return {
    agent: { name: options.name, url: `http://127.0.0.1:${port}/api/probe`, ...(options.region ? { region: options.region } : {}) },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
