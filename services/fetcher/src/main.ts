import { PageRequest, createSubjects } from "@grantline/contracts";
import { exitOnConfigError, loadFetcherConfig } from "@grantline/config";
import { createLogger } from "@grantline/log";
import {
  connectNats,
  ensureStreams,
  installShutdown,
  jetstream,
  jetstreamManager,
  natsReadiness,
  publishJson,
  startStage,
} from "@grantline/nats";
import { createMetrics, startProbeServer } from "@grantline/observability";
import { createDiagExecutor, createRoutingExecutor } from "./diag-executor.ts";
import { createFetchHandler } from "./fetch-handler.ts";

async function main(): Promise<void> {
  const config = exitOnConfigError("fetcher", () => loadFetcherConfig(process.env));
  const logger = createLogger({ service: "fetcher", level: config.LOG_LEVEL });
  const subjects = createSubjects(config.GL_SUBJECT_PREFIX);
  const metrics = createMetrics({ service: "fetcher" });
  const nc = await connectNats({ servers: config.NATS_URL, name: "grantline-fetcher", logger });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, subjects);

  const executor = createRoutingExecutor({ diag: createDiagExecutor() });
  const consumer = await startStage({
    js,
    jsm,
    subjects,
    stage: "fetcher",
    stream: subjects.streams.pageRequests,
    filterSubject: subjects.all.pageRequests,
    durable: "fetcher",
    schema: PageRequest,
    handler: createFetchHandler({
      executor,
      publisher: {
        publish: async (result) => {
          const r = result.request;
          await publishJson(js, subjects.pageResult(r.sourceId, r.service), result, {
            msgID: `res:${r.taskId}`,
          });
        },
      },
    }),
    settings: config,
    logger,
    observe: (outcome, seconds) => metrics.recordMessage("fetcher", outcome, seconds),
  });
  const probe = await startProbeServer({
    port: config.PROBE_PORT,
    host: config.PROBE_HOST,
    metrics,
    readiness: [natsReadiness(nc)],
    logger,
  });
  logger.info({ probe: probe.url, sources: config.sources.sources.map((s) => s.id) }, "fetcher started");

  installShutdown({
    logger,
    timeoutMs: config.SHUTDOWN_GRACE_MS + 5_000,
    steps: [
      { name: "readiness", run: async () => probe.markShuttingDown() },
      { name: "consumer", run: () => consumer.stop(config.SHUTDOWN_GRACE_MS) },
      { name: "nats", run: () => nc.drain() },
      { name: "probe", run: () => probe.close() },
    ],
  });
}

main().catch((err: unknown) => {
  console.error("fetcher: fatal:", err);
  process.exit(1);
});
