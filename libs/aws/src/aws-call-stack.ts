import type { SourceConfig } from "@grantline/config";
import type { Logger } from "@grantline/log";
import { createBudgetedCall } from "./budgeted-call.ts";
import type { AwsBudgetEvent, AwsCallEvent, BudgetedCall } from "./budgeted-call.ts";
import { createBudgets } from "./budgets.ts";
import type { RateLimiter } from "./budgets.ts";
import { createClientFactory } from "./client-factory.ts";
import type { ClientFactory } from "./client-factory.ts";

/** What every executor of this package is built from. */
interface CallStackDeps {
  sources: SourceConfig[];
  rateLimiter: RateLimiter;
  logger: Logger;
  options?: { callTimeoutMs?: number; maxAttempts?: number };
  onCall?: (e: AwsCallEvent) => void;
  onBudget?: (e: AwsBudgetEvent) => void;
}

export interface AwsCallStack {
  logger: Logger;
  /** The AWS sources by id. */
  sources: Map<string, SourceConfig>;
  calls: BudgetedCall;
  factory: ClientFactory;
}

/**
 * The AWS sources, budgeted calls and the clients they go through (their AssumeRoles on the STS budget): what
 * every executor sends with. `component` names the executor in its log lines.
 */
export function createAwsCallStack(deps: CallStackDeps, component: string): AwsCallStack {
  const callTimeoutMs = deps.options?.callTimeoutMs ?? 30_000;
  const logger = deps.logger.child({ component });
  const calls = createBudgetedCall({
    budgets: createBudgets(deps.rateLimiter, logger),
    callTimeoutMs,
    logger,
    ...(deps.onCall ? { onCall: deps.onCall } : {}),
    ...(deps.onBudget ? { onBudget: deps.onBudget } : {}),
  });
  const factory = createClientFactory({
    maxAttempts: deps.options?.maxAttempts ?? 3,
    callTimeoutMs,
    stsCall: calls.sts,
  });
  const sources = new Map(deps.sources.filter((s) => s.kind === "aws").map((s) => [s.id, s]));
  return { logger, sources, calls, factory };
}
