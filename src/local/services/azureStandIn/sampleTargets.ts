import type { AzureStandIn } from "./server";

/**
 * A sample world in the stand-in, shared by the demo, the benchmark and the tests: a Traffic
 * Manager profile with an endpoint per side, a DNS zone with a CNAME, a Front Door origin group
 * with an origin per side and an App Configuration key, all serving the primary.
 */

export const SAMPLE_SUBSCRIPTION = "00000000-0000-0000-0000-00000000c0de";
const RG = `/subscriptions/${SAMPLE_SUBSCRIPTION}/resourceGroups/rg-app/providers`;
export const SAMPLE_IDS = {
  trafficManager: `${RG}/Microsoft.Network/trafficManagerProfiles/tm-app`,
  dnsZone: `${RG}/Microsoft.Network/dnszones/contoso.example`,
  frontDoor: `${RG}/Microsoft.Cdn/profiles/afd-app`,
  sqlPrimaryServer: `${RG}/Microsoft.Sql/servers/sql-east`,
  sqlSecondaryServer: `${RG}/Microsoft.Sql/servers/sql-west`,
  cosmosAccount: `${RG}/Microsoft.DocumentDB/databaseAccounts/cosmos-app`,
  storageAccount: `${RG}/Microsoft.Storage/storageAccounts/stapp`,
} as const;

export function seedSampleTargets(standIn: AzureStandIn): void {
  standIn.resources.addTrafficManagerProfile(SAMPLE_IDS.trafficManager, {
    ttl: 30,
    endpoints: [
      { type: "ExternalEndpoints", name: "app-east", target: "app-east.example.net", status: "Enabled", priority: 1 },
      { type: "ExternalEndpoints", name: "app-west", target: "app-west.example.net", status: "Disabled", priority: 2 },
    ],
  });
  standIn.resources.addDnsZone(SAMPLE_IDS.dnsZone);
  standIn.resources.addRecordSet(SAMPLE_IDS.dnsZone, "CNAME", "www", 60, "app-east.example.net");
  standIn.resources.addFrontDoorOrigin(SAMPLE_IDS.frontDoor, "og-app", "east", { hostName: "app-east.example.net", enabledState: "Enabled", priority: 1 });
  standIn.resources.addFrontDoorOrigin(SAMPLE_IDS.frontDoor, "og-app", "west", { hostName: "app-west.example.net", enabledState: "Disabled", priority: 2 });
  standIn.resources.sql.add(SAMPLE_IDS.sqlPrimaryServer, SAMPLE_IDS.sqlSecondaryServer, "fg-app");
  standIn.resources.cosmos.add(SAMPLE_IDS.cosmosAccount, ["East US", "West US", "North Europe"]);
  standIn.resources.storage.add(SAMPLE_IDS.storageAccount, "eastus", "westus");
  standIn.keyValues.set("app:active-region\n", {
    key: "app:active-region",
    label: null,
    value: "east",
    content_type: "",
    etag: "0000000000000000000000000000000a",
    last_modified: new Date().toISOString(),
    tags: {},
    locked: false,
  });
}

export type SampleStepKind = "traffic_manager" | "dns" | "front_door" | "app_configuration" | "sql_failover_group" | "cosmos_db" | "storage_account" | "webhook";

/** A plan over the sample world with the given step kinds, in that order. */
export function samplePlan(standIn: AzureStandIn, kinds: readonly SampleStepKind[], webhookUrl?: string, webhookSecret?: string): { steps: Array<Record<string, unknown>> } {
  const step: Record<SampleStepKind, () => Record<string, unknown>> = {
    traffic_manager: () => ({
      kind: "traffic_manager",
      profile_id: SAMPLE_IDS.trafficManager,
      primary: { endpoint_type: "ExternalEndpoints", endpoint_name: "app-east" },
      secondary: { endpoint_type: "ExternalEndpoints", endpoint_name: "app-west" },
    }),
    dns: () => ({ kind: "dns", zone_id: SAMPLE_IDS.dnsZone, record_name: "www", record_type: "CNAME", primary_value: "app-east.example.net", secondary_value: "app-west.example.net", ttl: 60 }),
    front_door: () => ({ kind: "front_door", profile_id: SAMPLE_IDS.frontDoor, origin_group: "og-app", primary_origin: "east", secondary_origin: "west" }),
    app_configuration: () => ({ kind: "app_configuration", endpoint: standIn.endpoint, key: "app:active-region", primary_value: "east", secondary_value: "west", sentinel_key: "app:sentinel" }),
    sql_failover_group: () => ({ kind: "sql_failover_group", primary_server_id: SAMPLE_IDS.sqlPrimaryServer, secondary_server_id: SAMPLE_IDS.sqlSecondaryServer, failover_group: "fg-app" }),
    cosmos_db: () => ({ kind: "cosmos_db", account_id: SAMPLE_IDS.cosmosAccount, primary_region: "East US", secondary_region: "westus" }),
    storage_account: () => ({ kind: "storage_account", account_id: SAMPLE_IDS.storageAccount, primary_location: "eastus", secondary_location: "westus" }),
    webhook: () => ({ kind: "webhook", url: webhookUrl ?? "http://127.0.0.1:9/unset", ...(webhookSecret ? { secret: webhookSecret } : {}) }),
  };
  return { steps: kinds.map((k) => step[k]()) };
}
