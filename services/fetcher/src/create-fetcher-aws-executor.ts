import { createAwsExecutor } from "@grantline/aws";
import type { AwsExecutor, AwsExecutorDeps } from "@grantline/aws";
import type { FetcherConfig } from "@grantline/config";
import type { Logger } from "@grantline/log";
import { createJsonCache, createRateLimiter } from "@grantline/redis";
import type { Redis } from "@grantline/redis";
import { withPermissionSetInvalidation } from "./with-permission-set-invalidation.ts";

/** The fetcher settings the AWS executor honours. */
export type FetcherAwsSettings = Pick<
  FetcherConfig,
  | "sources"
  | "BREAKER_ERROR_PERCENT"
  | "BREAKER_RESET_MS"
  | "PERMISSION_SET_CACHE_TTL_S"
  | "AWS_CALL_TIMEOUT_MS"
  | "AWS_UNAVAILABLE_GIVE_UP_MS"
  | "LIST_PAGES_READ_ITEMS"
>;

export interface FetcherAwsDeps extends Partial<Pick<AwsExecutorDeps, "onCall" | "onBudget" | "onBreaker">> {
  redis: Redis;
  logger: Logger;
}

/**
 * The fetcher's AWS executor: budgets and the permission-set cache shared through `redis`, breakers, cache
 * lifetime and call timeout from the fetcher's configuration; a feed page that shows a permission set changed
 * drops that set's cache entry (`withPermissionSetInvalidation`).
 *
 * @example
 * const aws = createFetcherAwsExecutor(config, { redis, logger, ...createAwsMetrics(metrics) });
 */
export function createFetcherAwsExecutor(config: FetcherAwsSettings, deps: FetcherAwsDeps): AwsExecutor {
  const { redis, logger, ...listeners } = deps;
  const permissionSetCache = createJsonCache(redis, {
    prefix: "aws:ps:",
    ttlSeconds: config.PERMISSION_SET_CACHE_TTL_S,
    logger: logger.child({ component: "aws" }),
  });
  const aws = createAwsExecutor({
    sources: config.sources.sources,
    // Every replica, and every release during a rollout, must use these prefixes: a replica on another prefix
    // would spend a budget of its own on top of the shared one.
    rateLimiter: createRateLimiter(redis, { prefix: "aws:rl:" }),
    permissionSetCache,
    logger,
    options: {
      breakerErrorPercent: config.BREAKER_ERROR_PERCENT,
      breakerResetMs: config.BREAKER_RESET_MS,
      callTimeoutMs: config.AWS_CALL_TIMEOUT_MS,
      unavailableGiveUpMs: config.AWS_UNAVAILABLE_GIVE_UP_MS,
      listPagesReadItems: config.LIST_PAGES_READ_ITEMS,
    },
    ...listeners,
  });
  return withPermissionSetInvalidation(aws, permissionSetCache, logger);
}
