import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { egressFetch, type EgressPolicy } from "../../src/core/egress";
import { createSwitchClients, type SwitchClients } from "../../src/core/switch/clients";
import { standInCredential } from "../../src/local/azureStandIn/credential";
import { seedSampleTargets } from "../../src/local/azureStandIn/sampleTargets";
import { startAzureStandIn, type AzureStandIn } from "../../src/local/azureStandIn/server";

/** A stand-in with the sample world for the enclosing describe block, fresh before each test, and SDK clients that trust it. */
export function standInFixture(options: { now?: () => number; frontDoorDeploymentMs?: number; egress?: EgressPolicy } = {}): { readonly standIn: AzureStandIn; readonly clients: SwitchClients } {
  const fixture = {} as { standIn: AzureStandIn; clients: SwitchClients };
  beforeEach(async () => {
    fixture.standIn = await startAzureStandIn(options);
    seedSampleTargets(fixture.standIn);
    fixture.clients = createSwitchClients(standInCredential, { armEndpoint: fixture.standIn.endpoint, armAudience: `${fixture.standIn.endpoint}/.default`, extraCaPem: fixture.standIn.caPem, pollIntervalMs: 50 }, egressFetch(options.egress ?? { allowPrivate: true, selfHosts: [] }));
  });
  afterEach(async () => {
    await fixture.standIn.stop();
  });
  return fixture;
}

export interface SignedReceiver {
  readonly url: string;
  readonly received: Array<{ headers: Record<string, string | string[] | undefined>; body: string }>;
  /** Status codes to answer with, in order; 200 after they run out. */
  readonly answers: number[];
  close(): Promise<void>;
}

/** A webhook receiver on 127.0.0.1 that keeps the raw headers and body of every delivery. */
export async function startSignedReceiver(): Promise<SignedReceiver> {
  const received: SignedReceiver["received"] = [];
  const answers: number[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(answers.shift() ?? 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/switch`, received, answers, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
