import { TableClient } from "@azure/data-tables";
import { PARTITION_KEY } from "../../core/state";
import { startAzurite, type AzuriteHandle } from "../services/azurite";
import { startDemoTraffic, type DemoTraffic } from "./demoTrafficSwitch";
import { call, eventually } from "./client";
import { startLocalHost, type LocalHost } from "../host/host";
import { startSampleBackend, type SampleBackend } from "../services/sampleBackend";

/**
 * The offline demo: the original end-to-end test, walked by itself on this machine.
 * Azurite, two sample backends and the app on the local host; then the six steps of the
 * original test, one timeline line each. Exits non-zero when an expectation fails.
 */

const SETTINGS = {
  CHECK_INTERVAL_SECONDS: 2,
  FAILURE_THRESHOLD: 2,
  PROBE_TIMEOUT_MS: 1000,
  COOLDOWN_SECONDS: 12,
};
const BROKEN_PRIMARY = "https://127.0.0.1/health";
const ALLOWANCE_SECONDS = 1;

const started = Date.now();
let failures = 0;

function line(mark: string, text: string): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(5);
  console.log(`[${seconds}s] ${mark} ${text}`);
}

function expectThat(step: string, ok: boolean, detail: string): void {
  if (!ok) failures++;
  line(ok ? "PASS" : "FAIL", `${step}: ${detail}`);
}

const api = (host: LocalHost, method: string, path: string, body?: unknown) => call(host.url, method, path, body);

/** Like eventually, but a timeout is an expectation that fails, not an abort: undefined. */
const waitFor = <T>(timeoutMs: number, probe: () => Promise<T | undefined>) => eventually("the demo step", probe, timeoutMs).catch(() => undefined);

function summary(state: Record<string, unknown>): string {
  return `active_target=${state.active_target} failover_count=${state.failover_count} last_status=${state.last_status}`;
}

async function main(): Promise<void> {
  let azurite: AzuriteHandle | undefined;
  let primary: SampleBackend | undefined;
  let secondary: SampleBackend | undefined;
  let host: LocalHost | undefined;
  let traffic: DemoTraffic | undefined;
  try {
    line("....", "starting Azurite (Table service, in memory, free port)");
    azurite = await startAzurite();
    primary = await startSampleBackend("primary");
    secondary = await startSampleBackend("secondary");
    traffic = await startDemoTraffic();
    const env: Record<string, string> = {
      ...traffic.env,
      AzureWebJobsStorage: azurite.connectionString,
      PRIMARY_ENDPOINT: primary.url,
      SECONDARY_ENDPOINT: secondary.url,
      // The sample backends are on 127.0.0.1: local runs allow loopback (off by default in Azure).
      EGRESS_ALLOW_PRIVATE: "true",
      ...Object.fromEntries(Object.entries(SETTINGS).map(([k, v]) => [k, String(v)])),
    };
    host = await startLocalHost({ env, log: (m) => line("warn", m), credential: traffic.credential, metrics: true });
    const bound = SETTINGS.CHECK_INTERVAL_SECONDS * SETTINGS.FAILURE_THRESHOLD + SETTINGS.PROBE_TIMEOUT_MS / 1000;
    line("....", `app on ${host.url}; backends ${primary.url} and ${secondary.url}`);
    line("....", `metrics (OpenTelemetry, Prometheus format): curl ${host.metricsUrl}`);
    line(
      "....",
      `settings: ${Object.entries(SETTINGS)
        .map(([k, v]) => `${k}=${v}`)
        .join(" ")}`,
    );
    line("....", `switch plan: one traffic_manager step against the local stand-in of Azure's API at ${traffic.standIn.endpoint}`);
    const table = TableClient.fromConnectionString(azurite.connectionString, "failoverstate", { allowInsecureConnection: true });
    const row = () => table.getEntity<Record<string, unknown>>(PARTITION_KEY, "state");
    // Edits the row as a person would in Storage Explorer, conditionally: when the orchestration
    // wrote in between (412), read again and retry.
    const editPrimary = async (url: string) => {
      for (let attempt = 1; ; attempt++) {
        const current = await row();
        try {
          return await table.updateEntity({ partitionKey: PARTITION_KEY, rowKey: "state", primary_endpoint: url }, "Merge", { etag: current.etag });
        } catch (err) {
          if ((err as { statusCode?: number }).statusCode !== 412 || attempt >= 5) throw err;
        }
      }
    };

    // 1. initial state
    const init = await api(host, "POST", "/api/init");
    const initial = await row();
    expectThat(
      "1 initial state",
      init.status === 201 && initial.active_target === "primary" && initial.failover_count === 0 && initial.last_status === "OK",
      `POST /api/init -> ${init.status}; row ${summary(initial)}`,
    );

    // 2. a manual health check
    const check = await api(host, "GET", "/api/health_check");
    expectThat(
      "2 health_check",
      check.status === 200 && check.body.healthy === true && check.body.active_target === "primary",
      `GET /api/health_check -> ${JSON.stringify({ healthy: check.body?.healthy, active_target: check.body?.active_target })}`,
    );

    const start = await api(host, "POST", "/api/start");
    expectThat("  orchestration", start.status === 202, `POST /api/start -> ${start.status}; status at ${start.body?.statusQueryGetUri}`);
    await waitFor(10_000, async () => ((host!.taskHub.stats("failover-state")?.executions ?? 0) >= 2 ? true : undefined));

    // 3. break the primary the classic way: edit the row
    await editPrimary(BROKEN_PRIMARY);
    const brokenAt = Date.now();
    line("....", `3 primary broken: primary_endpoint set to ${BROKEN_PRIMARY} in the row`);

    // 4. the automatic failover
    const switched = await waitFor(30_000, async () => {
      const s = await api(host!, "GET", "/api/status");
      return s.body?.state?.active_target === "secondary" ? s.body.state : undefined;
    });
    const detection = (Date.now() - brokenAt) / 1000;
    expectThat(
      "4 automatic failover",
      switched !== undefined && switched.failover_count === 1 && switched.last_status === "FAILOVER_DONE" && typeof switched.lock_until_utc === "string",
      switched ? `${summary(switched)} lock_until_utc=${switched.lock_until_utc} after ${detection.toFixed(1)} s` : "no failover within 30 s",
    );

    // 4b. the failover also moved traffic: Traffic Manager switched in the local stand-in of Azure's API
    const moved = await waitFor(15_000, async () => {
      const r = await row();
      return r.active_target === "secondary" && r.switch_state === "verified" ? r : undefined;
    });
    const seconds = (field: string) => (moved ? ((Date.parse(String(moved[field])) - Date.parse(String(moved.switch_detected_utc))) / 1000).toFixed(1) : "?");
    expectThat(
      "4b traffic switch (Traffic Manager in the LOCAL STAND-IN of Azure's API, not Azure)",
      moved !== undefined && traffic.describe().includes("app-east Disabled, app-west Enabled"),
      `${traffic.describe()}; detection -> applied ${seconds("switch_applied_utc")} s -> verified ${seconds("switch_verified_utc")} s`,
    );

    // 5. an immediate manual failover is refused by the cooldown
    const before = await row();
    const refused = await api(host, "POST", "/api/do_failover");
    const after = await row();
    const unchanged = before.active_target === after.active_target && before.failover_count === after.failover_count && before.lock_until_utc === after.lock_until_utc;
    expectThat(
      "5 cooldown",
      refused.body?.changed === false && refused.body?.reason === "cooldown_active" && unchanged,
      `POST /api/do_failover -> ${JSON.stringify({ changed: refused.body?.changed, reason: refused.body?.reason })}; row ${unchanged ? "unchanged" : "CHANGED"}`,
    );

    // 6. the primary restored; the cooldown expires; nothing flaps back
    await editPrimary(primary.url);
    const lockUntil = Date.parse(String(after.lock_until_utc));
    line("....", `6 primary restored; waiting for the cooldown to end at ${new Date(lockUntil).toISOString()}`);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, lockUntil - Date.now()) + 3 * SETTINGS.CHECK_INTERVAL_SECONDS * 1000));
    const settled = await api(host, "GET", "/api/status");
    const s = settled.body?.state ?? {};
    expectThat(
      "6 stable after cooldown",
      s.active_target === "secondary" && s.failover_count === 1 && s.last_status === "OK" && s.primary_healthy === true,
      `${summary(s)} primary_healthy=${s.primary_healthy} (failback is manual by default); orchestration ${settled.body?.orchestration?.runtime_status}`,
    );

    const history = await api(host, "GET", "/api/history?limit=10");
    line("....", `audit history: ${(history.body?.entries ?? []).map((e: { kind: string; from: string; to: string; actor: string }) => `${e.kind} ${e.from}->${e.to} by ${e.actor}`).join("; ")}`);
    const scraped = await fetch(host.metricsUrl!).then((r) => r.text());
    const metric = (name: string) =>
      scraped
        .split("\n")
        .filter((l) => l.startsWith(name))
        .map((l) => l.replace(/,?otel_scope_name="[^"]*"/, ""))
        .join("; ");
    line("....", `metrics: ${metric("failover_switches_total")}; ${metric("failover_detection_duration_sum")}`);
    // The bound counts the checks; the allowance covers the activities' storage round-trips.
    expectThat(
      "detection-to-switch",
      detection <= bound + ALLOWANCE_SECONDS,
      `measured ${detection.toFixed(1)} s; bound interval x threshold + probe timeout = ${SETTINGS.CHECK_INTERVAL_SECONDS} x ${SETTINGS.FAILURE_THRESHOLD} + ${SETTINGS.PROBE_TIMEOUT_MS / 1000} = ${bound.toFixed(1)} s (pass up to +${ALLOWANCE_SECONDS} s)`,
    );
  } catch (err) {
    failures++;
    line("FAIL", `demo aborted: ${(err as Error).stack ?? String(err)}`);
  } finally {
    await host?.stop();
    await primary?.close();
    await secondary?.close();
    await azurite?.stop();
    await traffic?.close();
  }
  line(failures === 0 ? "DONE" : "FAIL", failures === 0 ? "every step passed" : `${failures} expectation(s) failed`);
  process.exitCode = failures === 0 ? 0 : 1;
}

void main();
