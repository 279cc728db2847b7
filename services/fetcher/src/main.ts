import { exitOnConfigError, loadFetcherConfig } from "@grantline/config";
import { publishJson, runService, watchCancelledRuns } from "@grantline/nats";
import { closeRedis, redisReadinessCheck } from "@grantline/redis";
import { createAwsMetrics } from "./aws-metrics.ts";
import { createFetcherAwsExecutor } from "./create-fetcher-aws-executor.ts";
import { createFetcherRedis } from "./create-fetcher-redis.ts";
import { createDiagExecutor } from "./diag-executor.ts";
import { startFetchConsumers, startProvisioningConsumer } from "./fetch-consumers.ts";
import { createFetchHandler } from "./fetch-handler.ts";
import { createRoutingExecutor } from "./routing-executor.ts";
import { createSourceHealth } from "./source-health.ts";

const config = exitOnConfigError("fetcher", () => loadFetcherConfig(process.env));
runService("fetcher", config, async (rt) => {
  const { logger, subjects, metrics, js } = rt;
  const blobs = await rt.openBlobs();
  const redis = await createFetcherRedis(config, logger);
  const awsMetrics = createAwsMetrics(metrics);
  const aws = createFetcherAwsExecutor(config, { redis, logger, ...awsMetrics });
  const executor = createRoutingExecutor({
    diag: createDiagExecutor(),
    organizations: aws,
    "sso-admin": aws,
    identitystore: aws,
    iam: aws,
    sts: aws,
    cloudtrail: aws,
  });
  const health = createSourceHealth({
    notify: (letter, msgID) => publishJson(js, subjects.deadLetter("fetcher"), letter, { msgID }),
    failingGauge: metrics.gauge("grantline_source_failing", "1 while a source's AWS is not answering", [
      "source",
    ]),
    giveUpAfterMs: config.AWS_UNAVAILABLE_GIVE_UP_MS,
    logger,
  });
  const handler = health.observe(
    createFetchHandler({
      executor,
      cancelled: watchCancelledRuns(rt),
      publisher: {
        publish: async (result) => {
          const r = result.request;
          await publishJson(js, subjects.pageResult(r.sourceId, r.service), result, {
            msgID: `res:${r.taskId}`,
            blobs,
          });
        },
      },
    }),
  );
  const consumers = await startFetchConsumers(rt, handler, config);
  const provisioning = await startProvisioningConsumer(rt, config, { redis, ...awsMetrics });

  await rt.serve({
    readiness: [redisReadinessCheck(redis)],
    degraded: () => health.degraded(),
    fields: { sources: config.sources.sources.map((s) => s.id) },
    stop: [
      {
        name: "consumers",
        run: async () => {
          const all = [...consumers, provisioning.consumer];
          await Promise.all(all.map((c) => c.stop(config.SHUTDOWN_GRACE_MS)));
        },
      },
    ],
    close: [
      { name: "aws", run: () => aws.close() },
      { name: "provisioning", run: () => provisioning.executor.close() },
      { name: "redis", run: () => closeRedis(redis) },
    ],
  });
});
