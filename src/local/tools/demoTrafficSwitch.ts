import { standInCredential } from "../services/azureStandIn/credential";
import { SAMPLE_IDS, samplePlan, seedSampleTargets } from "../services/azureStandIn/sampleTargets";
import { startAzureStandIn, type AzureStandIn } from "../services/azureStandIn/server";

/**
 * The demo's traffic step: a local stand-in of Azure's API with a Traffic Manager profile
 * (app-east for the primary, app-west for the secondary) and a DNS zone, and the settings that
 * give the default group a one-step switch plan against the profile.
 */
export interface DemoTraffic {
  readonly standIn: AzureStandIn;
  readonly env: Record<string, string>;
  readonly credential: typeof standInCredential;
  /** One line: what the profile's endpoints read now and the writes the switch made, in order. */
  describe(): string;
  close(): Promise<void>;
}

export async function startDemoTraffic(): Promise<DemoTraffic> {
  const standIn = await startAzureStandIn();
  seedSampleTargets(standIn);
  const endpoint = (name: string) => (standIn.resources.get(`${SAMPLE_IDS.trafficManager}/ExternalEndpoints/${name}`)?.properties as { endpointStatus?: string } | undefined)?.endpointStatus;
  return {
    standIn,
    env: {
      SWITCH_PLAN: JSON.stringify(samplePlan(standIn, ["traffic_manager"])),
      ...standIn.appSettings(),
    },
    credential: standInCredential,
    describe: () => {
      const writes = standIn
        .writes()
        .filter((w) => w.status < 300)
        .map((w) => {
          const properties = (w.body as { properties?: { endpointStatus?: string; CNAMERecord?: { cname?: string } } } | undefined)?.properties;
          return `${w.method} ${w.path.split("/").pop()} ${properties?.endpointStatus ?? properties?.CNAMERecord?.cname ?? "?"}`;
        });
      return `profile tm-app: app-east ${endpoint("app-east")}, app-west ${endpoint("app-west")}; writes in order: ${writes.join(", ") || "none"}`;
    },
    close: () => standIn.stop(),
  };
}
