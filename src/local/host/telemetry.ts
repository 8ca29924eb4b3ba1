import { metrics } from "@opentelemetry/api";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * Local metrics: the OpenTelemetry Prometheus exporter reading the app's meter (see
 * src/core/telemetry.ts), served in the Prometheus text format by whoever mounts `handle`
 * (the local host serves it at /metrics). In Azure the Azure Monitor exporters take this role.
 */
export interface LocalMetrics {
  /** Answers a scrape: the Prometheus text exposition of every metric collected now. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Unregisters the meter provider and stops the exporter. */
  shutdown(): Promise<void>;
}

/**
 * Registers a meter provider with the Prometheus exporter as the process's global one.
 * Only one can be registered at a time: a second call while one is active throws.
 */
export function startLocalMetrics(): LocalMetrics {
  const exporter = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  if (!metrics.setGlobalMeterProvider(provider)) {
    void provider.shutdown();
    throw new Error("another OpenTelemetry meter provider is already registered in this process; stop it before starting local metrics");
  }
  let stopped = false;
  return {
    handle: (req, res) => exporter.getMetricsRequestHandler(req, res),
    async shutdown() {
      if (stopped) return;
      stopped = true;
      metrics.disable();
      await provider.shutdown();
    },
  };
}
