/**
 * AWS for grantline: the fetcher's page executor for Organizations, IAM Identity Center (SSO Admin), Identity
 * Store, IAM, STS and CloudTrail, and its access-change executor (grant / revoke of account assignments and group
 * memberships, docs/provisioning.md) — per-source credentials with AssumeRole hops and cross-account IAM, budgets
 * shared by every replica, circuit breakers and AWS errors classified into retryable failures or skipped pages.
 * The shared budgets and the permission-set cache are interfaces (`RateLimiter`, `JsonCache`) this package
 * declares; `@grantline/redis` implements both, so AWS code never touches Redis.
 *
 * @example
 * import { createAwsExecutor } from "@grantline/aws";
 * import { createJsonCache, createRateLimiter, createRedis } from "@grantline/redis";
 *
 * const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, logger });
 * const aws = createAwsExecutor({
 *   sources: config.sources.sources,
 *   rateLimiter: createRateLimiter(redis, { prefix: "aws:rl:" }),
 *   permissionSetCache: createJsonCache(redis, { prefix: "aws:ps:", ttlSeconds: 3600, logger }),
 *   logger,
 *   options: { breakerErrorPercent: 50, breakerResetMs: 30_000, callTimeoutMs: 30_000 },
 *   onCall: (e) => calls.inc({ service: e.service, operation: e.operation, outcome: e.outcome }),
 * });
 * const { page, warnings, skipped } = await aws.execute(request, { signal, deliveryCount: 1 });
 * await aws.close();
 */
export { createAwsExecutor } from "./create-aws-executor.ts";
export type {
  AwsExecutor,
  AwsExecutorDeps,
  AwsExecutorOptions,
  AwsPageOutcome,
} from "./create-aws-executor.ts";
export type { AwsBudgetEvent, AwsCallEvent } from "./budgeted-call.ts";
export { CircuitOpenError } from "./breakers.ts";
export type { AwsBreakerEvent, BreakerKey } from "./breakers.ts";
export type { RateLimiter, RateLimits } from "./budgets.ts";
export type { JsonCache } from "./describe-permission-set.ts";
export { OPERATIONS, DESCRIBE_PERMISSION_SET_CALLS } from "./operations.ts";
export { LIST_DETAILS } from "./list-with-details.ts";
export { IAM_REFRESH_CALLS, IAM_REFRESH_COMPOSITES, refreshIamEntity } from "./refresh-iam-entity.ts";
export type { IamCall, IamRefreshCall, IamRefreshComposite } from "./refresh-iam-entity.ts";
export type { ReservedAwsCall, DescribePermissionSetCall } from "./operations.ts";
export { createAssignmentExecutor } from "./create-assignment-executor.ts";
export type {
  AccessChangeContext,
  AssignmentExecutor,
  AssignmentExecutorDeps,
  AssignmentExecutorOptions,
} from "./create-assignment-executor.ts";
export { AccessChange } from "./access-change.ts";
export { createRedisSemaphore } from "./assignment-semaphore.ts";
export type {
  AssignmentSemaphore,
  RedisSemaphoreOptions,
  SemaphoreRedis,
  SlotLease,
} from "./assignment-semaphore.ts";
export type { Backoff } from "./with-backoff.ts";
