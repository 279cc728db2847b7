/**
 * AWS for grantline: the fetcher's page executor for Organizations, IAM Identity Center (SSO Admin), Identity
 * Store, IAM, STS and CloudTrail — per-source credentials with AssumeRole hops and cross-account IAM, budgets
 * shared by every replica through Redis, circuit breakers and AWS errors classified into retryable failures or
 * skipped pages.
 *
 * @example
 * import { createAwsExecutor } from "@grantline/aws";
 * import { createRedis } from "@grantline/redis";
 *
 * const redis = createRedis({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, logger });
 * const aws = createAwsExecutor({
 *   sources: config.sources.sources,
 *   redis,
 *   logger,
 *   onCall: (e) => calls.inc({ service: e.service, operation: e.operation, outcome: e.outcome }),
 * });
 * const { page, warnings, skipped } = await aws.execute(request, { signal, deliveryCount: 1 });
 * await aws.close();
 */
export { createAwsExecutor } from "./aws-executor.ts";
export type {
  AwsBreakerEvent,
  AwsBudgetEvent,
  AwsCallEvent,
  AwsExecutor,
  AwsExecutorDeps,
  AwsExecutorOptions,
  AwsPageOutcome,
} from "./aws-executor.ts";
export { classifyAwsError, awsErrorCode } from "./classify-aws-error.ts";
export type { AwsErrorClass } from "./classify-aws-error.ts";
export { budgetName, budgetScope, budgetLimits } from "./budgets.ts";
export type { BudgetService } from "./budgets.ts";
export {
  OPERATIONS,
  DESCRIBE_PERMISSION_SET_CALLS,
  findOperation,
  buildInput,
  toJsonPage,
} from "./operations.ts";
export type { OperationSpec, Paging, ReservedAwsCall, DescribePermissionSetCall } from "./operations.ts";
export { AssumeRoleError } from "./credentials.ts";
