import { readFileSync } from "node:fs";
import { join } from "node:path";
import { APP_SETTING_NAMES, GENERAL_SETTINGS, LIMIT_SETTINGS, loadConfig } from "../../src/core/config";
import { POLICY_KNOBS } from "../../src/core/knobs";
import { METRICS } from "../../src/core/telemetry";

const root = join(__dirname, "..", "..");
const read = (file: string) => readFileSync(join(root, file), "utf8");
const readme = read("README.md");

/** The cells of the doc's table row whose first cell is `key` in backticks. */
function tableRow(doc: string, key: string): string[] | undefined {
  const line = read(doc).split("\n").find((l) => l.startsWith(`| \`${key}\` |`));
  return line?.split("|").slice(1, -1).map((cell) => cell.trim());
}

describe("docs match the code", () => {
  test.each(POLICY_KNOBS.map((k) => [k.setting, k]))("the policy doc's table documents %s with its row field and default", (_name, knob) => {
    const row = tableRow("docs/policy.md", knob.setting);
    expect(row).toBeDefined();
    expect(row![1]).toBe(`\`${knob.field}\``);
    expect(row![2]).toBe(knob.defaultText === "" ? "(empty)" : `\`${knob.defaultText}\``);
    expect(row![4]).toBe(knob.anchor);
  });

  test.each([...GENERAL_SETTINGS, ...LIMIT_SETTINGS].map((s) => [s.setting, s]))("the settings doc's table documents %s with its default", (_name, setting) => {
    const row = tableRow("docs/settings.md", setting.setting);
    expect(row).toBeDefined();
    expect(row![1]).toBe(setting.defaultText === "" ? "(none)" : `\`${setting.defaultText}\``);
  });

  test("local.settings.sample.json has every setting the app reads, and they load", () => {
    const values = (JSON.parse(read("local.settings.sample.json")) as { Values: Record<string, string> }).Values;
    for (const name of [...APP_SETTING_NAMES, "AzureWebJobsStorage", "TASK_HUB_NAME", "FUNCTIONS_WORKER_RUNTIME"]) expect(Object.keys(values)).toContain(name);
    expect(() => loadConfig(values)).not.toThrow();
    // The sample spells out each knob's default, as the policy schema defines it.
    for (const knob of POLICY_KNOBS) expect([knob.setting, values[knob.setting]]).toEqual([knob.setting, knob.defaultText]);
  });

  test("host.json: extension bundle 4.x, hub name from TASK_HUB_NAME, queue polling fast enough for timely timers", () => {
    const host = JSON.parse(read("host.json"));
    expect(host.extensionBundle).toEqual({ id: "Microsoft.Azure.Functions.ExtensionBundle", version: "[4.*, 5.0.0)" });
    expect(host.extensions.durableTask.hubName).toBe("%TASK_HUB_NAME%");
    const [h, m, s] = String(host.extensions.durableTask.storageProvider.maxQueuePollingInterval).split(":").map(Number);
    expect(h * 3600 + m * 60 + s).toBeLessThanOrEqual(5);
    // The host exports its invocation spans and logs through OpenTelemetry, so the worker's spans correlate with them.
    expect(host.telemetryMode).toBe("OpenTelemetry");
  });

  test("the README quick start commands exist as npm scripts", () => {
    const scripts = (JSON.parse(read("package.json")) as { scripts: Record<string, string> }).scripts;
    expect(readme).toContain("npm ci && npm run demo");
    expect(readme).toContain("npm ci && npm test");
    expect(scripts.demo).toBeDefined();
    expect(scripts.test).toBeDefined();
  });

  test('"Observe it" (docs/observe.md) lists every metric, every alert rule, and the loop-stopped query exactly as the Bicep has it', () => {
    const observe = read("docs/observe.md");
    for (const name of Object.values(METRICS)) expect([name, observe.includes(`\`${name}\``)]).toEqual([name, true]);
    const alerts = read("bicep/modules/alerts.bicep");
    const displayNames = [...alerts.matchAll(/displayName: '([^']+)'/g)].map((m) => m[1]);
    expect(displayNames).toHaveLength(7);
    for (const name of [...displayNames, "Storage errors"]) expect([name, observe.includes(`| ${name} |`)]).toEqual([name, true]);
    const query = /var loopStoppedQuery = '''\n([\s\S]*?)'''/.exec(alerts)![1].trim();
    expect(observe).toContain("```kusto\n" + query + "\n```");
  });
});
