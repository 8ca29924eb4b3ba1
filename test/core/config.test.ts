import { APP_SETTING_NAMES, loadConfig } from "../../src/core/config";
import { isFailoverError } from "../../src/core/errors";
import { POLICY_KNOBS, parseStatusRanges } from "../../src/core/knobs";

const base = { AzureWebJobsStorage: "UseDevelopmentStorage=true" };

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    expect(isFailoverError(err, "invalid_config")).toBe(true);
    return (err as Error).message;
  }
  throw new Error("expected loadConfig to fail");
}

describe("configuration from app settings", () => {
  test("defaults: group state, table failoverstate, policy defaults", () => {
    const config = loadConfig(base);
    expect(config).toMatchObject({ defaultGroup: "state", tableName: "failoverstate", storage: { kind: "connection_string", connectionString: "UseDevelopmentStorage=true" } });
    expect(config.policy).toMatchObject({
      failure_threshold: 3,
      recovery_threshold: 3,
      check_interval_seconds: 30,
      cooldown_seconds: 300,
      failback_mode: "manual",
      probe_timeout_ms: 5000,
      probe_follow_redirects: false,
    });
    expect(config.policy.probe_expected_status).toEqual([{ min: 200, max: 299 }]);
  });

  test("identity-based storage, the way the Functions host reads AzureWebJobsStorage__*", () => {
    expect(loadConfig({ AzureWebJobsStorage__accountName: "stfailover01", AzureWebJobsStorage__clientId: "abc" }).storage).toEqual({
      kind: "identity",
      tableServiceUri: "https://stfailover01.table.core.windows.net",
      clientId: "abc",
    });
    expect(loadConfig({ AzureWebJobsStorage__tableServiceUri: "https://x.table.core.windows.net", AzureWebJobsStorage__credential: "managedidentity" }).storage).toEqual({
      kind: "identity",
      tableServiceUri: "https://x.table.core.windows.net",
    });
  });

  test("no storage at all names the settings to set", () => {
    expect(configError({})).toMatch(/AzureWebJobsStorage: storage is not configured.*AzureWebJobsStorage__accountName/);
  });

  test.each([
    ["FAILURE_THRESHOLD", "zero", /FAILURE_THRESHOLD: must be an integer \(got "zero"\)/],
    ["FAILURE_THRESHOLD", "11", /FAILURE_THRESHOLD: must be at most 10/],
    ["COOLDOWN_SECONDS", "-5", /COOLDOWN_SECONDS: must be at least 0/],
    ["FAILBACK_MODE", "sometimes", /FAILBACK_MODE: must be manual or automatic/],
    ["PROBE_EXPECTED_STATUS", "200-199", /PROBE_EXPECTED_STATUS: "200-199" is not a valid range/],
    ["PROBE_FOLLOW_REDIRECTS", "yes", /PROBE_FOLLOW_REDIRECTS: must be true or false/],
    ["PRIMARY_ENDPOINT", "primary.example.com/health", /PRIMARY_ENDPOINT: must be an absolute http:\/\/ or https:\/\/ URL/],
    ["FAILOVER_GROUP", "a/b", /FAILOVER_GROUP: must be 1-63 letters/],
    ["FAILOVER_TABLE", "fail-over", /FAILOVER_TABLE: must be 3-63 letters or digits/],
    ["AzureWebJobsStorage", "not-a-connection-string", /AzureWebJobsStorage: not a storage connection string/],
  ])("%s=%j is rejected with an error naming the setting", (name, value, message) => {
    expect(configError({ ...base, [name]: value })).toMatch(message);
  });

  test("every bad setting is named in the one error", () => {
    const message = configError({ ...base, FAILURE_THRESHOLD: "x", CHECK_INTERVAL_SECONDS: "0" });
    expect(message).toMatch(/FAILURE_THRESHOLD/);
    expect(message).toMatch(/CHECK_INTERVAL_SECONDS: must be at least 1/);
  });

  test("each knob's app setting is its row field in upper case, and no two settings share a name", () => {
    for (const knob of POLICY_KNOBS) expect(knob.setting).toBe(knob.field.toUpperCase());
    expect(new Set(APP_SETTING_NAMES).size).toBe(APP_SETTING_NAMES.length);
  });

  test("the error carries every bad setting as data, in the same order as its text", () => {
    let error: unknown;
    try {
      loadConfig({ ...base, FAILURE_THRESHOLD: "x", FAILOVER_TABLE: "no-dashes" });
    } catch (err) {
      error = err;
    }
    expect(isFailoverError(error, "invalid_config")).toBe(true);
    const issues = (error as { issues: Array<{ path: string; message: string }> }).issues;
    expect(issues.map((i) => i.path)).toEqual(["FAILOVER_TABLE", "FAILURE_THRESHOLD"]);
    expect(issues[1].message).toBe('must be an integer (got "x")');
    for (const issue of issues) expect((error as Error).message).toContain(`${issue.path}: ${issue.message}`);
  });

  test("status ranges parse lists and single codes", () => {
    expect(parseStatusRanges("200-299, 301")).toEqual([
      { min: 200, max: 299 },
      { min: 301, max: 301 },
    ]);
    expect(() => parseStatusRanges("2xx")).toThrow(/"2xx" is not a status code/);
  });
});
