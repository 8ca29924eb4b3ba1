import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { startAzurite, type AzuriteHandle } from "../services/azurite";
import { startSampleBackend, type SampleBackend } from "../services/sampleBackend";
import { startLocalHost, type LocalHost } from "../host/host";
import { call, eventually } from "./client";
import { startDemoTraffic, type DemoTraffic } from "./demoTrafficSwitch";

/**
 * The vantage demo (`npm run demo:vantages`): three "regions" on this machine. region-a holds
 * the primary and an agent, region-b the secondary and an agent, region-c the controller (the
 * app on the local host) and its storage (Azurite). Each agent is a process of its own, as each
 * is its own Function app in Azure. First the region-b agent is cut off from the primary: it
 * votes down, is outvoted, nothing fails over. Then region-a is lost (the primary and its agent
 * stop): the controller and region-b see it down, a quorum of two, and traffic moves to the
 * secondary (Traffic Manager in the local stand-in of Azure's API), verified. Exits non-zero
 * when an expectation fails.
 */

const SETTINGS = { CHECK_INTERVAL_SECONDS: 2, FAILURE_THRESHOLD: 2, PROBE_TIMEOUT_MS: 1000, COOLDOWN_SECONDS: 60 };
const OUTVOTED_CHECKS = 3;

const started = Date.now();
let failures = 0;

function line(mark: string, text: string): void {
  console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${mark} ${text}`);
}

function expectThat(step: string, ok: boolean, detail: string): void {
  if (!ok) failures++;
  line(ok ? "PASS" : "FAIL", `${step}: ${detail}`);
}

const waitFor = <T>(timeoutMs: number, probe: () => Promise<T | undefined>) => eventually("the demo step", probe, timeoutMs).catch(() => undefined);

interface Vote {
  readonly vantage: string;
  readonly healthy?: boolean;
  readonly error_class?: string;
}
const votesLine = (votes: readonly Vote[] | undefined) =>
  (votes ?? []).map((v) => (v.healthy === true ? `${v.vantage} up` : v.healthy === false ? `${v.vantage} down (${v.error_class})` : `${v.vantage} no vote (${v.error_class})`)).join(", ");

interface AgentProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
}

/** One agent in a process of its own (agent.js beside this file, in dist/ or a test's build). */
async function startAgent(name: string, key: string, storage: string, partition?: string): Promise<AgentProcess> {
  const args = [join(__dirname, "agent.js"), "--name", name, "--region", name, "--key", key, "--state-storage", storage, ...(partition ? ["--partition", partition] : [])];
  const child = spawn(process.execPath, args, { env: { PATH: process.env.PATH ?? "" } });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const ready = await eventually(`agent ${name}`, async () => output.split("\n").find((l) => l.startsWith("{")) ?? (child.exitCode !== null ? "exited" : undefined), 20_000);
  if (ready === "exited") throw new Error(`agent ${name} exited: ${output.trim()}`);
  return { child, url: (JSON.parse(ready) as { url: string }).url };
}

async function main(): Promise<void> {
  let azurite: AzuriteHandle | undefined;
  let primary: SampleBackend | undefined;
  let secondary: SampleBackend | undefined;
  let traffic: DemoTraffic | undefined;
  let host: LocalHost | undefined;
  const agents: AgentProcess[] = [];
  try {
    line("....", "starting Azurite, two backends and two vantage agents (each a process of its own)");
    azurite = await startAzurite();
    primary = await startSampleBackend("primary");
    secondary = await startSampleBackend("secondary");
    traffic = await startDemoTraffic();
    const key = randomBytes(16).toString("hex");
    const regionA = await startAgent("region-a", key, azurite.connectionString);
    const regionB = await startAgent("region-b", key, azurite.connectionString, new URL(primary.url).host);
    agents.push(regionA, regionB);
    const env: Record<string, string> = {
      ...traffic.env,
      AzureWebJobsStorage: azurite.connectionString,
      PRIMARY_ENDPOINT: primary.url,
      SECONDARY_ENDPOINT: secondary.url,
      PRIMARY_REGION: "region-a",
      SECONDARY_REGION: "region-b",
      REGION_NAME: "region-c",
      STATE_STORAGE_REGION: "region-c",
      VANTAGE_AGENTS: JSON.stringify([
        { name: "region-a", url: regionA.url, region: "region-a" },
        { name: "region-b", url: regionB.url, region: "region-b" },
      ]),
      VANTAGE_AGENT_KEY: key,
      EGRESS_ALLOW_PRIVATE: "true",
      ...Object.fromEntries(Object.entries(SETTINGS).map(([k, v]) => [k, String(v)])),
    };
    host = await startLocalHost({ env, log: (m) => line("warn", m), credential: traffic.credential });
    const api = (method: string, path: string, body?: unknown) => call(host!.url, method, path, body);
    line(
      "....",
      `primary in region-a (${primary.url}, agent pid ${regionA.child.pid}); secondary in region-b (${secondary.url}, agent pid ${regionB.child.pid}); controller in region-c (${host.url})`,
    );

    await api("POST", "/api/init");
    const ready = await api("GET", "/api/readiness");
    expectThat(
      "1 topology",
      ready.body?.ready === true,
      ready.body?.ready ? "ready: 3 vantages in 3 regions, quorum 2, the controller and its storage outside the primary's region" : `not ready: ${(ready.body?.problems ?? []).join("; ")}`,
    );
    await api("POST", "/api/start");

    // 2. region-b's agent cannot reach the primary: it votes down and is outvoted.
    line("....", `2 region-b's agent cut off from the primary (a one-way partition); waiting for ${OUTVOTED_CHECKS} counted checks`);
    const outvoted = await waitFor(30_000, async () => {
      const s = (await api("GET", "/api/status")).body?.state;
      return s?.consecutive_successes >= OUTVOTED_CHECKS ? s : undefined;
    });
    expectThat(
      "2 partitioned vantage outvoted",
      outvoted?.active_target === "primary" && outvoted?.failover_count === 0 && outvoted?.last_votes?.some((v: Vote) => v.vantage === "region-b" && v.healthy === false),
      outvoted ? `no failover after ${outvoted.consecutive_successes} checks; votes: ${votesLine(outvoted.last_votes)}` : `not seen within 30 s`,
    );

    // 3. region-a is lost: the primary and the agent there stop.
    regionA.child.kill("SIGKILL");
    await primary.close();
    const lostAt = Date.now();
    line("....", "3 region-a lost: its agent killed, the primary stopped");

    const switched = await waitFor(30_000, async () => {
      const s = (await api("GET", "/api/status")).body?.state;
      return s?.switch_state === "verified" && s.active_target === "secondary" ? s : undefined;
    });
    const history = await api("GET", "/api/history?limit=5");
    const failover = (history.body?.entries ?? []).find((e: { kind: string }) => e.kind === "failover");
    expectThat(
      "4 failover by a quorum of two, traffic verified (Traffic Manager in the LOCAL STAND-IN of Azure's API)",
      switched !== undefined && typeof failover?.reason === "string" && failover.reason.includes("votes:"),
      switched ? `after ${((Date.now() - lostAt) / 1000).toFixed(1)} s; ${traffic.describe()}; audit: ${failover?.reason}` : "no verified switch within 30 s",
    );
  } catch (err) {
    failures++;
    line("FAIL", `demo aborted: ${(err as Error).stack ?? String(err)}`);
  } finally {
    for (const agent of agents) agent.child.kill("SIGTERM");
    await host?.stop();
    await primary?.close().catch(() => undefined);
    await secondary?.close();
    await traffic?.close();
    await azurite?.stop();
  }
  line(failures === 0 ? "DONE" : "FAIL", failures === 0 ? "every step passed" : `${failures} expectation(s) failed`);
  process.exitCode = failures === 0 ? 0 : 1;
}

void main();
