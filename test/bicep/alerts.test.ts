import { readFileSync } from "node:fs";
import path from "node:path";
import { defaultPolicyText } from "../../src/core/knobs";
import { WATCHDOG_PERIOD_SECONDS } from "../../src/core/orchestrationContract";
import { ATTR, METRICS } from "../../src/core/telemetry";
import { installFunctionsCore, registeredFunctions, triggerOf } from "../../src/local/host/functionsCore";
import { currentDeployment } from "../../src/local/tools/cost/costCount";
import { buildMainTemplate, findProperties, moduleDeployment, type Json } from "./arm";
import { expand, type Expanded } from "./armEval";

/**
 * The alerts and the workbook, as compiled by the real Bicep CLI and expanded for given
 * parameter values the way Resource Manager would (conditions, copy loops, expressions).
 */

let main: Json;
let alertsTemplate: Json;
let workbookTemplate: Json;

beforeAll(() => {
  main = buildMainTemplate();
  alertsTemplate = moduleDeployment(main, "alerts").properties.template;
  workbookTemplate = moduleDeployment(main, "workbook").properties.template;
});

const BASE = { alertNamePrefix: "alert-tok", actionGroupName: "ag-tok", location: "swedencentral", tags: { application: "failover-orchestrator" }, applicationInsightsName: "appi-tok", storageAccountName: "sttok" };

function deployAlerts(extra: Record<string, Json> = {}): Expanded[] {
  return expand(alertsTemplate, { ...BASE, ...extra });
}

const ofType = (resources: Expanded[], type: string) => resources.filter((r) => r.type === type);
const rule = (resources: Expanded[], key: string) => {
  const found = resources.find((r) => r.name === `alert-tok-${key}`);
  if (!found) throw new Error(`no alert rule alert-tok-${key}; have ${resources.map((r) => r.name).join(", ")}`);
  return found.resource;
};
const criterion = (r: Json) => r.properties.criteria.allOf[0];

/** An ISO 8601 duration of days, hours, minutes and seconds (PT5M, P2D), in seconds. */
function isoSeconds(duration: string): number {
  const m = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(duration);
  if (!m) throw new Error(`not a duration: ${duration}`);
  const [d, h, min, sec] = m.slice(1).map((v) => Number(v ?? 0));
  return ((d * 24 + h) * 60 + min) * 60 + sec;
}

/**
 * The loop-stopped rule's worst case, from a loop's last completed cycle to the rule firing,
 * without the ingestion delay: the cycle's heartbeat is exported up to one export period E
 * later (at T); the rule needs the app's data clock (its newest export) more than
 * missed x interval + E past T, and the clock moves one export at a time; then the rule runs
 * within one evaluation period.
 */
function worstCaseSeconds(interval: number, missed: number, exportSeconds: number, every: number): number {
  return exportSeconds + exportSeconds * (Math.floor((missed * interval + exportSeconds) / exportSeconds) + 1) + every;
}

/** The same, by simulating the exports, the data clock and the evaluations at every phase. */
function simulateWorstCase(interval: number, missed: number, exportSeconds: number, every: number): number {
  let worst = 0;
  const lastCycle = 10_000;
  for (let exportPhase = 0; exportPhase < exportSeconds; exportPhase++) {
    const exportAt = (k: number) => exportPhase + k * exportSeconds;
    const heartbeat = exportAt(Math.floor((lastCycle - exportPhase) / exportSeconds) + 1); // the export after the cycle
    const clockAt = (t: number) => exportAt(Math.floor((t - exportPhase) / exportSeconds));
    for (let evalPhase = 0; evalPhase < every; evalPhase++) {
      let at = evalPhase + Math.ceil((lastCycle - evalPhase) / every) * every;
      while (!(clockAt(at) - heartbeat > missed * interval + exportSeconds)) at += every;
      worst = Math.max(worst, at - lastCycle);
    }
  }
  return worst;
}

/** Every failover.* name a query mentions is a metric the app emits. */
function metricNamesIn(query: string): string[] {
  return [...query.matchAll(/"(failover\.[a-z_.]+)"/g)].map((m) => m[1]).filter((n) => !Object.values<string>(ATTR).includes(n));
}

describe("alert rules", () => {
  test("the seven log alerts and the storage metric alert exist, each with a description that says what it means and what to do first", () => {
    const resources = deployAlerts();
    expect(ofType(resources, "Microsoft.Insights/scheduledQueryRules").map((r) => r.name).sort()).toEqual(
      ["alert-tok-http-5xx", "alert-tok-loop-stopped", "alert-tok-standby-down", "alert-tok-switch-failed", "alert-tok-switch-happened", "alert-tok-switch-held", "alert-tok-watchdog-silent"],
    );
    expect(ofType(resources, "Microsoft.Insights/metricAlerts").map((r) => r.name)).toEqual(["alert-tok-storage-errors"]);
    for (const r of [...ofType(resources, "Microsoft.Insights/scheduledQueryRules"), ...ofType(resources, "Microsoft.Insights/metricAlerts")]) {
      expect([r.name, r.resource.properties.enabled]).toEqual([r.name, true]);
      expect([r.name, r.resource.properties.description]).toEqual([r.name, expect.stringMatching(/.{60,}First: .{30,}/)]);
    }
  });

  test("a description that says when the watchdog restarts a loop names the watchdog's real period (its timer's schedule)", () => {
    installFunctionsCore();
    require("../../src/functions/watchdog");
    const minutes = currentDeployment(String(triggerOf(registeredFunctions().get("watchdog")!).schedule)).watchdogEveryMinutes;
    const descriptions = deployAlerts().map((r) => String(r.resource.properties?.description ?? ""));
    const aboutWatchdog = descriptions.filter((d) => /watchdog/.test(d));
    expect(aboutWatchdog.length).toBeGreaterThan(0);
    expect(aboutWatchdog.length).toBeGreaterThanOrEqual(2);
    for (const d of aboutWatchdog) expect(d).toContain(`runs every ${minutes} minutes`);
    expect(String(rule(deployAlerts(), "loop-stopped").properties.description)).toContain(`still stuck ${minutes} minutes later, terminates and starts it again`);
    for (const d of descriptions) expect(d).not.toMatch(/within a minute/);
  });

  test("every metric and attribute the queries read is one the app emits", () => {
    const resources = deployAlerts();
    const queries = ofType(resources, "Microsoft.Insights/scheduledQueryRules").map((r) => criterion(r.resource).query as string);
    const metrics = queries.flatMap(metricNamesIn);
    expect(metrics.length).toBeGreaterThanOrEqual(4);
    for (const name of metrics) expect(Object.values(METRICS)).toContain(name);
    for (const query of queries) {
      for (const [, attribute] of query.matchAll(/customDimensions\["([^"]+)"\]/g)) expect(Object.values(ATTR)).toContain(attribute);
    }
  });

  test("loop stopped: a group's last failover.cycles more than 3 x its interval + 60 s older than the newest metric of the app, groups known for 2 days from heartbeats and the watchdog's reports", () => {
    const r = rule(deployAlerts(), "loop-stopped");
    const c = criterion(r);
    expect(r.kind).toBe("LogAlert");
    expect(r.properties.scopes).toEqual(["/resourceId/Microsoft.Insights/components/appi-tok"]);
    expect(r.properties).toMatchObject({ severity: 1, evaluationFrequency: "PT5M", windowSize: "PT5M", overrideQueryTimeRange: "P2D", autoMitigate: true });
    expect(c).toMatchObject({ timeAggregation: "Count", operator: "GreaterThan", threshold: 0 });
    expect(c.query).toContain(`name in ("${METRICS.cycles}", "${METRICS.loopOverdue}")`);
    expect(c.query).toContain(`customDimensions["${ATTR.group}"]`);
    expect(c.query).toContain(`customDimensions["${ATTR.checkInterval}"]`);
    // Silence is measured on the app's data clock, never on now(): a delay of all telemetry cannot fire it.
    expect(c.query).toContain("let clock = toscalar(customMetrics | summarize max(timestamp));");
    expect(c.query).toContain("where clock - since > (3 * interval_s + 60) * 1s");
    expect(c.query).not.toMatch(/now\(\)/);
    expect(c.query).toContain(`last_cycle = maxif(timestamp, name == "${METRICS.cycles}")`);
    expect(c.query).toMatch(/union \(print group = .*\| where isnull\(clock\)\)/);
    expect(r.properties.description).not.toContain("POST /api/start");
    expect(r.properties.description).toMatch(/loop_restarted/);
    // The other rules look back as far as their window only.
    for (const key of ["switch-happened", "switch-failed", "switch-held", "http-5xx"]) expect(rule(deployAlerts(), key).properties.overrideQueryTimeRange).toBeUndefined();
  });

  test("loop stopped: the worst case from a loop's last completed cycle to the alert, computed from the compiled rule at the default interval, is the one docs/observe.md states", () => {
    const r = rule(deployAlerts(), "loop-stopped");
    const [, missed, exportSeconds] = /\((\d+) \* interval_s \+ (\d+)\) \* 1s/.exec(criterion(r).query)!.map(Number);
    const every = isoSeconds(r.properties.evaluationFrequency);
    const interval = Number(defaultPolicyText().check_interval_seconds);
    const formula = worstCaseSeconds(interval, missed, exportSeconds, every);
    // The formula against a simulation of the rule over every phase of the exports and evaluations (1 s steps).
    const simulated = simulateWorstCase(interval, missed, exportSeconds, every);
    expect(simulated).toBeLessThanOrEqual(formula);
    expect(simulated).toBeGreaterThan(formula - 3);
    expect([interval, missed, exportSeconds, every, formula]).toEqual([30, 3, 60, 300, 540]);
    const observe = readFileSync(path.join(__dirname, "../../docs/observe.md"), "utf8");
    expect(observe).toContain(`= ${formula} s plus the ingestion delay`);
  });

  test("watchdog silent: no report of the watchdog ingested for 2 of its periods + the export period, or none in 2 days", () => {
    const r = rule(deployAlerts(), "watchdog-silent");
    const c = criterion(r);
    expect(r.properties).toMatchObject({ severity: 1, evaluationFrequency: "PT5M", windowSize: "PT5M", overrideQueryTimeRange: "P2D", autoMitigate: true });
    expect(c).toMatchObject({ timeAggregation: "Count", operator: "GreaterThan", threshold: 0 });
    expect(c.query).toContain(`name == "${METRICS.loopOverdue}"`);
    expect(c.query).toContain("last_arrival = max(ingestion_time())");
    expect(c.query).toContain(`where isnull(last_arrival) or now() - last_arrival > (2 * ${WATCHDOG_PERIOD_SECONDS} + 60) * 1s`);
  });

  test("a switch happened: failover.switches summed per group, kind and trigger over 5 minutes", () => {
    const r = rule(deployAlerts(), "switch-happened");
    expect(r.properties).toMatchObject({ severity: 2, evaluationFrequency: "PT5M", windowSize: "PT5M" });
    expect(criterion(r)).toMatchObject({ timeAggregation: "Count", operator: "GreaterThan", threshold: 0 });
    expect(criterion(r).query).toContain(`name == "${METRICS.switches}"`);
    expect(criterion(r).query).toContain(`customDimensions["${ATTR.switchTrigger}"]`);
  });

  test("a switch failed or drifted: the switch-plan step failure and drift counters", () => {
    const r = rule(deployAlerts(), "switch-failed");
    expect(r.properties).toMatchObject({ severity: 1, windowSize: "PT5M" });
    expect(criterion(r).query).toContain(`"${METRICS.switchStepFailures}"`);
    expect(criterion(r).query).toContain(`"${METRICS.switchDrift}"`);
    for (const attribute of [ATTR.group, ATTR.stepKind, ATTR.switchPhase, ATTR.errorType]) expect(criterion(r).query).toContain(`customDimensions["${attribute}"]`);
  });

  test("a switch needs an operator: the held-switch counter per group and error class, at the highest severity, naming the retry", () => {
    const r = rule(deployAlerts(), "switch-held");
    expect(r.properties).toMatchObject({ severity: 0, evaluationFrequency: "PT5M", windowSize: "PT5M" });
    expect(criterion(r).query).toContain(`name == "${METRICS.switchHeld}"`);
    for (const attribute of [ATTR.group, ATTR.errorType]) expect(criterion(r).query).toContain(`customDimensions["${attribute}"]`);
    expect(r.properties.description).toContain("POST /api/retry_switch");
  });

  test("standby down: the newest failover.standby.down report per group, over 15 minutes, naming the status fields to read", () => {
    const r = rule(deployAlerts(), "standby-down");
    expect(r.properties).toMatchObject({ severity: 1, evaluationFrequency: "PT5M", windowSize: "PT15M" });
    expect(criterion(r).query).toContain(`name == "${METRICS.standbyDown}"`);
    expect(criterion(r).query).toContain("arg_max(timestamp, value) by group");
    expect(criterion(r).query).toContain(`customDimensions["${ATTR.group}"]`);
    expect(r.properties.description).toContain("standby_consecutive_failures");
  });

  test("HTTP 5xx: the failed percentage against its threshold, with a minimum number of requests", () => {
    const defaults = criterion(rule(deployAlerts(), "http-5xx"));
    expect(defaults).toMatchObject({ metricMeasureColumn: "failed_percent", timeAggregation: "Maximum", operator: "GreaterThan", threshold: 5 });
    expect(defaults.query).toContain("countif(toint(resultCode) >= 500)");
    expect(defaults.query).toContain("where total >= 10");
    const tuned = rule(deployAlerts({ http5xxPercentThreshold: 12, http5xxMinimumRequests: 40 }), "http-5xx");
    expect(criterion(tuned)).toMatchObject({ threshold: 12 });
    expect(criterion(tuned).query).toContain("where total >= 40");
    expect(tuned.properties.windowSize).toBe("PT15M");
  });

  test("storage errors: the storage account's failed transactions by response type, over 5 minutes", () => {
    const alert = ofType(deployAlerts({ storageErrorThreshold: 25 }), "Microsoft.Insights/metricAlerts")[0].resource;
    expect(alert.properties).toMatchObject({ scopes: ["/resourceId/Microsoft.Storage/storageAccounts/sttok"], windowSize: "PT5M", evaluationFrequency: "PT1M" });
    const c = alert.properties.criteria.allOf[0];
    expect(c).toMatchObject({ metricNamespace: "Microsoft.Storage/storageAccounts", metricName: "Transactions", timeAggregation: "Total", operator: "GreaterThan", threshold: 25 });
    expect(c.dimensions[0]).toMatchObject({ name: "ResponseType", operator: "Include" });
    expect(c.dimensions[0].values).toEqual(expect.arrayContaining(["ServerTimeoutError", "ServerOtherError", "ClientThrottlingError", "AuthorizationError"]));
    expect(c.dimensions[0].values).not.toContain("Success");
    expect(c.dimensions[0].values).not.toContain("ClientOtherError"); // 404s and the 412s of conditional writes are normal
  });
});

describe("action group", () => {
  const alertsOf = (resources: Expanded[]) => [...ofType(resources, "Microsoft.Insights/scheduledQueryRules"), ...ofType(resources, "Microsoft.Insights/metricAlerts")];
  const actionIds = (r: Expanded): string[] =>
    r.type === "Microsoft.Insights/metricAlerts" ? r.resource.properties.actions.map((a: Json) => a.actionGroupId) : r.resource.properties.actions.actionGroups;

  test("absent without email and webhook; the alerts then notify nobody", () => {
    const resources = deployAlerts();
    expect(ofType(resources, "Microsoft.Insights/actionGroups")).toEqual([]);
    for (const r of alertsOf(resources)) expect([r.name, actionIds(r)]).toEqual([r.name, []]);
  });

  test.each([
    ["email only", { alertEmail: "oncall@example.com" }, 1, 0],
    ["webhook only", { alertWebhookUrl: "https://hooks.example.com/alert?token=abc" }, 0, 1],
    ["both", { alertEmail: "oncall@example.com", alertWebhookUrl: "https://hooks.example.com/alert" }, 1, 1],
  ] as [string, Record<string, string>, number, number][])("with %s: created, with those receivers, and wired to every alert", (_label, params, emails, webhooks) => {
    const resources = deployAlerts(params);
    const groups = ofType(resources, "Microsoft.Insights/actionGroups");
    expect(groups).toHaveLength(1);
    const group = groups[0];
    expect(group.name).toBe("ag-tok");
    expect(group.resource.location).toBe("global");
    expect(group.resource.properties.groupShortName.length).toBeLessThanOrEqual(12);
    expect(group.resource.properties.emailReceivers).toHaveLength(emails);
    expect(group.resource.properties.webhookReceivers).toHaveLength(webhooks);
    if (emails) expect(group.resource.properties.emailReceivers[0]).toMatchObject({ emailAddress: "oncall@example.com", useCommonAlertSchema: true });
    if (webhooks) expect(group.resource.properties.webhookReceivers[0]).toMatchObject({ serviceUri: params.alertWebhookUrl, useCommonAlertSchema: true });
    const alerts = alertsOf(resources);
    expect(alerts).toHaveLength(8);
    for (const r of alerts) expect([r.name, actionIds(r)]).toEqual([r.name, ["/resourceId/Microsoft.Insights/actionGroups/ag-tok"]]);
  });

  test("main.bicep passes its optional alertEmail and secure alertWebhookUrl through to the module", () => {
    expect(main.parameters.alertEmail).toMatchObject({ type: "string", defaultValue: "" });
    expect(main.parameters.alertWebhookUrl).toMatchObject({ type: "securestring", defaultValue: "" });
    expect(alertsTemplate.parameters.alertWebhookUrl.type).toBe("securestring");
    const passed = moduleDeployment(main, "alerts").properties.parameters;
    expect(passed.alertEmail.value).toBe("[parameters('alertEmail')]");
    expect(passed.alertWebhookUrl.value).toBe("[parameters('alertWebhookUrl')]");
  });
});

describe("workbook and secrets", () => {
  test("the workbook exists on Application Insights and charts active target, health, switches and loop liveness", () => {
    const [workbook, ...others] = expand(workbookTemplate, { name: "6f1d7a52-0000-4000-8000-000000000000", location: "swedencentral", tags: {}, applicationInsightsName: "appi-tok" });
    expect(others).toEqual([]);
    expect(workbook.type).toBe("Microsoft.Insights/workbooks");
    expect(workbook.resource.properties).toMatchObject({ category: "workbook", sourceId: "/resourceId/Microsoft.Insights/components/appi-tok" });
    expect(main.variables.names.workbook).toMatch(/^\[guid\(variables\('resourceToken'\)/);
    const data = JSON.parse(workbook.resource.properties.serializedData);
    const queries: string[] = data.items.filter((i: Json) => i.type === 3).map((i: Json) => i.content.query);
    const used = new Set(queries.flatMap(metricNamesIn));
    for (const name of [METRICS.cycles, METRICS.activeTarget, METRICS.probeDuration, METRICS.switches, METRICS.detectionDuration, METRICS.consecutiveFailures]) expect(used).toContain(name);
    for (const name of used) expect(Object.values(METRICS)).toContain(name);
  });

  test("no alert, action group or workbook carries a key, an instrumentation key or a connection string; outputs carry no webhook", () => {
    const resources = [...deployAlerts({ alertEmail: "oncall@example.com", alertWebhookUrl: "https://hooks.example.com/x" }), ...expand(workbookTemplate, { name: "g", location: "l", tags: {}, applicationInsightsName: "appi-tok" })];
    const text = JSON.stringify(resources);
    expect(text).not.toMatch(/InstrumentationKey|ConnectionString|AccountKey=|listKeys|SharedAccessSignature/i);
    for (const template of [alertsTemplate, workbookTemplate]) {
      for (const [, output] of Object.entries<Json>(template.outputs ?? {})) expect(JSON.stringify(output)).not.toMatch(/alertWebhookUrl|alertEmail/);
    }
    expect(findProperties(main.outputs, "value").map(([, v]) => String(v)).join("\n")).not.toMatch(/alertWebhookUrl/);
  });
});
