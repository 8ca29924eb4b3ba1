import { metrics, trace } from "@opentelemetry/api";
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader, type DataPoint, type MetricData } from "@opentelemetry/sdk-metrics";
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";

/**
 * The OpenTelemetry SDK with its in-memory exporters, registered as the process's global
 * providers for a test: what the app emits through @opentelemetry/api lands here.
 */
export interface CapturedTelemetry {
  /** Every metric collected now (cumulative), by name. */
  collect(): Promise<Map<string, MetricData>>;
  spans(): ReadableSpan[];
  stop(): Promise<void>;
}

export function captureTelemetry(): CapturedTelemetry {
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // The interval is long on purpose: the test exports when it asks, through forceFlush.
  const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  if (!metrics.setGlobalMeterProvider(meterProvider) || !trace.setGlobalTracerProvider(tracerProvider)) {
    throw new Error("an OpenTelemetry provider is already registered in this test process");
  }
  return {
    async collect() {
      metricExporter.reset();
      await reader.forceFlush();
      const out = new Map<string, MetricData>();
      for (const resource of metricExporter.getMetrics()) for (const scope of resource.scopeMetrics) for (const m of scope.metrics) out.set(m.descriptor.name, m);
      return out;
    },
    spans: () => spanExporter.getFinishedSpans(),
    async stop() {
      metrics.disable();
      trace.disable();
      await meterProvider.shutdown();
      await tracerProvider.shutdown();
    },
  };
}

/** The data points of a metric whose attributes include `match`. */
export function points(metric: MetricData | undefined, match: Record<string, unknown> = {}): DataPoint<unknown>[] {
  if (!metric) return [];
  return (metric.dataPoints as DataPoint<unknown>[]).filter((p) => Object.entries(match).every(([k, v]) => p.attributes[k] === v));
}
