/**
 * NATS for grantline: a connection that reconnects forever, idempotent stream/consumer setup verified against
 * what the (2.9) server returned, JSON publishing with deterministic msgIDs, and the one consume loop every
 * service runs — bounded in-flight, AbortSignal, automatic `working()`, and a single mapping from error class
 * to ack / nak(delay) / term + dead letter. Each handled message runs in a span continuing the W3C trace
 * context of its headers, and `publishJson` passes that context on.
 *
 * @example
 * const nc = await connectNats({ servers: config.NATS_URL, name: "mapper", logger });
 * await ensureStreams(await jetstreamManager(nc), subjects);
 * const consumer = await startConsumer({ js: jetstream(nc), subjects, stream, durable: "mapper", stage: "mapper",
 *   schema: PageResult, handler: createMapHandler(deps), logger, maxInFlight: 32 });
 * installShutdown({ logger, timeoutMs: 25_000, steps: [{ name: "consumer", run: () => consumer.stop(20_000) }] });
 */
export { connectNats } from "./connect-nats.ts";
export type { ConnectNatsOptions } from "./connect-nats.ts";
export {
  ensureStreams,
  ensureConsumer,
  retireConsumer,
  streamConfigs,
  TopologyMismatchError,
} from "./ensure-topology.ts";
export type { TopologyOptions, ConsumerSpec } from "./ensure-topology.ts";
export { decideOutcome, DEFAULT_RETRY_POLICY } from "./decide-outcome.ts";
export type { Outcome, RetryPolicy } from "./decide-outcome.ts";
export { publishJson } from "./publish-json.ts";
export type { PublishOptions } from "./publish-json.ts";
export { startConsumer } from "./start-consumer.ts";
export type {
  MessageContext,
  MessageHandler,
  StartConsumerOptions,
  RunningConsumer,
} from "./start-consumer.ts";
export { installShutdown } from "./install-shutdown.ts";
export type { ShutdownOptions } from "./install-shutdown.ts";
export { jetstream, jetstreamManager } from "@nats-io/jetstream";
export type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
export type { NatsConnection } from "@nats-io/nats-core";
export { startStage, natsReadiness } from "./start-stage.ts";
export type { StartStageOptions, StageSettings } from "./start-stage.ts";
export { headers } from "@nats-io/nats-core";
export {
  extractTraceContext,
  inSpan,
  inTraceContextOf,
  recordFailure,
  startSpan,
  traceHeaders,
  withTraceHeaders,
} from "./trace-context.ts";
export { openBlobStore, BLOB_HEADER, INLINE_LIMIT_BYTES } from "./blob-store.ts";
export type { BlobStore, BlobStoreOptions } from "./blob-store.ts";
