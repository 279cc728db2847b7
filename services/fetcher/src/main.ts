import { exitOnConfigError, loadFetcherConfig } from "@grantline/config";
import { createAwsExecutor } from "@grantline/aws";
import { publishJson, runService, watchCancelledRuns } from "@grantline/nats";
import { closeRedis, createRedis, redisReadinessCheck } from "@grantline/redis";
import { createDiagExecutor, createRoutingExecutor } from "./diag-executor.ts";
import { startFetchConsumers } from "./fetch-consumers.ts";
import { createFetchHandler } from "./fetch-handler.ts";

const config = exitOnConfigError("fetcher", () => loadFetcherConfig(process.env));
runService("fetcher", config, async (rt) => {
  const { logger, subjects, metrics, js } = rt;
  const blobs = await rt.openBlobs();
  const redis = createRedis({
    url: config.REDIS_URL,
    keyPrefix: config.REDIS_KEY_PREFIX,
    logger,
    name: "grantline-fetcher",
  });
  const awsCalls = metrics.counter(
    "grantline_aws_calls_total",
    "AWS calls, by service, operation and outcome",
    ["service", "operation", "outcome"],
  );
  const awsCallDuration = metrics.histogram(
    "grantline_aws_call_duration_seconds",
    "Time of one AWS call including SDK retries and budget waits, by service and outcome",
    ["service", "outcome"],
    [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );
  const budgetGrants = metrics.counter(
    "grantline_aws_budget_grants_total",
    "Budget grants (one per AWS call attempt), by source and budget",
    ["source", "budget"],
  );
  const budgetLimit = metrics.gauge(
    "grantline_aws_budget_limit_per_second",
    "Configured rate of each scope of a budget (IAM budgets are per account)",
    ["source", "budget"],
  );
  const budgetWait = metrics.histogram(
    "grantline_aws_budget_wait_seconds",
    "Time a call waited for its budget grant: near zero below the quota, growing at it",
    ["source", "service"],
    [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  );
  const breakerOpen = metrics.gauge(
    "grantline_aws_breaker_open",
    "1 while the circuit breaker of (source, AWS service, account) is open in this replica",
    ["source", "service", "account"],
  );
  const aws = createAwsExecutor({
    sources: config.sources.sources,
    redis,
    logger,
    onCall: (e) => {
      awsCalls.inc({ service: e.service, operation: e.operation, outcome: e.outcome });
      awsCallDuration.observe({ service: e.service, outcome: e.outcome }, e.ms / 1000);
    },
    onBudget: (e) => {
      budgetGrants.inc({ source: e.sourceId, budget: e.budget });
      budgetLimit.set({ source: e.sourceId, budget: e.budget }, e.ratePerSec);
      budgetWait.observe({ source: e.sourceId, service: e.service }, e.waitedMs / 1000);
    },
    onBreaker: (e) =>
      breakerOpen.set({ source: e.sourceId, service: e.service, account: e.account }, e.open ? 1 : 0),
  });
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
  });
  const consumers = await startFetchConsumers(rt, handler, config);

  await rt.serve({
    readiness: [redisReadinessCheck(redis)],
    fields: { sources: config.sources.sources.map((s) => s.id) },
    stop: [
      {
        name: "consumers",
        run: async () => {
          await Promise.all(consumers.map((c) => c.stop(config.SHUTDOWN_GRACE_MS)));
        },
      },
    ],
    close: [
      { name: "aws", run: () => aws.close() },
      { name: "redis", run: () => closeRedis(redis) },
    ],
  });
});
