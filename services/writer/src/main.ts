import { DeadLetter, ResultBatch, createSubjects } from "@grantline/contracts";
import { exitOnConfigError, loadWriterConfig } from "@grantline/config";
import { applyBatch, createDb, failTask, postgresReadiness, startOutboxPublisher } from "@grantline/db";
import { createLogger, redactUrl } from "@grantline/log";
import {
  connectNats,
  ensureStreams,
  installShutdown,
  jetstream,
  jetstreamManager,
  natsReadiness,
  openBlobStore,
  startStage,
} from "@grantline/nats";
import { createMetrics, startProbeServer, startTracing } from "@grantline/observability";
import { headers as natsHeaders } from "@grantline/nats";
import { createDeadLetterHandler, createWriteHandler, type WriteHandlerDeps } from "./write-handler.ts";

async function main(): Promise<void> {
  const config = exitOnConfigError("writer", () => loadWriterConfig(process.env));
  const logger = createLogger({ service: "writer", level: config.LOG_LEVEL });
  const tracing = startTracing(config, { service: "writer", logger });
  const subjects = createSubjects(config.GL_SUBJECT_PREFIX);
  const metrics = createMetrics({ service: "writer" });
  const rowsWritten = metrics.counter("grantline_writer_rows_total", "Rows upserted by the writer", []);
  const db = createDb({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: "grantline-writer",
  });
  const nc = await connectNats({ servers: config.NATS_URL, name: "grantline-writer", logger });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, subjects, { replicas: config.NATS_STREAM_REPLICAS });
  const blobs = await openBlobStore(nc, subjects, { replicas: config.NATS_STREAM_REPLICAS });
  logger.info({ database: redactUrl(config.DATABASE_URL) }, "connected");

  const outbox = startOutboxPublisher({
    db,
    batchSize: config.OUTBOX_BATCH,
    pollMs: config.OUTBOX_POLL_MS,
    sink: {
      publish: async (subject, payload, msgID, hdrs) => {
        const h = natsHeaders();
        for (const [k, v] of Object.entries(hdrs ?? {})) h.set(k, v);
        await js.publish(subject, payload, { msgID, headers: h, retries: 2 });
      },
    },
    onError: (err) => logger.warn({ err }, "outbox round failed; will retry"),
  });
  const deps: WriteHandlerDeps = {
    store: { apply: (b) => applyBatch(db, subjects, b), failTask: (l) => failTask(db, subjects, l) },
    kickOutbox: () => outbox.kick(),
    onApplied: (rows) => rowsWritten.inc(rows),
  };
  const observe = (outcome: "ack" | "nak" | "term", seconds: number) =>
    metrics.recordMessage("writer", outcome, seconds);
  const batches = await startStage({
    js,
    jsm,
    subjects,
    stage: "writer",
    stream: subjects.streams.batches,
    filterSubject: subjects.all.batches,
    durable: "writer",
    schema: ResultBatch,
    handler: createWriteHandler(deps),
    settings: config,
    blobs,
    logger,
    observe,
  });
  const deadLetters = await startStage({
    js,
    jsm,
    subjects,
    stage: "writer",
    stream: subjects.streams.deadLetters,
    filterSubject: subjects.all.deadLetters,
    durable: "writer-dlq",
    schema: DeadLetter,
    handler: createDeadLetterHandler(deps),
    settings: { ...config, MAX_IN_FLIGHT: 4 },
    logger,
    observe,
  });
  const probe = await startProbeServer({
    port: config.PROBE_PORT,
    host: config.PROBE_HOST,
    metrics,
    readiness: [natsReadiness(nc), postgresReadiness(db)],
    logger,
  });
  logger.info({ probe: probe.url }, "writer started");

  installShutdown({
    logger,
    timeoutMs: config.SHUTDOWN_GRACE_MS + 5_000,
    steps: [
      { name: "readiness", run: async () => probe.markShuttingDown() },
      {
        name: "consumers",
        run: () =>
          Promise.all([batches.stop(config.SHUTDOWN_GRACE_MS), deadLetters.stop(config.SHUTDOWN_GRACE_MS)]),
      },
      { name: "outbox", run: () => outbox.stop() },
      { name: "tracing", run: () => tracing.shutdown() },
      { name: "nats", run: () => nc.drain() },
      { name: "postgres", run: () => db.destroy() },
      { name: "probe", run: () => probe.close() },
    ],
  });
}

main().catch((err: unknown) => {
  console.error("writer: fatal:", err);
  process.exit(1);
});
