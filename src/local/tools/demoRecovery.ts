import { startAzurite, type AzuriteHandle } from "../services/azurite";
import { startSampleBackend, type SampleBackend } from "../services/sampleBackend";
import { samplePlan } from "../services/azureStandIn/sampleTargets";
import { startLocalHost, type LocalHost } from "../host/host";
import { call, eventually } from "./client";
import { startDemoTraffic, type DemoTraffic } from "./demoTrafficSwitch";

/**
 * The recovery demo (`npm run demo:recovery`): one group with a Traffic Manager + DNS switch plan
 * (in the local stand-in of Azure's API) and a recovery budget, in decision mode approval. A dry
 * run, then a drill (switchover and switchback) with its measured recovery time; then the
 * primary breaks, the loop proposes the failover and waits, an operator approves it and the
 * traffic moves, verified. One line per step; false when an expectation failed.
 */

const SETTINGS = { CHECK_INTERVAL_SECONDS: 1, FAILURE_THRESHOLD: 2, PROBE_TIMEOUT_MS: 1000, COOLDOWN_SECONDS: 3, DECISION_MODE: "approval", APPROVAL_TIMEOUT_SECONDS: 300 };
const BUDGET_SECONDS = 60;

interface Report {
  readonly id: string;
  readonly result: string;
  readonly recovery_seconds?: number;
  readonly switchback_seconds?: number;
  readonly budget_seconds?: number;
  readonly writes: number;
  readonly steps: ReadonlyArray<{ readonly leg: string; readonly kind: string; readonly ms?: number }>;
}

export async function runRecoveryDemo(print: (line: string) => void = console.log): Promise<boolean> {
  const started = Date.now();
  let failures = 0;
  const line = (mark: string, text: string) => print(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${mark} ${text}`);
  const expectThat = (step: string, ok: boolean, detail: string) => {
    if (!ok) failures++;
    line(ok ? "PASS" : "FAIL", `${step}: ${detail}`);
  };
  const waitFor = <T>(timeoutMs: number, probe: () => Promise<T | undefined>) => eventually("the demo step", probe, timeoutMs).catch(() => undefined);
  const steps = (r: Report) => r.steps.map((s) => `${s.leg} ${s.kind} ${s.ms ?? "?"} ms`).join(", ");

  let azurite: AzuriteHandle | undefined;
  let primary: SampleBackend | undefined;
  let secondary: SampleBackend | undefined;
  let traffic: DemoTraffic | undefined;
  let host: LocalHost | undefined;
  try {
    line("....", "starting Azurite, two backends, the local stand-in of Azure's API (Traffic Manager, DNS) and the app, decision_mode approval");
    azurite = await startAzurite();
    primary = await startSampleBackend("primary");
    secondary = await startSampleBackend("secondary");
    traffic = await startDemoTraffic();
    const env: Record<string, string> = {
      ...traffic.env,
      SWITCH_PLAN: JSON.stringify({ ...samplePlan(traffic.standIn, ["traffic_manager", "dns"]), recovery_budget_seconds: BUDGET_SECONDS }),
      AzureWebJobsStorage: azurite.connectionString,
      PRIMARY_ENDPOINT: primary.url,
      SECONDARY_ENDPOINT: secondary.url,
      EGRESS_ALLOW_PRIVATE: "true",
      ...Object.fromEntries(Object.entries(SETTINGS).map(([k, v]) => [k, String(v)])),
    };
    host = await startLocalHost({ env, log: (m) => line("warn", m), credential: traffic.credential });
    const api = (method: string, path: string, body?: unknown) => call(host!.url, method, path, body);
    const state = async () => (await api("GET", "/api/status")).body?.state as Record<string, unknown> | undefined;
    await api("POST", "/api/init");
    await api("POST", "/api/start");
    await waitFor(20_000, async () => ((await state())?.switch_state === "verified" ? true : undefined));

    const dry = (await api("POST", "/api/drill", { dry_run: true, reason: "demo: before the drill" })).body?.report as Report | undefined;
    expectThat(
      "1 dry run",
      dry?.result === "passed" && dry.writes === 0,
      dry ? `${dry.result}: readiness and read-back in ${dry.recovery_seconds} s, ${dry.writes} writes to Azure (${steps(dry)})` : "no report",
    );

    const drill = await api("POST", "/api/drill", { reason: "demo: quarterly drill" });
    line("....", `2 drill ${drill.body?.drill_id ?? "?"} started: switchover to the secondary, then back once verified`);
    const report = await waitFor(30_000, async () => {
      const s = await state();
      return s?.last_drill && !s.drill_id && (JSON.parse(String(s.last_drill)) as Report).id === drill.body?.drill_id ? (JSON.parse(String(s.last_drill)) as Report) : undefined;
    });
    expectThat(
      "2 drill",
      report?.result === "passed" && (await state())?.active_target === "primary",
      report
        ? `${report.result}: recovery ${report.recovery_seconds} s of a ${report.budget_seconds} s budget, switchback ${report.switchback_seconds} s, ${report.writes} writes (${steps(report)})`
        : "no report within 30 s",
    );

    primary.behave({ kind: "status", status: 503 });
    line("....", "3 primary broken (HTTP 503)");
    const proposal = await waitFor(30_000, async () => {
      const g = (await api("GET", "/api/groups")).body?.groups?.[0] as { proposal?: { id: string; state: string; reason?: string; expires_utc?: string } } | undefined;
      return g?.proposal?.state === "pending" ? g.proposal : undefined;
    });
    expectThat(
      "3 failover proposed, not made",
      proposal !== undefined && (await state())?.active_target === "primary",
      proposal ? `${proposal.id} waits for approval until ${proposal.expires_utc}: ${proposal.reason}` : "no proposal within 30 s",
    );
    if (proposal) {
      const approvedAt = Date.now();
      const approved = await api("POST", "/api/approve", { proposal_id: proposal.id, reason: "demo: the on-call engineer agrees" });
      const moved = await waitFor(30_000, async () => {
        const s = await state();
        return s?.active_target === "secondary" && s.switch_state === "verified" ? s : undefined;
      });
      const entries = ((await api("GET", "/api/history?limit=10")).body?.entries ?? []) as Array<{ kind: string; actor: string; reason: string }>;
      const failover = entries.find((e) => e.kind === "failover");
      expectThat(
        "4 approved, traffic moved",
        approved.status === 200 && moved !== undefined,
        moved ? `verified on the secondary ${((Date.now() - approvedAt) / 1000).toFixed(1)} s after the approval; ${traffic.describe()}; audit: ${failover?.reason}` : "no verified switch within 30 s",
      );
    }
  } catch (err) {
    failures++;
    line("FAIL", `demo aborted: ${(err as Error).stack ?? String(err)}`);
  } finally {
    await host?.stop();
    await primary?.close();
    await secondary?.close();
    await traffic?.close();
    await azurite?.stop();
  }
  line(failures === 0 ? "DONE" : "FAIL", failures === 0 ? "every step passed" : `${failures} expectation(s) failed`);
  return failures === 0;
}

if (require.main === module) {
  void runRecoveryDemo().then((ok) => {
    process.exitCode = ok ? 0 : 1;
  });
}
