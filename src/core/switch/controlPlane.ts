/** Control-plane settings of the switch steps (no SDK import here, so reading settings stays cheap). */

export interface ControlPlaneSettings {
  readonly armEndpoint: string;
  readonly armAudience: string;
  readonly appConfigurationAudience?: string;
  /** PEM text of CA certificates trusted in addition to the system roots. */
  readonly extraCaPem?: string;
  /** How often a long-running operation (a Front Door origin update) is polled, in ms. */
  readonly pollIntervalMs: number;
}

export const PUBLIC_CLOUD: Pick<ControlPlaneSettings, "armEndpoint" | "armAudience"> = {
  armEndpoint: "https://management.azure.com",
  armAudience: "https://management.azure.com/.default",
};
