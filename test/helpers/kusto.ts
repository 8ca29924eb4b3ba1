/**
 * Microsoft's Kusto parser and semantic analyzer (Kusto.Language, published on npm compiled to
 * JavaScript as @kusto/language-service-next), with the Application Insights schema the alert
 * rules and the workbook run on. Loaded by the tests only, never by the app.
 *
 * The schema is the classic, app-scoped one: a log alert scoped to the Application Insights
 * component and the workbook on it query `customMetrics`, `requests`, ... (not the workspace's
 * AppMetrics, AppRequests). The column names and types are the "ApplicationInsights" columns of
 * Microsoft's table-by-table mapping in "Migrate to workspace-based Application Insights
 * resources", section "Workspace-based resource changes" > "Table schemas" (Azure Monitor
 * documentation, articles/azure-monitor/app/convert-classic-resource.md in
 * MicrosoftDocs/azure-monitor-docs). That table lists `success` as string for the classic tables
 * and gives customMetrics no itemCount; both are kept as listed.
 */

/** Columns every classic Application Insights table has (the context of the telemetry item). */
const CONTEXT = [
  "timestamp:datetime",
  "itemId:string",
  "itemType:string",
  "operation_Name:string",
  "operation_Id:string",
  "operation_ParentId:string",
  "operation_SyntheticSource:string",
  "session_Id:string",
  "user_Id:string",
  "user_AuthenticatedId:string",
  "user_AccountId:string",
  "application_Version:string",
  "client_Type:string",
  "client_Model:string",
  "client_OS:string",
  "client_IP:string",
  "client_City:string",
  "client_StateOrProvince:string",
  "client_CountryOrRegion:string",
  "client_Browser:string",
  "cloud_RoleName:string",
  "cloud_RoleInstance:string",
  "appId:string",
  "appName:string",
  "iKey:string",
  "sdkVersion:string",
  "customDimensions:dynamic",
];

/** Table name -> its columns beyond CONTEXT, as name:type. */
export const APP_INSIGHTS_TABLES: Readonly<Record<string, readonly string[]>> = {
  requests: [
    "id:string",
    "name:string",
    "url:string",
    "source:string",
    "success:string",
    "resultCode:string",
    "duration:real",
    "performanceBucket:string",
    "itemCount:int",
    "customMeasurements:dynamic",
  ],
  dependencies: [
    "id:string",
    "target:string",
    "type:string",
    "name:string",
    "data:string",
    "success:string",
    "resultCode:string",
    "duration:real",
    "performanceBucket:string",
    "itemCount:int",
    "customMeasurements:dynamic",
  ],
  customMetrics: ["name:string", "value:real", "valueCount:int", "valueSum:real", "valueMin:real", "valueMax:real", "valueStdDev:real"],
  customEvents: ["name:string", "itemCount:int", "customMeasurements:dynamic"],
  traces: ["message:string", "severityLevel:int", "itemCount:int", "customMeasurements:dynamic"],
  exceptions: [
    "problemId:string",
    "handledAt:string",
    "type:string",
    "message:string",
    "assembly:string",
    "method:string",
    "outerType:string",
    "outerMessage:string",
    "outerAssembly:string",
    "outerMethod:string",
    "innermostType:string",
    "innermostMessage:string",
    "innermostAssembly:string",
    "innermostMethod:string",
    "severityLevel:int",
    "details:dynamic",
    "itemCount:int",
    "customMeasurements:dynamic",
  ],
  pageViews: ["id:string", "name:string", "url:string", "duration:real", "performanceBucket:string", "itemCount:int", "customMeasurements:dynamic"],
  browserTimings: [
    "name:string",
    "url:string",
    "networkDuration:real",
    "sendDuration:real",
    "receiveDuration:real",
    "processingDuration:real",
    "totalDuration:real",
    "performanceBucket:string",
    "itemCount:int",
    "customMeasurements:dynamic",
  ],
  availabilityResults: [
    "id:string",
    "name:string",
    "location:string",
    "success:string",
    "message:string",
    "size:real",
    "duration:real",
    "performanceBucket:string",
    "itemCount:int",
    "customMeasurements:dynamic",
  ],
  performanceCounters: ["name:string", "category:string", "counter:string", "instance:string", "value:real"],
};

export interface KqlDiagnostic {
  readonly severity: string;
  readonly code: string;
  readonly message: string;
  /** Offset of the diagnostic in the query text, and the text it covers. */
  readonly start: number;
  readonly text: string;
  /** 1-based line and column of `start`. */
  readonly line: number;
  readonly column: number;
}

/* The package's classes as far as these tests use them (it declares them as globals; its own
 * typings are 1.7 MB and not needed here). */
interface KustoDiagnostic {
  Severity: string;
  Code: string;
  Message: string;
  Start: number;
  Length: number;
}
interface KustoApi {
  Language: {
    KustoCode: { ParseAndAnalyze(text: string, globals: unknown): { GetDiagnostics(): unknown } };
    GlobalState: { Default: { WithDatabase(database: unknown): unknown } };
    Symbols: {
      TableSymbol: { From(schema: string): { WithName(name: string): unknown } };
      DatabaseSymbol: { $ctor2: new (name: string, alternateName: string | null, members: unknown[]) => unknown };
    };
  };
}
interface BridgeApi {
  toArray<T>(enumerable: unknown): T[];
}

let globals: unknown;

function kusto(): { K: KustoApi; bridge: BridgeApi } {
  const scope = globalThis as unknown as { Kusto?: KustoApi; Bridge?: BridgeApi };
  if (!scope.Kusto) {
    // The runtime (Bridge.NET's) first, then Kusto.Language compiled onto it: both register globals.
    require("@kusto/language-service-next/bridge");
    require("@kusto/language-service-next/Kusto.Language.Bridge");
  }
  return { K: scope.Kusto!, bridge: scope.Bridge! };
}

/** The Application Insights tables as a database the analyzer resolves names in. */
function appInsightsGlobals(): unknown {
  if (globals) return globals;
  const { K } = kusto();
  const tables = Object.entries(APP_INSIGHTS_TABLES).map(([name, columns]) => K.Language.Symbols.TableSymbol.From(`(${[...CONTEXT, ...columns].join(", ")})`).WithName(name));
  globals = K.Language.GlobalState.Default.WithDatabase(new K.Language.Symbols.DatabaseSymbol.$ctor2("ApplicationInsights", null, tables));
  return globals;
}

/** Parses and analyzes `query` against the Application Insights schema; answers the parser's errors. */
export function kqlErrors(query: string): KqlDiagnostic[] {
  const { K, bridge } = kusto();
  const code = K.Language.KustoCode.ParseAndAnalyze(query, appInsightsGlobals());
  return bridge
    .toArray<KustoDiagnostic>(code.GetDiagnostics())
    .filter((d) => d.Severity === "Error")
    .map((d) => {
      const before = query.slice(0, d.Start).split("\n");
      return {
        severity: d.Severity,
        code: d.Code,
        message: d.Message,
        start: d.Start,
        text: query.slice(d.Start, d.Start + d.Length),
        line: before.length,
        column: before[before.length - 1].length + 1,
      };
    });
}

/** One line per diagnostic: where, what, and the text it covers. */
export function describeKqlErrors(errors: readonly KqlDiagnostic[]): string {
  return errors.map((e) => `line ${e.line}, column ${e.column}: ${e.code} ${e.message}${e.text ? ` ('${e.text}')` : ""}`).join("\n");
}
