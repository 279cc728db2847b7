import { DeadLetter } from "@grantline/contracts";
import { exitOnConfigError, loadWriterConfig } from "@grantline/config";
import {
  openServiceDb,
  isUnstorableDataError,
  postgresReadiness,
  storableBatch,
  createLoadAnalyzer,
  refreshPlannerStatistics,
  startOutboxPublisher,
} from "@grantline/db";
import { redactUrl } from "@grantline/log";
import { createOutboxSink, runService, startStage, type ConsumerOutcome } from "@grantline/nats";
import { createPgBatchStore } from "./pg-batch-store.ts";
import { startBatchConsumers } from "./start-batch-consumers.ts";
import { createDeadLetterHandler, createWriteHandler, type WriteHandlerDeps } from "./write-handler.ts";

const config = exitOnConfigError("writer", () => loadWriterConfig(process.env));
runService("writer", config, async ({ logger, subjects, metrics, js, jsm, openBlobs, serve }) => {
  const rowsWritten = metrics.counter("grantline_writer_rows_total", "Rows upserted by the writer", []);
  const db = await openServiceDb({ settings: config, service: "writer", logger });
  const blobs = await openBlobs();
  const outbox = startOutboxPublisher({
    db,
    batchSize: config.OUTBOX_BATCH,
    pollMs: config.OUTBOX_POLL_MS,
    sink: createOutboxSink(js),
    onError: (err) => logger.warn({ err }, "outbox round failed; will retry"),
  });
  const loadAnalyzer = createLoadAnalyzer(db, logger);
  const deps: WriteHandlerDeps = {
    store: createPgBatchStore(db, subjects, config, metrics),
    repair: { isDataError: isUnstorableDataError, storable: storableBatch },
    kickOutbox: () => outbox.kick(),
    onApplied: (rows) => {
      rowsWritten.inc(rows);
      loadAnalyzer.noteRows(rows);
    },
    afterRun: (runId) => refreshPlannerStatistics(db, runId, logger),
  };
  const stage = { js, jsm, subjects, stage: "writer", logger, settings: config } as const;
  const observe = (outcome: ConsumerOutcome, seconds: number) =>
    metrics.recordMessage("writer", outcome, seconds);
  const lanes = await startBatchConsumers({ ...stage, blobs, observe }, (lane) =>
    createWriteHandler(deps, lane),
  );
  const deadLetters = await startStage({
    ...stage,
    stream: subjects.streams.deadLetters,
    filterSubject: subjects.all.deadLetters,
    durable: "writer-dlq",
    schema: DeadLetter,
    handler: createDeadLetterHandler(deps),
    // A letter over the inline limit travels by reference like a batch does.
    blobs,
    settings: { ...config, MAX_IN_FLIGHT: 4 },
    observe,
  });

  await serve({
    readiness: [postgresReadiness(db)],
    fields: { database: redactUrl(config.DATABASE_URL) },
    stop: [
      {
        name: "consumers",
        run: () => Promise.all([...lanes, deadLetters].map((c) => c.stop(config.SHUTDOWN_GRACE_MS))),
      },
      { name: "outbox", run: () => outbox.stop() },
      { name: "analyze", run: () => loadAnalyzer.idle() },
    ],
    close: [{ name: "postgres", run: () => db.destroy() }],
  });
});
