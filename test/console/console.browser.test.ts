import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page, type Request } from "playwright-core";
import { startAzurite, type AzuriteHandle } from "../../src/local/azurite";
import { call, eventually } from "../../src/local/client";
import { startLocalHost, type LocalHost } from "../../src/local/host";
import { startSampleBackend, type SampleBackend } from "../../src/local/sampleBackend";
import { backendPair } from "../helpers/backends";
import { testEnv } from "../helpers/env";

/**
 * The console in a real browser: Debian's Chromium driven by playwright-core (never a
 * downloaded browser), against the app on the local host with two groups and fast settings.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const SCREENSHOT = join(__dirname, "..", "..", "test-output", "console.png");

describe("operator console in Chromium", () => {
  const backends = backendPair();
  let paymentsPrimary: SampleBackend;
  let host: LocalHost;
  let azurite: AzuriteHandle;
  let browser: Browser;
  let page: Page;
  const requests: Request[] = [];
  const cspViolations: string[] = [];

  beforeAll(async () => {
    paymentsPrimary = await startSampleBackend("payments-primary");
    // Its own Azurite, so the last test can take storage away for real.
    azurite = await startAzurite();
    host = await startLocalHost({
      env: testEnv({
        AzureWebJobsStorage: azurite.connectionString,
        PRIMARY_ENDPOINT: backends.primary.url,
        SECONDARY_ENDPOINT: backends.secondary.url,
        CHECK_INTERVAL_SECONDS: "1",
        FAILURE_THRESHOLD: "1",
        PROBE_TIMEOUT_MS: "500",
        COOLDOWN_SECONDS: "600",
      }),
      timers: false,
    });
    await call(host.url, "POST", "/api/init");
    await call(host.url, "POST", "/api/init", { group: "payments", primary_endpoint: paymentsPrimary.url, secondary_endpoint: backends.secondary.url });
    await call(host.url, "POST", "/api/start");
    await call(host.url, "POST", "/api/start?group=payments");
    try {
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
      });
    } catch (err) {
      throw new Error(`Chromium could not start from ${CHROMIUM} (install it with: apt-get install -y chromium, or set CHROMIUM_PATH): ${(err as Error).message}`);
    }
    page = await browser.newPage({ viewport: { width: 1240, height: 760 } });
    page.on("request", (r) => requests.push(r));
    page.on("console", (m) => {
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await host?.stop();
    await paymentsPrimary?.close();
    await azurite?.stop();
  });

  const card = (group: string) => page.locator(`section.card[data-group="${group}"]`);
  const refreshes = async () => Number(await page.locator("body").getAttribute("data-refreshes"));
  const writes = () => requests.filter((r) => r.method() !== "GET");

  test("shows each group's active target and health, and only reads while viewing", async () => {
    await page.goto(`${host.url}/api/console?refresh=0.5&code=test-key`);
    await card("state").locator('[data-field="active"]').getByText("ACTIVE: PRIMARY").waitFor();
    await card("payments").locator('[data-field="active"]').getByText("ACTIVE: PRIMARY").waitFor();
    await card("state").locator('tr[data-target="primary"] td.healthy').waitFor();
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
    expect(JSON.parse(writes()[0]!.postData() ?? "{}")).toMatchObject({ reason: "database upgrade", until: expect.stringMatching(/Z$/) });
    const row = await call(host.url, "GET", "/api/status?group=payments");
    expect(row.body.state).toMatchObject({ paused: true, pause_reason: "database upgrade" });
    mkdirSync(join(SCREENSHOT, ".."), { recursive: true });
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
  });

  test("storage down: a red banner names the failure, and the last cards stay, dimmed", async () => {
    const before = await refreshes();
    await azurite.stop();
    await page.locator("#banner.show").waitFor({ timeout: 20_000 });
    expect(await page.locator("#banner").innerText()).toMatch(/^CANNOT READ STATE: storage_unavailable: Table storage failed while listing groups .* · showing what was read at \d\d:\d\d:\d\dZ/);
    expect(await card("state").getAttribute("class")).toContain("dim");
    expect(await card("state").locator('[data-field="active"]').innerText()).toBe("ACTIVE: SECONDARY");
    expect(await refreshes()).toBeGreaterThan(before);
  });
});
