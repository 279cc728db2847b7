import { setTimeout as sleep } from "node:timers/promises";
import type { PageRequest } from "@grantline/contracts";
import type { Logger } from "@grantline/log";

/** The services with an AWS quota of their own; each has a per-source budget in the sources file. */
export type BudgetService = "organizations" | "sso-admin" | "identitystore" | "iam" | "sts" | "cloudtrail";

/**
 * The quota scope an AWS call counts against, mirroring how AWS meters it:
 * - `<sourceId>:sso-admin:<instanceArn>` — one budget for every SSO Admin operation of an instance;
 * - `<sourceId>:identitystore:<identityStoreId>:<operation>` — per operation per store;
 * - `<sourceId>:organizations:<operation>`;
 * - `<sourceId>:iam:<accountId | "self">:<operation>` — per account per operation;
 * - `<sourceId>:cloudtrail:<accountId | "self">:<region>` — LookupEvents, per account per Region;
 * - `<sourceId>:sts`.
 */
export function budgetScope(
  request: Pick<PageRequest, "sourceId" | "accountId" | "params">,
  service: BudgetService,
  operation: string,
): string {
  const s = request.sourceId;
  const param = (name: string): string => {
    const v = request.params[name];
    return typeof v === "string" && v ? v : "-";
  };
  switch (service) {
    case "sso-admin":
      return `${s}:sso-admin:${param("InstanceArn")}`;
    case "identitystore":
      return `${s}:identitystore:${param("IdentityStoreId")}:${operation}`;
    case "organizations":
      return `${s}:organizations:${operation}`;
    case "iam":
      return `${s}:iam:${request.accountId ?? "self"}:${operation}`;
    case "sts":
      return `${s}:sts`;
    case "cloudtrail":
      return `${s}:cloudtrail:${request.accountId ?? "self"}:${param("Region")}`;
  }
}

/**
 * A budget's name for metrics: its scope without the source and without IAM's account (per-account budgets of
 * one operation share a name, so a thousand accounts do not make a thousand series).
 */
export function budgetName(service: BudgetService, operation: string): string {
  switch (service) {
    case "identitystore":
    case "organizations":
    case "iam":
      return `${service}:${operation}`;
    default:
      return service;
  }
}

export interface RateLimits {
  /** Sustained grants per second. */
  ratePerSec: number;
  /** Grants allowed at once from idle. */
  burst: number;
}

/**
 * The part of a distributed rate limiter the budgets use: `createRateLimiter` of `@grantline/redis` is one
 * (create it with the prefix `"aws:rl:"`, which is where every replica looks). Declared here rather than imported
 * so that AWS code does not depend on Redis.
 */
export interface RateLimiter {
  /** Waits until a grant for `key` is taken; rejects with `signal.reason` when aborted. */
  acquire(key: string, limits: RateLimits, signal?: AbortSignal): Promise<void>;
  /** Lowers the effective rate of `key` (AWS throttled despite the limiter). */
  penalize(key: string): Promise<number>;
  /** Raises the effective rate of `key` a little after successes. */
  reward(key: string): Promise<unknown>;
  /** False while the shared store is unreachable: the budgets then limit in-process instead of waiting. */
  available(): boolean;
}

/**
 * Limits for a budget of `ratePerSec`. The burst is a fifth of a second of rate (at least 1): grants are spaced
 * at 1/rate, and a slot whose waiter wakes late (timer jitter, a Redis round trip) is not lost but taken up by
 * the next grant — with a burst of 1 every late wake-up was budget gone for good (the benchmark measured 18–19
 * calls/s on a 20/s budget). At most `burst + rate × t` calls start in any span `t`, well inside AWS's own
 * bucket (one second of rate) even when a previous run has just drained it by a fifth.
 */
export function budgetLimits(ratePerSec: number): RateLimits {
  return { ratePerSec, burst: Math.max(1, Math.floor(ratePerSec * 0.2)) };
}

export interface Budgets {
  /** Waits for a grant of `scope`; rejects with `signal.reason` when aborted. */
  acquire(scope: string, ratePerSec: number, signal?: AbortSignal): Promise<void>;
  /** AWS throttled a call despite the budget: lower the scope's effective rate (shared by every replica). */
  penalize(scope: string): void;
  /** A call succeeded: now and then nudge a penalized scope's rate back up. */
  reward(scope: string): void;
}

const REWARD_EVERY = 10;

/**
 * Budgets shared by every fetcher replica through Redis (GCRA). When Redis is unreachable the budget falls back
 * to an in-process limiter at the same rate, so an outage slows nothing down and fails nothing — at the price of
 * each replica spending the full budget on its own until Redis is back (the SDK's retries absorb the excess).
 */
export function createBudgets(limiter: RateLimiter, logger: Logger): Budgets {
  const local = new Map<string, number>();
  const successes = new Map<string, number>();
  let degraded = false;

  async function localAcquire(scope: string, ratePerSec: number, signal?: AbortSignal): Promise<void> {
    const now = performance.now();
    const interval = 1000 / ratePerSec;
    const tat = Math.max(local.get(scope) ?? now, now);
    local.set(scope, tat + interval);
    if (tat <= now) return;
    // Aborted, node's timer rejects with a generic AbortError; callers are promised their own reason.
    await sleep(tat - now, undefined, { signal }).catch((err: unknown) => {
      signal?.throwIfAborted();
      throw err;
    });
  }

  return {
    async acquire(scope, ratePerSec, signal) {
      signal?.throwIfAborted();
      if (!limiter.available()) return localAcquire(scope, ratePerSec, signal);
      try {
        await limiter.acquire(scope, budgetLimits(ratePerSec), signal);
        if (degraded) {
          degraded = false;
          logger.info({}, "aws budgets: redis available again");
        }
      } catch (err) {
        if (signal?.aborted) throw err;
        if (!degraded) {
          degraded = true;
          logger.warn({ err }, "aws budgets: redis unavailable; limiting in-process until it is back");
        }
        await localAcquire(scope, ratePerSec, signal);
      }
    },
    penalize(scope) {
      limiter.penalize(scope).then(
        (m) => logger.debug({ scope, multiplier: m }, "aws budget penalized after throttling"),
        () => {},
      );
    },
    reward(scope) {
      const n = (successes.get(scope) ?? 0) + 1;
      if (n < REWARD_EVERY) {
        successes.set(scope, n);
        return;
      }
      successes.delete(scope);
      limiter.reward(scope).catch(() => {});
    },
  };
}
