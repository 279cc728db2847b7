/**
 * NATS for grantline: the service runtime (NATS that reconnects forever, streams ensured, tracing, probes and
 * metrics, the ordered shutdown), the one consume loop every stage runs — bounded in-flight, AbortSignal,
 * automatic `working()`, and a single mapping from error class to ack / nak(delay) / term + dead letter —
 * JSON publishing with deterministic msgIDs, the outbox sink, and the control request/reply server. Each
 * handled message runs in a span continuing the W3C trace context of its headers.
 *
 * @example
 * const config = exitOnConfigError("mapper", () => loadMapperConfig(process.env));
 * runService("mapper", config, async (rt) => {
 *   const consumer = await startStage({ js: rt.js, jsm: rt.jsm, subjects: rt.subjects, stage: "mapper",
 *     stream: rt.subjects.streams.pageResults, filterSubject: rt.subjects.all.pageResults, durable: "mapper",
 *     schema: PageResult, handler: createMapHandler(deps), settings: config, logger: rt.logger });
 *   await rt.serve({ stop: [{ name: "consumer", run: () => consumer.stop(config.SHUTDOWN_GRACE_MS) }] });
 * });
 */
export { runService, startServiceRuntime } from "./service-runtime.ts";
export type { RuntimeSettings, ServeOptions, ServiceRuntime, ShutdownStep } from "./service-runtime.ts";
export { startStage } from "./start-stage.ts";
export type { StageSettings, StartStageOptions } from "./start-stage.ts";
export type { ConsumerOutcome, MessageContext, MessageHandler, RunningConsumer } from "./start-consumer.ts";
export { retireConsumer } from "./ensure-topology.ts";
export { publishJson } from "./publish-json.ts";
export type { PublishOptions } from "./publish-json.ts";
export type { BlobStore } from "./blob-store.ts";
export { createOutboxSink } from "./create-outbox-sink.ts";
export type { OutboxSink } from "./create-outbox-sink.ts";
export { serveControl } from "./serve-control.ts";
export type {
  ControlAuditEntry,
  ControlContext,
  ControlHandler,
  ControlHandlers,
  ControlServer,
  ServeControlOptions,
} from "./serve-control.ts";
export { purgeSourceWork } from "./purge-source-work.ts";
export { createQueuedTasksCheck } from "./queued-tasks.ts";
export { watchCancelledRuns } from "./watch-cancelled-runs.ts";
export type { CancelledRuns } from "./watch-cancelled-runs.ts";
export { inSpan } from "./trace-context.ts";
export { natsAuth } from "./nats-auth.ts";
export type { NatsAuth, NatsAuthSettings } from "./nats-auth.ts";
export { NATS_ROLES, inboxPrefixOf, natsPermissions } from "./nats-permissions.ts";
export type { NatsPermissions, NatsRole } from "./nats-permissions.ts";
export { natsPasswordVariable } from "./render-nats-users.ts";
