import { PageResult, createSubjects } from "@grantline/contracts";
import { exitOnConfigError, loadMapperConfig } from "@grantline/config";
import { createLogger } from "@grantline/log";
import { mapPage } from "@grantline/model";
import {
  connectNats,
  ensureStreams,
  installShutdown,
  jetstream,
  jetstreamManager,
  natsReadiness,
  openBlobStore,
  publishJson,
  startStage,
} from "@grantline/nats";
import { createMetrics, startProbeServer, startTracing } from "@grantline/observability";
import { createMapHandler } from "./map-handler.ts";

async function main(): Promise<void> {
  const config = exitOnConfigError("mapper", () => loadMapperConfig(process.env));
  const logger = createLogger({ service: "mapper", level: config.LOG_LEVEL });
  const tracing = startTracing(config, { service: "mapper", logger });
  const subjects = createSubjects(config.GL_SUBJECT_PREFIX);
  const metrics = createMetrics({ service: "mapper" });
  const nc = await connectNats({ servers: config.NATS_URL, name: "grantline-mapper", logger });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, subjects, { replicas: config.NATS_STREAM_REPLICAS });
  const blobs = await openBlobStore(nc, subjects, { replicas: config.NATS_STREAM_REPLICAS });

  const consumer = await startStage({
    js,
    jsm,
    subjects,
    stage: "mapper",
    stream: subjects.streams.pageResults,
    filterSubject: subjects.all.pageResults,
    durable: "mapper",
    schema: PageResult,
    handler: createMapHandler({
      map: mapPage,
      publisher: {
        publish: async (batch) => {
          await publishJson(js, subjects.batch(batch.sourceId), batch, {
            msgID: `batch:${batch.taskId}`,
            blobs,
          });
        },
      },
    }),
    settings: config,
    blobs,
    logger,
    observe: (outcome, seconds) => metrics.recordMessage("mapper", outcome, seconds),
  });
  const probe = await startProbeServer({
    port: config.PROBE_PORT,
    host: config.PROBE_HOST,
    metrics,
    readiness: [natsReadiness(nc)],
    logger,
  });
  logger.info({ probe: probe.url }, "mapper started");

  installShutdown({
    logger,
    timeoutMs: config.SHUTDOWN_GRACE_MS + 5_000,
    steps: [
      { name: "readiness", run: async () => probe.markShuttingDown() },
      { name: "consumer", run: () => consumer.stop(config.SHUTDOWN_GRACE_MS) },
      { name: "tracing", run: () => tracing.shutdown() },
      { name: "nats", run: () => nc.drain() },
      { name: "probe", run: () => probe.close() },
    ],
  });
}

main().catch((err: unknown) => {
  console.error("mapper: fatal:", err);
  process.exit(1);
});
