/**
 * Metrics, Kubernetes probes and OpenTelemetry tracing for grantline services.
 *
 * @example
 * import { createMetrics, startProbeServer } from "@grantline/observability";
 *
 * const metrics = createMetrics({ service: "mapper" });
 * const probes = await startProbeServer({ port: 9464, metrics, logger, readiness: [natsCheck, dbCheck] });
 * const done = metrics.startMessage("map");
 * done("ack");
 * // on SIGTERM:
 * probes.markShuttingDown();
 */
export { createMetrics } from "./create-metrics.ts";
export type { CreateMetricsOptions, MessageOutcome, Metrics } from "./create-metrics.ts";
export { startProbeServer } from "./start-probe-server.ts";
export type {
  CheckResult,
  ProbeServer,
  ProbeServerOptions,
  ReadinessCheck,
  ReadinessReport,
} from "./start-probe-server.ts";
export { startTracing } from "./start-tracing.ts";
export type { Tracing, TracingSettings } from "./start-tracing.ts";
