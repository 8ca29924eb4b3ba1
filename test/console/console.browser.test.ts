import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Page, Request } from "playwright-core";
import { startAzurite, type AzuriteHandle } from "../../src/local/services/azurite";
import { standInCredential } from "../../src/local/services/azureStandIn/credential";
import { SAMPLE_IDS, samplePlan, seedSampleTargets } from "../../src/local/services/azureStandIn/sampleTargets";
import { startAzureStandIn, type AzureStandIn } from "../../src/local/services/azureStandIn/server";
import { call, eventually } from "../../src/local/tools/client";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { startSampleBackend, type SampleBackend } from "../../src/local/services/sampleBackend";
import { backendPair } from "../helpers/backends";
import { chromiumForSuite } from "../helpers/browser";
import { testEnv } from "../helpers/env";
import { startReceiver, type WebhookReceiver } from "../helpers/receiver";

/**
 * The console in a real browser: Chromium driven by playwright-core (never a downloaded
 * browser; test/helpers/browser.ts says which Chromium), against the app on the local host with
 * two groups and fast settings. The default group has a switch plan (Traffic Manager and DNS on
 * the local Azure stand-in); the other moves its row only.
 */

const SCREENSHOT = join(__dirname, "..", "..", "test-output", "console.png");

const browser = chromiumForSuite();

describe("operator console in Chromium", () => {
  const backends = backendPair();
  let paymentsPrimary: SampleBackend;
  let host: LocalHost;
  let azurite: AzuriteHandle;
  let standIn: AzureStandIn;
  let receiver: WebhookReceiver;
  let page: Page;
  const requests: Request[] = [];
  const cspViolations: string[] = [];

  beforeAll(async () => {
    paymentsPrimary = await startSampleBackend("payments-primary");
    // Its own Azurite, so the last test can take storage away for real.
    azurite = await startAzurite();
    standIn = await startAzureStandIn();
    receiver = await startReceiver();
    seedSampleTargets(standIn);
    host = await startLocalHost({
      credential: standInCredential,
      env: testEnv({
        AzureWebJobsStorage: azurite.connectionString,
        PRIMARY_ENDPOINT: backends.primary.url,
        SECONDARY_ENDPOINT: backends.secondary.url,
        CHECK_INTERVAL_SECONDS: "1",
        FAILURE_THRESHOLD: "1",
        PROBE_TIMEOUT_MS: "500",
        COOLDOWN_SECONDS: "600",
        SWITCH_PLAN: JSON.stringify(samplePlan(standIn, ["traffic_manager", "dns"])),
        NOTIFY_WEBHOOK_URL: receiver.url,
        ...standIn.appSettings(),
      }),
      timers: false,
    });
    await call(host.url, "POST", "/api/init");
    await call(host.url, "POST", "/api/init", { group: "payments", primary_endpoint: paymentsPrimary.url, secondary_endpoint: backends.secondary.url });
    await call(host.url, "POST", "/api/start");
    await call(host.url, "POST", "/api/start?group=payments");
    page = await browser().newPage({ viewport: { width: 1240, height: 760 } });
    page.on("request", (r) => requests.push(r));
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  }, 60_000);

  afterAll(async () => {
    await page?.close();
    await host?.stop();
    await standIn?.stop();
    await receiver?.close();
    await paymentsPrimary?.close();
    await azurite?.stop();
  });

  const card = (group: string) => page.locator(`section.card[data-group="${group}"]`);
  const refreshes = async () => Number(await page.locator("body").getAttribute("data-refreshes"));
  const writes = () => requests.filter((r) => r.method() !== "GET");

  test("shows each group's active target and health, and only reads while viewing", async () => {
    await page.goto(`${host.url}/api/console?refresh=0.5&code=test-key&open=state,payments`);
    await card("state").locator('[data-field="active"]').getByText("ACTIVE: PRIMARY").waitFor();
    await card("payments").locator('[data-field="active"]').getByText("ACTIVE: PRIMARY").waitFor();
    await card("state").locator('tr[data-target="primary"] td.healthy').waitFor();
    // The standby is probed by every check, not first at a switch.
    await card("state").locator('tr[data-target="secondary"] td.healthy').waitFor();
    expect(await card("state").locator('tr[data-target="secondary"] td.healthy').innerText()).toMatch(/^healthy \(checked \d\d:\d\d:\d\dZ\)$/);
    // The plan was adopted: the first cycle found Traffic Manager and DNS already on the primary.
    await card("state").locator('[data-field="traffic"][data-state="verified"]').waitFor({ timeout: 20_000 });
    expect(await card("state").locator('[data-field="traffic"]').innerText()).toMatch(/^Traffic: verified \d\d:\d\d:\d\dZ at primary — the resources already matched, nothing was written$/);
    expect(await card("payments").locator('[data-field="traffic"]').innerText()).toBe("Traffic: no switch plan: row only");
    // The plan's readiness, checked at init: every step can run.
    expect(await card("state").locator('[data-field="readiness"]').innerText()).toMatch(/^READY \(checked \d\d:\d\d:\d\dZ\)$/);
    expect(await card("payments").locator('[data-field="readiness"]').count()).toBe(0);
    // Several refreshes pass; every request of the page was a GET to this app, carrying the key.
    await eventually("four refreshes", async () => ((await refreshes()) >= 4 ? true : undefined));
    expect(requests.length).toBeGreaterThan(4);
    expect(writes()).toEqual([]);
    expect(new Set(requests.map((r) => new URL(r.url()).origin))).toEqual(new Set([host.url]));
    expect(requests.filter((r) => r.url().includes("/api/groups")).every((r) => r.headers()["x-functions-key"] === "test-key")).toBe(true);
    expect(cspViolations).toEqual([]);
  });

  test("a broken primary: the card switches to the secondary and the timeline shows the failover", async () => {
    backends.primary.behave({ kind: "status", status: 503 });
    await card("state").locator('[data-field="active"]').getByText("ACTIVE: SECONDARY").waitFor({ timeout: 20_000 });
    const entry = card("state").locator("ol.timeline li.failover");
    await entry.waitFor();
    expect(await entry.innerText()).toMatch(/FAILOVER primary → secondary\s+by orchestrator/);
    // The detection time recorded on the audit entry, not an estimate; the notification's delivery time once the loop delivered it.
    await entry.getByText(/→ notified \d\d:\d\d:\d\dZ/).waitFor({ timeout: 20_000 });
    expect(await entry.locator(".steps").innerText()).toMatch(
      /first failed check (\d\d:\d\d:\d\dZ) → threshold reached, switched \d\d:\d\d:\d\dZ \(\d+ s\) → standby probe 200 in \d+ ms → notified \d\d:\d\d:\d\dZ \(\d+ s after\)( \(1 attempt\))?$/,
    );
    expect(receiver.received.map((r) => JSON.parse(r.body).kind)).toContain("failover");
    // Traffic follows: Traffic Manager and DNS moved, verified, with what each step did.
    const traffic = card("state").locator('[data-field="traffic"][data-state="verified"]');
    await traffic.getByText("at secondary").waitFor({ timeout: 20_000 });
    expect(await traffic.innerText()).toMatch(
      /^Traffic: verified \d\d:\d\d:\d\dZ at secondary — traffic_manager: secondary enabled, primary disabled \(2 writes\); dns: app-east\.example\.net \(TTL 60\) -> app-west\.example\.net \(TTL 60\)$/,
    );
    await card("state").locator("ol.timeline li.switch_verified").waitFor();
    // The switch's writes to Azure, from its ledger, under its entry: what changed where and how it went.
    const ledger = await card("state").locator('ol.timeline li.switch_applied [data-field="write"]').allInnerTexts();
    expect(ledger).toEqual([
      expect.stringMatching(/^\d\d:\d\d:\d\dZ PATCH trafficManagerProfiles\/tm-app\/ExternalEndpoints\/app-west Disabled -> Enabled → ok \(Enabled\) \(\d+ ms\)$/),
      expect.stringMatching(/^\d\d:\d\d:\d\dZ PATCH trafficManagerProfiles\/tm-app\/ExternalEndpoints\/app-east Enabled -> Disabled → ok \(Disabled\) \(\d+ ms\)$/),
      expect.stringMatching(/^\d\d:\d\d:\d\dZ PUT dnszones\/contoso\.example\/CNAME\/www app-east\.example\.net \(TTL 60\) -> app-west\.example\.net \(TTL 60\) → ok \(\d+ ms\)$/),
    ]);
    expect(await card("state").locator('[data-field="cooldown"]').innerText()).toMatch(/^COOLDOWN (\d+ min|\d+ s) left/);
    expect(await card("payments").locator('[data-field="active"]').innerText()).toBe("ACTIVE: PRIMARY");
    expect(writes()).toEqual([]);
  });

  test("fail over asks for confirmation naming the group and the direction; cancel sends nothing", async () => {
    await card("payments").getByRole("button", { name: "Fail over primary → secondary…" }).click();
    const dialog = page.locator("dialog#confirm");
    await dialog.waitFor();
    expect(await dialog.locator("#confirm-title").innerText()).toBe('Fail over group "payments" from primary to secondary?');
    expect(await dialog.locator("#confirm-force-row").innerText()).toContain("Break-glass");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect(writes()).toEqual([]);
  });

  test("pause through the UI: confirmation, reason and expiry; the pause shows on the card", async () => {
    await card("payments").getByRole("button", { name: "Pause…" }).click();
    const dialog = page.locator("dialog#confirm");
    expect(await dialog.locator("#confirm-title").innerText()).toBe('Pause automatic switching of group "payments"?');
    await dialog.locator("#confirm-minutes").fill("30");
    await dialog.locator("#confirm-reason").fill("database upgrade");
    await dialog.getByRole("button", { name: "Pause payments" }).click();
    const pause = card("payments").locator('[data-field="pause"]');
    await pause.waitFor();
    expect(await pause.innerText()).toMatch(/^PAUSED by function key: database upgrade · until \d\d:\d\d:\d\dZ \(in 30 min\)$/);
    expect(writes().map((r) => [r.method(), new URL(r.url()).pathname + new URL(r.url()).search])).toEqual([["POST", "/api/pause?group=payments"]]);
    expect(JSON.parse(writes()[0].postData() ?? "{}")).toMatchObject({ reason: "database upgrade", until: expect.stringMatching(/Z$/) });
    const row = await call(host.url, "GET", "/api/status?group=payments");
    expect(row.body.state).toMatchObject({ paused: true, pause_reason: "database upgrade" });
    mkdirSync(join(SCREENSHOT, ".."), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  test("a failback hold shows on the card: its owner, reason and end", async () => {
    const until = new Date(Date.now() + 2 * 3600_000).toISOString();
    expect((await call(host.url, "POST", "/api/hold?group=payments", { until, reason: "replica resync" })).body).toMatchObject({ changed: true, held: true });
    const hold = card("payments").locator('[data-field="hold"]');
    await hold.waitFor({ timeout: 20_000 });
    expect(await hold.innerText()).toMatch(/^FAILBACK HELD by function key: replica resync · until \d\d:\d\d:\d\dZ \(in 2\.0 h\)$/);
    expect((await call(host.url, "POST", "/api/release?group=payments", { reason: "resynced" })).body).toMatchObject({ changed: true, held: false });
    await hold.waitFor({ state: "detached", timeout: 20_000 });
  });

  test("traffic moved by hand: the card shows DRIFT with the step and what differs", async () => {
    standIn.resources.edit(`${SAMPLE_IDS.trafficManager}/ExternalEndpoints/app-east`, { endpointStatus: "Enabled" });
    const drift = card("state").locator('[data-field="drift"]');
    await drift.waitFor({ timeout: 20_000 });
    expect(await drift.innerText()).toMatch(/^DRIFT since \d\d:\d\d:\d\dZ: step 0 \(traffic_manager tm-app\): expected secondary only, reads both/);
    expect(writes()).toHaveLength(1);
  });

  test("a dry-run drill from the card: it reads every step back, writes nothing to Azure, and the card shows its result (drift found: not ready)", async () => {
    const before = writes().length;
    const azureWrites = standIn.writes().length;
    await card("state").getByRole("button", { name: "Dry run…" }).click();
    expect(await page.locator("#confirm-title").innerText()).toBe('Dry-run a drill of group "state": readiness and a read-back of every step, nothing written?');
    await page.locator("#confirm-reason").fill("before the change window");
    await page.getByRole("button", { name: "Dry-run state", exact: true }).click();
    const line = card("state").locator('[data-field="last-drill"]');
    await line.waitFor({ timeout: 20_000 });
    expect(await line.innerText()).toMatch(/^Last drill: dry run not_ready in [\d.]+ s, no write · \d\d:\d\d:\d\dZ \(.* ago\) by function key$/);
    expect(await card("state").locator('[data-field="result"]').innerText()).toMatch(
      /^dry run not_ready in [\d.]+ s, no write: the read-back did not find every step on secondary: step 0 \(traffic_manager\) mismatch/,
    );
    expect(
      writes()
        .slice(before)
        .map((r) => new URL(r.url()).pathname + new URL(r.url()).search),
    ).toEqual(["/api/drill?group=state"]);
    expect(JSON.parse(writes().slice(before)[0].postData() ?? "{}")).toEqual({ reason: "before the change window", dry_run: true });
    expect(standIn.writes()).toHaveLength(azureWrites);
  });

  test("a proposed failover (decision_mode approval) shows on the card with Approve and Reject; approved there, the loop fails over and the audit names who decided", async () => {
    const init = await call(host.url, "POST", "/api/init", {
      group: "approvals",
      primary_endpoint: "http://127.0.0.1:9/dead",
      secondary_endpoint: backends.secondary.url,
      decision_mode: "approval",
      cooldown_seconds: 0,
    });
    expect(init.status).toBe(201);
    await call(host.url, "POST", "/api/start?group=approvals");
    await page.goto(`${host.url}/api/console?refresh=0.5&code=test-key&open=state,payments,approvals`);
    const flag = card("approvals").locator('[data-field="proposal"]');
    await flag.waitFor({ timeout: 20_000 });
    expect(await flag.innerText()).toMatch(/^FAILOVER primary → secondary PROPOSED: approve or reject · until \d\d:\d\d:\d\dZ \(in 15 min\)$/);
    expect(await flag.getAttribute("title")).toMatch(/^1 consecutive failed checks of the primary \(threshold 1\); the standby \(secondary\) healthy/);
    const before = writes().length;
    await card("approvals").getByRole("button", { name: "Approve failover…" }).click();
    await page.locator("#confirm-reason").fill("checked the database");
    expect(await page.locator("#confirm-title").innerText()).toBe('Approve the failover of group "approvals" from primary to secondary (the loop makes it at once)?');
    await page.getByRole("button", { name: "Approve failover", exact: true }).click();
    await card("approvals").locator('[data-field="active"]').getByText("ACTIVE: SECONDARY").waitFor({ timeout: 20_000 });
    const sent = writes().slice(before);
    expect(sent.map((r) => new URL(r.url()).pathname + new URL(r.url()).search)).toEqual(["/api/approve?group=approvals"]);
    const { proposal_id } = JSON.parse(sent[0].postData() ?? "{}") as { proposal_id: string };
    expect(JSON.parse(sent[0].postData() ?? "{}")).toEqual({ reason: "checked the database", proposal_id: expect.stringMatching(/^failover-/) });
    const entries = (await call(host.url, "GET", "/api/history?group=approvals&limit=10")).body.entries as Array<{ kind: string; actor: string; reason: string }>;
    expect(entries.find((e) => e.kind === "approval_granted")).toMatchObject({ actor: "function key", reason: expect.stringMatching(/^checked the database \(failover primary -> secondary/) });
    expect(entries.find((e) => e.kind === "failover")?.reason).toMatch(/^approved by function key at /);
    expect(proposal_id).toBeTruthy();
    await flag.waitFor({ state: "detached", timeout: 20_000 });
  });

  test("storage down: a red banner names the failure, and the last cards stay, dimmed", async () => {
    const before = await refreshes();
    await azurite.stop();
    await page.locator("#banner.show").waitFor({ timeout: 20_000 });
    expect(await page.locator("#banner").innerText()).toMatch(
      /^CANNOT READ STATE: storage_unavailable: Table storage failed while (listing groups|reading group "\w+") .* · showing what was read at \d\d:\d\d:\d\dZ/,
    );
    expect(await card("state").getAttribute("class")).toContain("dim");
    expect(await card("state").locator('[data-field="active"]').innerText()).toBe("ACTIVE: SECONDARY");
    expect(await refreshes()).toBeGreaterThan(before);
  });
});

describe("operator console in Chromium: a viewer who may only read", () => {
  let host: LocalHost;
  let page: Page;
  const writes: Request[] = [];
  // With App Service Authentication on, the platform sets this header on every request it lets through.
  const principal = (roles: string[]) => ({
    "x-ms-client-principal": Buffer.from(
      JSON.stringify({ auth_typ: "aad", name_typ: "name", claims: [{ typ: "name", val: "viewer@contoso.example" }, ...roles.map((val) => ({ typ: "roles", val }))] }),
    ).toString("base64"),
  });

  beforeAll(async () => {
    host = await startLocalHost({ env: testEnv({ WEBSITE_AUTH_ENABLED: "true", PRIMARY_ENDPOINT: "http://127.0.0.1:9/p", SECONDARY_ENDPOINT: "http://127.0.0.1:9/s" }), timers: false });
    expect((await fetch(`${host.url}/api/init`, { method: "POST", headers: principal(["operator"]) })).status).toBe(201);
    page = await browser().newPage({ viewport: { width: 1240, height: 760 } });
    page.on("request", (r) => {
      if (r.method() !== "GET") writes.push(r);
    });
  }, 60_000);
  afterAll(async () => {
    await page?.close();
    await host?.stop();
  });

  const card = () => page.locator('section.card[data-group="state"]');

  test("a reader sees the actions disabled with the reason, and the page sends nothing", async () => {
    await page.setExtraHTTPHeaders(principal(["reader"]));
    await page.goto(`${host.url}/api/console?refresh=0.5&open=state`);
    const reason = card().locator('[data-field="read-only"]');
    await reason.waitFor();
    expect(await reason.innerText()).toBe("Read only: viewer@contoso.example lacks the operator app role (has reader)");
    for (const name of ["Pause…", "Fail over primary → secondary…"]) expect(await card().getByRole("button", { name }).isDisabled()).toBe(true);
    expect(writes).toEqual([]);
    // A reader never decides on a proposal either.
    const approve = await fetch(`${host.url}/api/approve`, {
      method: "POST",
      headers: { ...principal(["reader"]), "content-type": "application/json" },
      body: JSON.stringify({ proposal_id: "failover-1" }),
    });
    expect([approve.status, ((await approve.json()) as { message: string }).message]).toEqual([403, "viewer@contoso.example lacks the operator app role (has reader)"]);
  });

  test("an operator whose role is taken away meanwhile: the refused action says why on the card, then the actions are disabled", async () => {
    await page.setExtraHTTPHeaders(principal(["operator"]));
    await page.reload();
    const pauseButton = card().getByRole("button", { name: "Pause…" });
    await pauseButton.waitFor();
    expect(await pauseButton.isEnabled()).toBe(true);
    await pauseButton.click();
    await page.setExtraHTTPHeaders(principal(["reader"]));
    await page.locator("#confirm-reason").fill("maintenance");
    await page.getByRole("button", { name: "Pause state" }).click();
    const result = card().locator('[data-field="result"]');
    await result.waitFor();
    expect(await result.innerText()).toBe("pause refused (HTTP 403): not allowed to operate: viewer@contoso.example lacks the operator app role (has reader)");
    await card().locator('[data-field="read-only"]').waitFor();
    expect(writes.map((r) => new URL(r.url()).pathname)).toEqual(["/api/pause"]);
    expect(((await (await fetch(`${host.url}/api/status`, { headers: principal(["reader"]) })).json()) as { state: unknown }).state).toMatchObject({ paused: false });
  });
});
