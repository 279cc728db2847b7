import { OTLPTraceExporter as OtlpJsonExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { OTLPTraceExporter as OtlpProtoExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  ConsoleSpanExporter,
  NodeTracerProvider,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-node";
import type { Logger } from "@grantline/log";

/** The OTEL_* settings a service's config carries (names and meanings are OpenTelemetry's own). */
export interface TracingSettings {
  OTEL_SDK_DISABLED?: string | undefined;
  OTEL_TRACES_EXPORTER?: "otlp" | "console" | "none" | undefined;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string | undefined;
  OTEL_EXPORTER_OTLP_PROTOCOL?: "http/protobuf" | "http/json" | undefined;
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?: "http/protobuf" | "http/json" | undefined;
  OTEL_SERVICE_NAME?: string | undefined;
}

export interface Tracing {
  /** Where spans go: "none" keeps them in the process (ids still reach logs and NATS headers). */
  readonly exporter: "otlp" | "console" | "none" | "disabled";
  /** Exports what is buffered; a shutdown step, after the consumers stopped. */
  shutdown(): Promise<void>;
}

/**
 * Registers OpenTelemetry tracing for the process: W3C trace-context propagation, async-context tracking (so
 * log lines and publishes inside a span see it) and, when chosen by the standard variables, an exporter.
 * Exporter options not listed in `TracingSettings` (headers, timeout, certificates, OTEL_TRACES_SAMPLER,
 * OTEL_BSP_*) are read from the environment by the SDK itself.
 *
 * @example
 * const tracing = startTracing(config, { service: "writer", logger });
 * // shutdown steps: …consumers, { name: "tracing", run: () => tracing.shutdown() }
 */
export function startTracing(settings: TracingSettings, o: { service: string; logger: Logger }): Tracing {
  if (settings.OTEL_SDK_DISABLED?.toLowerCase() === "true")
    return { exporter: "disabled", shutdown: async () => undefined };
  const kind =
    settings.OTEL_TRACES_EXPORTER ??
    (settings.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || settings.OTEL_EXPORTER_OTLP_ENDPOINT ? "otlp" : "none");
  let exporter: SpanExporter | null = null;
  if (kind === "console") exporter = new ConsoleSpanExporter();
  if (kind === "otlp") {
    const protocol =
      settings.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? settings.OTEL_EXPORTER_OTLP_PROTOCOL ?? "http/protobuf";
    exporter = protocol === "http/json" ? new OtlpJsonExporter() : new OtlpProtoExporter();
  }
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({
      "service.name": settings.OTEL_SERVICE_NAME ?? `grantline-${o.service}`,
    }),
    // Without an exporter spans are still created (ids for logs and headers) but nothing is kept or sent.
    spanProcessors: exporter ? [new BatchSpanProcessor(exporter)] : [],
  });
  provider.register();
  if (exporter) o.logger.info({ exporter: kind }, "exporting traces");
  return {
    exporter: kind,
    async shutdown() {
      await provider.shutdown();
    },
  };
}
