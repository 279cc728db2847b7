import { createAssignmentExecutor, createRedisSemaphore } from "@grantline/aws";
import type { AssignmentExecutor, AssignmentExecutorDeps } from "@grantline/aws";
import type { FetcherConfig } from "@grantline/config";
import type { Logger } from "@grantline/log";
import { createRateLimiter } from "@grantline/redis";
import type { Redis } from "@grantline/redis";

/** The fetcher settings the provisioning executor honours. */
export type FetcherProvisioningSettings = Pick<
  FetcherConfig,
  | "sources"
  | "AWS_CALL_TIMEOUT_MS"
  | "PROVISIONING_OUTSTANDING_CAP"
  | "PROVISIONING_STATUS_TIMEOUT_MS"
  | "PROVISIONING_CONFLICT_TIMEOUT_MS"
>;

/**
 * The fetcher's provisioning executor: the page executor's budgets (same Redis prefix: writes and reads share
 * AWS's quotas) and one outstanding-operation semaphore per Identity Center instance, shared by every replica.
 */
export function createFetcherProvisioning(
  config: FetcherProvisioningSettings,
  deps: Pick<AssignmentExecutorDeps, "onCall" | "onBudget"> & { redis: Redis; logger: Logger },
): AssignmentExecutor {
  const logger = deps.logger.child({ component: "provisioning" });
  return createAssignmentExecutor({
    sources: config.sources.sources,
    rateLimiter: createRateLimiter(deps.redis, { prefix: "aws:rl:" }),
    semaphore: createRedisSemaphore(deps.redis, { logger }),
    logger,
    options: {
      outstandingCap: config.PROVISIONING_OUTSTANDING_CAP,
      statusPoll: { totalMs: config.PROVISIONING_STATUS_TIMEOUT_MS },
      conflictRetry: { totalMs: config.PROVISIONING_CONFLICT_TIMEOUT_MS },
      callTimeoutMs: config.AWS_CALL_TIMEOUT_MS,
    },
    onCall: deps.onCall,
    onBudget: deps.onBudget,
  });
}
