import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { egressFetch, type EgressPolicy } from "../../src/core/egress";
import { createSwitchClients, type SwitchClients } from "../../src/core/switch/clients";
import type { ControlPlaneSettings } from "../../src/core/switch/controlPlane";
import { SwitchSession, type SessionOptions } from "../../src/core/switch/session";
import { standInCredential } from "../../src/local/services/azureStandIn/credential";
import { seedSampleTargets } from "../../src/local/services/azureStandIn/sampleTargets";
import { startAzureStandIn, type AzureStandIn } from "../../src/local/services/azureStandIn/server";

/** The control-plane settings that point the switch clients at a stand-in (its endpoint, CA and App Configuration host). */
export function standInSettings(standIn: AzureStandIn, overrides: Partial<ControlPlaneSettings> = {}): ControlPlaneSettings {
  return {
    armEndpoint: standIn.endpoint,
    armAudience: `${standIn.endpoint}/.default`,
    extraCaPem: standIn.caPem,
    pollIntervalMs: 50,
    callTimeoutMs: 2000,
    cycleBudgetMs: 10_000,
    appConfigurationHosts: [new URL(standIn.endpoint).host],
    ...overrides,
  };
}

interface Fixture {
  readonly standIn: AzureStandIn;
  readonly clients: SwitchClients;
  /** A session like a switch cycle's (deadlines, fence, ledger); the fence passes unless given one. */
  session(options?: Partial<SessionOptions>): SwitchSession;
}

/** A stand-in with the sample world for the enclosing describe block, fresh before each test, and SDK clients that trust it. */
export function standInFixture(
  options: { now?: () => number; frontDoorDeploymentMs?: number; frontDoorOperationMs?: number; egress?: EgressPolicy; settings?: Partial<ControlPlaneSettings> } = {},
): Fixture {
  const sessions: SwitchSession[] = [];
  const fixture = {
    session(overrides: Partial<SessionOptions> = {}) {
      const s = new SwitchSession({ callTimeoutMs: 2000, budgetMs: 10_000, fence: async () => undefined, intent: "test-intent", ...(options.now ? { now: options.now } : {}), ...overrides });
      s.applying = true;
      sessions.push(s);
      return s;
    },
  } as Fixture & { standIn: AzureStandIn; clients: SwitchClients };
  beforeEach(async () => {
    fixture.standIn = await startAzureStandIn(options);
    seedSampleTargets(fixture.standIn);
    const egress = options.egress ?? { allowPrivate: true, selfHosts: [] };
    fixture.clients = createSwitchClients(standInCredential, standInSettings(fixture.standIn, options.settings), egressFetch(egress), egress);
  });
  afterEach(async () => {
    for (const s of sessions.splice(0)) s.close();
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
