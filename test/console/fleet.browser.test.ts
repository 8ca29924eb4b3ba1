import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { TableClient } from "@azure/data-tables";
import type { Page, Request } from "playwright-core";
import { PARTITION_KEY } from "../../src/core/state";
import { standInCredential } from "../../src/local/services/azureStandIn/credential";
import { SAMPLE_IDS, samplePlan, seedSampleTargets } from "../../src/local/services/azureStandIn/sampleTargets";
import { startAzureStandIn, type AzureStandIn } from "../../src/local/services/azureStandIn/server";
import { call, eventually } from "../../src/local/tools/client";
import { startLocalHost, type LocalHost } from "../../src/local/host/host";
import { backendPair } from "../helpers/backends";
import { chromiumForSuite } from "../helpers/browser";
import { storageConnectionString, testEnv } from "../helpers/env";

/**
 * The status-first console at fleet size, in Chromium: 200 groups on the local host, each with
 * its running loop, a dozen of them broken in every way the console ranks (a row that cannot be
 * read, a loop not started, both sides down, the active side down, a held switch, drift, paused
 * while down, the standby down, on the secondary). Every problem row is in the first viewport,
 * the header counts each severity right, and the page makes as many requests a minute at 200
 * groups as at 2 (the page's clock is Playwright's, so a minute of refreshes takes seconds).
 * Saves test-output/console-3.png and test-output/console-200.png (the README's pictures).
 */

const OUTPUT = join(__dirname, "..", "..", "test-output");
const DEFAULT_REFRESH_SECONDS = 5;

const browser = chromiumForSuite();

describe("the console with 200 groups", () => {
  const backends = backendPair();
  let standIn: AzureStandIn;
  let host: LocalHost;
  let table: TableClient;
  let page: Page;
  const requests: Request[] = [];
  const DEAD_P = "http://127.0.0.1:9/dead-primary";
  const DEAD_S = "http://127.0.0.1:9/dead-secondary";

  beforeAll(async () => {
    standIn = await startAzureStandIn();
    seedSampleTargets(standIn);
    const env = testEnv({
      PRIMARY_ENDPOINT: backends.primary.url,
      SECONDARY_ENDPOINT: backends.secondary.url,
      CHECK_INTERVAL_SECONDS: "10",
      FAILURE_THRESHOLD: "1",
      // The dead endpoints refuse at once; a healthy probe on a CPU-starved runner gets 2 s before it counts as down (threshold 1).
      PROBE_TIMEOUT_MS: "2000",
      COOLDOWN_SECONDS: "600",
      MAX_GROUPS: "200",
      ...standIn.appSettings(),
    });
    table = TableClient.fromConnectionString(storageConnectionString(), env.FAILOVER_TABLE, { allowInsecureConnection: true });
    host = await startLocalHost({ env, timers: false, credential: standInCredential });
    page = await browser().newPage({ viewport: { width: 1240, height: 760 } });
    page.on("request", (r) => requests.push(r));
    // The page's timers run on Playwright's clock: the test moves it a refresh period at a time.
    await page.clock.install();
  }, 60_000);

  afterAll(async () => {
    await page?.close();
    await host?.stop();
    await standIn?.stop();
  });

  const api = (method: string, path: string, body?: unknown) => call(host.url, method, path, body);
  async function group(name: string, primary: string, secondary: string, extra: Record<string, unknown> = {}, start = true): Promise<void> {
    const init = await api("POST", `/api/init?group=${name}`, { primary_endpoint: primary, secondary_endpoint: secondary, ...extra });
    expect([name, init.status]).toEqual([name, 201]);
    if (start) expect([name, (await api("POST", `/api/start?group=${name}`)).status]).toEqual([name, 202]);
  }
  const refreshes = async () => Number((await page.locator("body").getAttribute("data-refreshes")) ?? "0");
  /** One minute of the page's clock at the default refresh period, a period at a time; the page's requests in it. */
  async function requestsInAMinute(): Promise<number> {
    const before = requests.length;
    for (let i = 0; i < 60 / DEFAULT_REFRESH_SECONDS; i++) {
      const n = await refreshes();
      await page.clock.runFor(DEFAULT_REFRESH_SECONDS * 1000);
      await eventually("the page refreshed", async () => ((await refreshes()) > n ? true : undefined), 20_000);
    }
    return requests.length - before;
  }
  const severities = () => page.locator("#rows tr.group").evaluateAll((rows) => rows.map((r) => [r.getAttribute("data-group"), r.getAttribute("data-severity")]));

  test("200 groups: every problem row in the first viewport, the header counts each severity, and as many requests a minute as with 2 groups", async () => {
    // Two healthy groups first.
    await group("alpha", backends.primary.url, backends.secondary.url);
    await group("bravo", backends.primary.url, backends.secondary.url);
    await page.goto(`${host.url}/api/console?code=test-key`);
    await eventually("two rows", async () => ((await page.locator("#rows tr.group").count()) === 2 ? true : undefined), 20_000);
    const atTwo = await requestsInAMinute();

    // A third, broken one, opened: the README's small picture.
    await group("charlie", DEAD_P, DEAD_S);
    await page.goto(`${host.url}/api/console?code=test-key&open=charlie`);
    await page.locator('tr.group[data-group="charlie"][data-severity="both_down"]').waitFor({ timeout: 20_000 });
    await page.locator("tr.detail section.card").waitFor();
    // The card's ACTIVE badge wears the group's severity: red, not green, while both sides are down.
    expect(
      await page
        .locator('tr.detail [data-field="active"]')
        .evaluate((el) => (el.ownerDocument.defaultView as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor),
    ).toBe("rgb(207, 34, 46)");
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, "console-3.png") });

    // The fleet: a dozen broken in each way, the rest healthy.
    const expected: Record<string, number> = { unreadable: 1, not_watched: 1, both_down: 2, active_down: 2, switch_problem: 1, drift: 1, paused_active_down: 1, standby_down: 1, on_secondary: 1 };
    await group("bad-row", backends.primary.url, backends.secondary.url, {}, false);
    await table.updateEntity({ partitionKey: PARTITION_KEY, rowKey: "bad-row", failover_count: "many" }, "Merge");
    await group("never-started", backends.primary.url, backends.secondary.url, {}, false);
    await group("both-down", DEAD_P, DEAD_S); // with charlie: 2
    // Their threshold is 5 checks a minute apart: they stay down on the primary for the whole test.
    await group("active-down-1", DEAD_P, backends.secondary.url, { failure_threshold: 5, check_interval_seconds: 60 });
    await group("active-down-2", DEAD_P, backends.secondary.url, { failure_threshold: 5, check_interval_seconds: 60 });
    const missingProfile = samplePlan(standIn, ["traffic_manager"]);
    missingProfile.steps[0].profile_id = SAMPLE_IDS.trafficManager.replace("tm-app", "tm-gone");
    await group("held-switch", DEAD_P, backends.secondary.url, { switch_plan: missingProfile });
    await group("drifted", backends.primary.url, backends.secondary.url, { switch_plan: samplePlan(standIn, ["traffic_manager"]) });
    await group("paused-down", DEAD_P, backends.secondary.url, {}, false);
    expect((await api("POST", "/api/pause?group=paused-down", { reason: "maintenance" })).status).toBe(200);
    expect((await api("POST", "/api/start?group=paused-down")).status).toBe(202);
    await group("standby-down", DEAD_P, backends.secondary.url);
    await group("on-secondary", backends.primary.url, backends.secondary.url);
    expect((await api("POST", "/api/do_failover?group=on-secondary", { force: true, expected_from: "primary", reason: "drill" })).body).toMatchObject({ changed: true });
    const healthy = 200 - 3 - 10;
    for (let i = 1; i <= healthy; i++) await group(`svc-${String(i).padStart(3, "0")}`, backends.primary.url, backends.secondary.url);
    // The drifted group's plan was adopted at its first cycle; then someone enables the secondary by hand.
    await eventually("the plan adopted", async () => ((await table.getEntity<Record<string, unknown>>(PARTITION_KEY, "drifted")).switch_state === "verified" ? true : undefined), 30_000);
    standIn.resources.edit(`${SAMPLE_IDS.trafficManager}/ExternalEndpoints/app-west`, { endpointStatus: "Enabled" });

    await page.goto(`${host.url}/api/console?code=test-key`);
    const want = [`200 groups`, ...Object.entries(expected).map(([s, n]) => `${n} ${s}`), `${healthy + 2} ok`];
    const counts = async () => {
      const rows = await severities();
      const by: Record<string, number> = {};
      for (const [, s] of rows) by[s!] = (by[s!] ?? 0) + 1;
      return [`${rows.length} groups`, ...Object.keys(expected).map((s) => `${by[s] ?? 0} ${s}`), `${by.ok ?? 0} ok`];
    };
    // Each loop's next cycles bring its row where the setup sends it: wait for every severity, refreshing a period at a time.
    await eventually(
      "every group at its severity",
      async () => {
        const n = await refreshes();
        await page.clock.runFor(DEFAULT_REFRESH_SECONDS * 1000);
        await eventually("the page refreshed", async () => ((await refreshes()) > n ? true : undefined), 20_000);
        return JSON.stringify(await counts()) === JSON.stringify(want) ? true : undefined;
      },
      90_000,
    ).catch(async (err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(await counts())}, want ${JSON.stringify(want)}`);
    });
    // The header says the same, in the console's words and most urgent first.
    expect(await page.locator("#summary").innerText()).toBe(
      `200 groups · 1 UNREADABLE · 1 NOT WATCHED · 2 BOTH DOWN · 2 ACTIVE DOWN · 1 SWITCH PROBLEM · 1 DRIFT · 1 PAUSED, DOWN · 1 STANDBY DOWN · 1 ON SECONDARY · ${healthy + 2} OK`,
    );

    await page.screenshot({ path: join(OUTPUT, "console-200.png") });
    // Every problem row is above the fold, in severity order; the healthy ones follow.
    const rows = await severities();
    const problems = rows.filter(([, s]) => s !== "ok");
    expect(rows.slice(0, problems.length)).toEqual(problems);
    for (const [name] of problems) {
      const box = await page.locator(`tr.group[data-group="${name}"]`).boundingBox();
      expect([name, box !== null && box.y >= 0 && box.y + box.height <= 760]).toEqual([name, true]);
    }
    // Colours never say OK while something is wrong: no problem row wears the ok colour.
    expect(await page.locator("tr.group.sev-ok").count()).toBe(healthy + 2);

    const atTwoHundred = await requestsInAMinute();
    console.log(`console: requests per minute at the default ${DEFAULT_REFRESH_SECONDS} s refresh, no row open: 2 groups ${atTwo}, 200 groups ${atTwoHundred}`);
    expect(atTwo).toBe(60 / DEFAULT_REFRESH_SECONDS);
    expect(atTwoHundred).toBe(atTwo);
    // Every one of them a GET of /api/groups: no per-group request while no row is open.
    expect(new Set(requests.slice(-atTwoHundred).map((r) => `${r.method()} ${new URL(r.url()).pathname}`))).toEqual(new Set(["GET /api/groups"]));
  }, 400_000);
});
