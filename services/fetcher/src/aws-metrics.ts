import type { AwsExecutorDeps } from "@grantline/aws";
import type { Metrics } from "@grantline/observability";

/** The executor's listeners that feed the fetcher's AWS metrics. */
export type AwsMetrics = Required<Pick<AwsExecutorDeps, "onCall" | "onBudget" | "onBreaker">>;

/**
 * Defines the fetcher's AWS metrics on `metrics` and returns the executor listeners that update them: calls and
 * their duration, budget grants, limits and waits (saturation: "are we at AWS's quota?"), and open breakers.
 */
export function createAwsMetrics(metrics: Metrics): AwsMetrics {
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
    "1 while the circuit breaker of (source, AWS service, account) is open in this replica (no series while closed)",
    ["source", "service", "account"],
  );
  return {
    onCall: (e) => {
      awsCalls.inc({ service: e.service, operation: e.operation, outcome: e.outcome });
      awsCallDuration.observe({ service: e.service, outcome: e.outcome }, e.ms / 1000);
    },
    onBudget: (e) => {
      budgetGrants.inc({ source: e.sourceId, budget: e.budget });
      budgetLimit.set({ source: e.sourceId, budget: e.budget }, e.ratePerSec);
      budgetWait.observe({ source: e.sourceId, service: e.service }, e.waitedMs / 1000);
    },
    // A closed circuit's series is removed, not left at 0: the label carries the account, and a failure storm
    // across a 1,000-account organization would otherwise leave a thousand series behind for good.
    onBreaker: (e) => {
      const labels = { source: e.sourceId, service: e.service, account: e.account };
      if (e.open) breakerOpen.set(labels, 1);
      else breakerOpen.remove(labels);
    },
  };
}
