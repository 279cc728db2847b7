import {
  LEGACY_FETCHER_DURABLE,
  PageRequest,
  ServiceName,
  createSubjects,
  fetcherDurable,
} from "@grantline/contracts";
import { exitOnConfigError, loadFetcherConfig } from "@grantline/config";
import { createLogger } from "@grantline/log";
import {
  connectNats,
  ensureStreams,
  installShutdown,
  jetstream,
  jetstreamManager,
  natsReadiness,
  openBlobStore,
  publishJson,
  retireConsumer,
  startStage,
} from "@grantline/nats";
import { createMetrics, startProbeServer, startTracing } from "@grantline/observability";
import { closeRedis, createRedis, redisReadinessCheck } from "@grantline/redis";
import { createAwsMetrics } from "./aws-metrics.ts";
import { createFetcherAwsExecutor } from "./create-fetcher-aws-executor.ts";
import { createDiagExecutor } from "./diag-executor.ts";
import { createFetchHandler } from "./fetch-handler.ts";
import { createRoutingExecutor } from "./routing-executor.ts";

async function main(): Promise<void> {
  const config = exitOnConfigError("fetcher", () => loadFetcherConfig(process.env));
  const logger = createLogger({ service: "fetcher", level: config.LOG_LEVEL });
  const tracing = startTracing(config, { service: "fetcher", logger });
  const subjects = createSubjects(config.GL_SUBJECT_PREFIX);
  const metrics = createMetrics({ service: "fetcher" });
  const nc = await connectNats({ servers: config.NATS_URL, name: "grantline-fetcher", logger });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, subjects, { replicas: config.NATS_STREAM_REPLICAS });
  const blobs = await openBlobStore(nc, subjects, { replicas: config.NATS_STREAM_REPLICAS });

  const redis = createRedis({
    url: config.REDIS_URL,
    keyPrefix: config.REDIS_KEY_PREFIX,
    logger,
    name: "grantline-fetcher",
  });
  const aws = createFetcherAwsExecutor(config, { redis, logger, ...createAwsMetrics(metrics) });
  const executor = createRoutingExecutor({
    diag: createDiagExecutor(),
    organizations: aws,
    "sso-admin": aws,
    identitystore: aws,
    iam: aws,
    sts: aws,
    cloudtrail: aws,
  });
  const handler = createFetchHandler({
    executor,
    publisher: {
      publish: async (result) => {
        const r = result.request;
        await publishJson(js, subjects.pageResult(r.sourceId, r.service), result, {
          msgID: `res:${r.taskId}`,
          blobs,
        });
      },
    },
  });
  // One consumer per AWS service, so one service's queue (waiting for its budget) never holds the delivery
  // slots another service's requests need (libs/contracts fetcherDurable). An earlier release's all-services consumer
  // is removed first: the work-queue stream refuses overlapping filters; its undelivered work moves over.
  if (await retireConsumer(jsm, subjects.streams.pageRequests, LEGACY_FETCHER_DURABLE))
    logger.info(
      { durable: LEGACY_FETCHER_DURABLE },
      "removed the all-services fetcher consumer of an older release",
    );
  const consumers = await Promise.all(
    ServiceName.options.map((service) =>
      startStage({
        js,
        jsm,
        subjects,
        stage: "fetcher",
        stream: subjects.streams.pageRequests,
        filterSubject: subjects.pageRequestsFor(service),
        durable: fetcherDurable(service),
        schema: PageRequest,
        handler,
        settings: config,
        logger,
        observe: (outcome, seconds) => metrics.recordMessage("fetcher", outcome, seconds),
      }),
    ),
  );
  const probe = await startProbeServer({
    port: config.PROBE_PORT,
    host: config.PROBE_HOST,
    metrics,
    readiness: [natsReadiness(nc), redisReadinessCheck(redis)],
    logger,
  });
  logger.info({ probe: probe.url, sources: config.sources.sources.map((s) => s.id) }, "fetcher started");

  installShutdown({
    logger,
    timeoutMs: config.SHUTDOWN_GRACE_MS + 5_000,
    steps: [
      { name: "readiness", run: async () => probe.markShuttingDown() },
      {
        name: "consumers",
        run: async () => {
          await Promise.all(consumers.map((c) => c.stop(config.SHUTDOWN_GRACE_MS)));
        },
      },
      { name: "tracing", run: () => tracing.shutdown() },
      { name: "nats", run: () => nc.drain() },
      { name: "aws", run: () => aws.close() },
      { name: "redis", run: () => closeRedis(redis) },
      { name: "probe", run: () => probe.close() },
    ],
  });
}

main().catch((err: unknown) => {
  console.error("fetcher: fatal:", err);
  process.exit(1);
});
