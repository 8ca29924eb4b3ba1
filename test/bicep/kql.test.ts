import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ROOT, buildMainTemplate, moduleDeployment, type Json } from "./arm";
import { expand } from "./armEval";
import { describeKqlErrors, kqlErrors } from "../helpers/kusto";

/**
 * Every query Azure Monitor will run for this app, as the real Bicep CLI compiled it (parameters
 * expanded as Resource Manager would), parsed and analyzed by Microsoft's Kusto parser against
 * the Application Insights schema: the alert rules' queries and the workbook's.
 */

let alertQueries: [string, string][];
let workbookQueries: [string, string][];

beforeAll(() => {
  const main = buildMainTemplate();
  const alerts = expand(moduleDeployment(main, "alerts").properties.template, {
    alertNamePrefix: "alert-tok",
    actionGroupName: "ag-tok",
    location: "swedencentral",
    tags: {},
    applicationInsightsName: "appi-tok",
    storageAccountName: "sttok",
  });
  alertQueries = alerts
    .filter((r) => r.type === "Microsoft.Insights/scheduledQueryRules")
    .flatMap((r) => r.resource.properties.criteria.allOf.map((c: Json) => [r.name, c.query] as [string, string]));
  const [workbook] = expand(moduleDeployment(main, "workbook").properties.template, { name: "g", location: "l", tags: {}, applicationInsightsName: "appi-tok" });
  workbookQueries = JSON.parse(workbook.resource.properties.serializedData)
    .items.filter((i: Json) => i.type === 3)
    .map((i: Json) => [i.name, i.content.query] as [string, string]);
});

describe("the queries, parsed by Kusto.Language against the Application Insights schema", () => {
  test("every alert rule's query: no error", () => {
    expect(alertQueries.map(([name]) => name)).toEqual(expect.arrayContaining(["alert-tok-loop-stopped", "alert-tok-watchdog-silent", "alert-tok-switch-happened", "alert-tok-http-5xx"]));
    for (const [rule, query] of alertQueries) expect({ rule, errors: describeKqlErrors(kqlErrors(query)) }).toEqual({ rule, errors: "" });
  });

  test("every query of the workbook: no error", () => {
    expect(workbookQueries.length).toBeGreaterThanOrEqual(5);
    for (const [item, query] of workbookQueries) expect({ item, errors: describeKqlErrors(kqlErrors(query)) }).toEqual({ item, errors: "" });
  });

  test("the check bites: a column named kind unbracketed, a misspelled column and a workspace-schema column are errors, with where they are", () => {
    const switches = alertQueries.find(([name]) => name === "alert-tok-switch-happened")![1];
    expect(switches).toContain("['kind']");
    const unquoted = kqlErrors(switches.replace("['kind'] = ", "kind = "));
    expect(unquoted).toEqual([expect.objectContaining({ code: "KS228", text: "kind", line: 3, message: expect.stringContaining("['kind']") })]);

    const misspelled = kqlErrors(switches.replace('customDimensions["failover.group"]', 'customDimension["failover.group"]'));
    expect(misspelled).toEqual([expect.objectContaining({ code: "KS142", text: "customDimension", line: 3 })]);
    expect(describeKqlErrors(misspelled)).toMatch(/^line 3, column \d+: KS142 The name 'customDimension' does not refer to any known column/);

    expect(kqlErrors("customMetrics | where TimeGenerated > ago(1h)")).toEqual([expect.objectContaining({ text: "TimeGenerated" })]);
    expect(kqlErrors("AppMetrics | take 1")).toEqual([expect.objectContaining({ text: "AppMetrics" })]);
    expect(kqlErrors("customMetrics | where timestamp > ago(1h) and ingestion_time() > ago(5m) | summarize max(valueMax) by cloud_RoleInstance")).toEqual([]);
  });

  test("the parser is the tests' alone: nothing under src/ loads it, and it is a pinned devDependency", () => {
    const sources = (readdirSync(path.join(ROOT, "src"), { recursive: true, withFileTypes: true })).filter((e) => e.isFile() && e.name.endsWith(".ts"));
    expect(sources.length).toBeGreaterThan(50);
    for (const file of sources) expect([file.name, readFileSync(path.join(file.parentPath, file.name), "utf8").includes("@kusto/")]).toEqual([file.name, false]);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(pkg.dependencies["@kusto/language-service-next"]).toBeUndefined();
    expect(pkg.devDependencies["@kusto/language-service-next"]).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
