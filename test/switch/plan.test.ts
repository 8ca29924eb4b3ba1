import { MAX_STEPS, parsePlan } from "../../src/core/switch/plan";

const TM = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Network/trafficManagerProfiles/tm";
const ZONE = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Network/dnszones/contoso.com";
const tmStep = { kind: "traffic_manager", profile_id: TM, primary: { endpoint_type: "AzureEndpoints", endpoint_name: "a" }, secondary: { endpoint_type: "AzureEndpoints", endpoint_name: "b" } };
const dns = { kind: "dns", zone_id: ZONE, record_name: "www", record_type: "CNAME", primary_value: "a.example.net", secondary_value: "b.example.net" };
const parse = (plan: unknown) => parsePlan(JSON.stringify(plan), "switch_plan");

describe("switch plan validation", () => {
  it("accepts every step kind, fills defaults, and gives a generation that changes with the plan", () => {
    const plan = parse({
      steps: [
        tmStep,
        dns,
        {
          kind: "front_door",
          profile_id: "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Cdn/profiles/afd",
          origin_group: "og",
          primary_origin: "east",
          secondary_origin: "west",
        },
        { kind: "app_configuration", endpoint: "https://store.azconfig.io", key: "app:region", primary_value: "east", secondary_value: "west" },
        { kind: "webhook", url: "https://hooks.example.com/switch", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" },
      ],
    });
    expect(plan.steps!.map((s) => s.kind)).toEqual(["traffic_manager", "dns", "front_door", "app_configuration", "webhook"]);
    // A DNS step without ttl keeps the record set's own TTL.
    expect(plan.steps![1]).not.toHaveProperty("ttl");
    expect(plan.on_failure).toBe("hold");
    expect(plan.steps![2]).toMatchObject({ mode: "enabled_state" });
    expect(plan.generation).toMatch(/^[0-9a-f]{12}$/);
    expect(parse({ steps: [tmStep] }).generation).not.toBe(plan.generation);
    expect(parse({ steps: [tmStep] }).generation).toBe(parse({ steps: [tmStep] }).generation);
  });

  it.each([
    [
      { steps: [tmStep, { ...dns, zone_id: "/subscriptions/x/zones/y" }] },
      "switch_plan: step 1 (dns): zone_id: must be a resource ID of the form /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Network/dnszones/{zone}",
    ],
    [{ steps: [{ ...tmStep, secondary: { endpoint_type: "Bogus", endpoint_name: "b" } }] }, "step 0 (traffic_manager): secondary.endpoint_type: Invalid option"],
    [{ steps: [{ ...tmStep, secondary: tmStep.primary }] }, "step 0 (traffic_manager): secondary.endpoint_name: primary and secondary are the same endpoint"],
    [{ steps: [{ ...dns, record_type: "A", primary_value: "10.0.0.300", secondary_value: "10.0.0.2" }] }, "step 0 (dns): primary_value: must be an IPv4 address"],
    [{ steps: [{ kind: "webhook", url: "ftp://x" }] }, "step 0 (webhook): url: must be an http:// or https:// URL"],
    [{ steps: [{ kind: "webhook", url: "https://x", extra: 1 }] }, "step 0 (webhook): Unrecognized key"],
    [{ steps: [{ kind: "teleport" }] }, "step 0 (teleport): kind: Invalid"],
    [{ steps: [] }, "switch_plan: steps: a plan needs at least one step"],
    [{ steps: Array.from({ length: MAX_STEPS + 1 }, () => tmStep) }, "steps: a plan has at most 10 steps"],
    [[tmStep], "switch_plan: (plan): Invalid input: expected object"],
  ])("refuses a malformed plan, naming the step and field (%#)", (plan, message) => {
    expect(() => parse(plan)).toThrow(message);
  });

  it("refuses text that is not JSON or too long", () => {
    expect(() => parsePlan("{steps:", "SWITCH_PLAN")).toThrow(/^SWITCH_PLAN: not valid JSON/);
    expect(() => parsePlan(" ".repeat(40_000), "SWITCH_PLAN")).toThrow("SWITCH_PLAN: the plan is 40000 characters, more than 32000");
  });
});

describe("sql_failover_group steps", () => {
  const SQL = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Sql/servers";
  const sql = { kind: "sql_failover_group", primary_server_id: `${SQL}/sql-east`, secondary_server_id: `${SQL}/sql-west`, failover_group: "fg-app" };

  it("parses with data loss off unless the plan says so", () => {
    expect(parse({ steps: [sql] }).steps![0]).toEqual({ ...sql, allow_data_loss: false });
    expect(parse({ steps: [{ ...sql, allow_data_loss: true }] }).steps![0]).toMatchObject({ allow_data_loss: true });
  });

  it.each([
    [{ ...sql, secondary_server_id: `${SQL}/SQL-EAST` }, "switch_plan: step 0 (sql_failover_group): secondary_server_id: is the same server as primary_server_id"],
    [
      { ...sql, primary_server_id: `${SQL}/sql-east/databases/db` },
      "switch_plan: step 0 (sql_failover_group): primary_server_id: must be a resource ID of the form /subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.Sql/servers/{name}",
    ],
    [{ ...sql, failover_group: "FG App" }, "switch_plan: step 0 (sql_failover_group): failover_group: must be a failover group name"],
    [{ ...sql, allow_data_loss: "yes" }, "switch_plan: step 0 (sql_failover_group): allow_data_loss: "],
  ])("a bad sql_failover_group step names the field: %j", (step, message) => {
    expect(() => parse({ steps: [step] })).toThrow(message);
  });
});

describe("cosmos_db steps", () => {
  const ACCOUNT = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/cosmos-app";
  const cosmos = { kind: "cosmos_db", account_id: ACCOUNT, primary_region: "East US", secondary_region: "westus" };

  it("parses regions as Cosmos DB names them, and refuses the same region twice however it is spelled", () => {
    expect(parse({ steps: [cosmos] }).steps![0]).toEqual(cosmos);
    expect(() => parse({ steps: [{ ...cosmos, secondary_region: "eastus" }] })).toThrow("switch_plan: step 0 (cosmos_db): secondary_region: is the same region as primary_region");
    expect(() => parse({ steps: [{ ...cosmos, account_id: `${ACCOUNT}/sqlDatabases/db` }] })).toThrow("switch_plan: step 0 (cosmos_db): account_id: must be a resource ID of the form");
    expect(() => parse({ steps: [{ ...cosmos, primary_region: "east-us/1" }] })).toThrow("switch_plan: step 0 (cosmos_db): primary_region: must be a region name");
  });
});

describe("storage_account steps", () => {
  const ACCOUNT = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/stapp";
  const storage = { kind: "storage_account", account_id: ACCOUNT, primary_location: "eastus", secondary_location: "westus" };

  it("parses with a planned failover unless the plan says unplanned; names a bad field", () => {
    expect(parse({ steps: [storage] }).steps![0]).toEqual({ ...storage, failover_type: "planned" });
    expect(() => parse({ steps: [{ ...storage, failover_type: "forced" }] })).toThrow("switch_plan: step 0 (storage_account): failover_type: must be planned or unplanned");
    expect(() => parse({ steps: [{ ...storage, secondary_location: "East US" }] })).toThrow("switch_plan: step 0 (storage_account): secondary_location: is the same location as primary_location");
    expect(() => parse({ steps: [{ ...storage, account_id: `${ACCOUNT}/blobServices/default` }] })).toThrow("switch_plan: step 0 (storage_account): account_id: must be a resource ID of the form");
  });
});
