import {
  GetInlinePolicyForPermissionSetCommand,
  ListCustomerManagedPolicyReferencesInPermissionSetCommand,
  ListManagedPoliciesInPermissionSetCommand,
} from "@aws-sdk/client-sso-admin";
import CircuitBreaker from "opossum";
import { PermanentError, RetryableError } from "@grantline/contracts";
import type { PageRequest } from "@grantline/contracts";
import type { SourceConfig } from "@grantline/config";
import type { Logger } from "@grantline/log";
import { createJsonCache } from "@grantline/redis";
import type { JsonCache, Redis } from "@grantline/redis";
import { budgetName, budgetScope, createBudgets } from "./budgets.ts";
import type { BudgetService, Budgets } from "./budgets.ts";
import { classifyAwsError } from "./classify-aws-error.ts";
import { createClientFactory } from "./client-factory.ts";
import type { AwsClient } from "./client-factory.ts";
import { AssumeRoleError } from "./credentials.ts";
import { buildInput, findOperation, OPERATIONS, toJsonPage } from "./operations.ts";
import type { CommandCtor, DescribePermissionSetCall, OperationSpec } from "./operations.ts";

/** A fetched page, or — `skipped` set — a denial or vanished scope to record instead of failing the run. */
export interface AwsPageOutcome {
  page: Record<string, unknown>;
  warnings: string[];
  skipped?: string | null;
}

/** Structurally the fetcher's `PageExecutor`, plus `close`. */
export interface AwsExecutor {
  execute(request: PageRequest, ctx: { signal: AbortSignal; deliveryCount: number }): Promise<AwsPageOutcome>;
  /** Shuts the circuit breakers down and closes the HTTP connections. Does not close `redis`. */
  close(): Promise<void>;
}

/** One AWS call as it finished (after the SDK's retries). */
export interface AwsCallEvent {
  sourceId: string;
  service: string;
  operation: string;
  /** The budget scope it was charged to. */
  scope: string;
  outcome: "ok" | "throttled" | "error" | "denied";
  ms: number;
}

/** One budget grant: how long the call waited for it, for saturation metrics ("are we at AWS's quota?"). */
export interface AwsBudgetEvent {
  sourceId: string;
  service: BudgetService;
  /** The budget without the source and the account: IAM's per-account budgets of one operation share a name. */
  budget: string;
  /** The configured rate of each scope of this budget. */
  ratePerSec: number;
  waitedMs: number;
}

/** A circuit breaker opened or closed. */
export interface AwsBreakerEvent {
  sourceId: string;
  service: BudgetService;
  account: string;
  open: boolean;
}

export interface AwsExecutorOptions {
  /** Failure percentage (over a 10 s window, at least 10 calls) that opens a breaker. @default 50 */
  breakerErrorPercent?: number;
  /** How long an open breaker refuses calls before letting one through. @default 30000 */
  breakerResetMs?: number;
  /** Lifetime of a cached composite DescribePermissionSet page. @default 3600 */
  permissionSetCacheTtlSeconds?: number;
  /** Limit of one AWS call including its SDK retries and budget waits. @default 30000 */
  callTimeoutMs?: number;
  /** Attempts per call made by the SDK (1 = no SDK retry). @default 3 */
  maxAttempts?: number;
}

export interface AwsExecutorDeps {
  sources: SourceConfig[];
  redis: Redis;
  logger: Logger;
  options?: AwsExecutorOptions;
  onCall?: (e: AwsCallEvent) => void;
  onBudget?: (e: AwsBudgetEvent) => void;
  onBreaker?: (e: AwsBreakerEvent) => void;
}

interface CallContext {
  request: PageRequest;
  source: SourceConfig;
  account: string | null;
  signal: AbortSignal;
}

interface BudgetedCommand {
  middlewareStack: {
    addRelativeTo(
      mw: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
      opts: { relation: "after"; toMiddleware: string; name: string; override?: boolean },
    ): void;
  };
}

const isThrottle = (err: unknown): boolean => classifyAwsError(err, "").kind === "throttled";

/** The metrics outcome of a failed call; a failed AssumeRole inside the call is judged by its own cause. */
function callOutcome(err: unknown): AwsCallEvent["outcome"] {
  // Only the innermost AssumeRole counts: an outer hop fails because an inner one did, which is reported already.
  const kind = classifyAwsError(err instanceof AssumeRoleError ? err.cause : err, "").kind;
  return kind === "throttled" ? "throttled" : kind === "denied" ? "denied" : "error";
}

/**
 * Executes page requests against AWS: per-source credentials (default chain or static keys, then up to two
 * AssumeRole hops, refreshed before expiry), cross-account IAM through `iam.roleName`, budgets shared by every
 * replica through Redis, a circuit breaker per (source, service, account) and AWS errors classified into
 * retryable failures or skipped pages.
 *
 * @example
 * const aws = createAwsExecutor({ sources: config.sources.sources, redis, logger });
 * const { page, warnings, skipped } = await aws.execute(request, { signal, deliveryCount: 1 });
 * await aws.close();
 */
export function createAwsExecutor(deps: AwsExecutorDeps): AwsExecutor {
  const o = deps.options ?? {};
  const breakerErrorPercent = o.breakerErrorPercent ?? 50;
  const breakerResetMs = o.breakerResetMs ?? 30_000;
  const callTimeoutMs = o.callTimeoutMs ?? 30_000;
  const maxAttempts = o.maxAttempts ?? 3;
  const logger = deps.logger.child({ component: "aws" });
  const sources = new Map(deps.sources.filter((s) => s.kind === "aws").map((s) => [s.id, s]));
  const budgets: Budgets = createBudgets(deps.redis, logger);
  const psCache: JsonCache = createJsonCache(deps.redis, {
    ttlSeconds: o.permissionSetCacheTtlSeconds ?? 3600,
    prefix: "aws:ps:",
    logger,
  });
  const factory = createClientFactory({
    maxAttempts,
    callTimeoutMs,
    stsCall: async (source, operation, run, signal) => {
      const scope = `${source.id}:sts`;
      await acquire(scope, source.id, "sts", "sts", source.budgets.sts, signal);
      const started = performance.now();
      try {
        const out = await run();
        budgets.reward(scope);
        report({ sourceId: source.id, service: "sts", operation, scope, started }, "ok");
        return out;
      } catch (err) {
        const outcome = callOutcome(err);
        if (outcome === "throttled") budgets.penalize(scope);
        report({ sourceId: source.id, service: "sts", operation, scope, started }, outcome);
        throw err;
      }
    },
  });

  /** Takes a budget grant and reports the wait. */
  async function acquire(
    scope: string,
    sourceId: string,
    service: BudgetService,
    operation: string,
    ratePerSec: number,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const started = performance.now();
    await budgets.acquire(scope, ratePerSec, signal);
    if (!deps.onBudget) return;
    const budget = budgetName(service, operation);
    notify(deps.onBudget, { sourceId, service, budget, ratePerSec, waitedMs: performance.now() - started });
  }

  /** Listener failures are logged, never thrown into a call. */
  function notify<E>(listener: (e: E) => void, e: E): void {
    try {
      listener(e);
    } catch (err) {
      logger.warn({ err }, "aws metrics listener failed");
    }
  }

  function report(
    c: { sourceId: string; service: string; operation: string; scope: string; started: number },
    outcome: AwsCallEvent["outcome"],
  ): void {
    if (!deps.onCall) return;
    const { started, ...rest } = c;
    notify(deps.onCall, { ...rest, outcome, ms: performance.now() - started });
  }
  type Run = () => Promise<AwsPageOutcome>;
  const breakers = new Map<string, CircuitBreaker<[Run, AbortSignal], AwsPageOutcome>>();

  const abortedErrors = new WeakSet<object>();

  function breakerFor(sourceId: string, service: BudgetService, account: string) {
    const key = `${sourceId}/${service}/${account}`;
    let b = breakers.get(key);
    if (!b) {
      b = new CircuitBreaker(
        async (run: Run, signal: AbortSignal) => {
          try {
            return await run();
          } catch (err) {
            if (signal.aborted && typeof err === "object" && err !== null) abortedErrors.add(err);
            throw err;
          }
        },
        {
          timeout: false,
          errorThresholdPercentage: breakerErrorPercent,
          resetTimeout: breakerResetMs,
          rollingCountTimeout: 10_000,
          volumeThreshold: 10,
          // Only failures AWS may recover from count; a shutdown abort is not AWS's fault.
          errorFilter: (err: unknown) => !(err instanceof RetryableError) || abortedErrors.has(err),
        },
      );
      const onBreaker = deps.onBreaker;
      b.on("open", () => {
        logger.warn({ breaker: key }, "aws circuit opened");
        if (onBreaker) notify(onBreaker, { sourceId, service, account, open: true });
      });
      b.on("close", () => {
        logger.info({ breaker: key }, "aws circuit closed");
        if (onBreaker) notify(onBreaker, { sourceId, service, account, open: false });
      });
      breakers.set(key, b);
    }
    return b;
  }

  /** One AWS call: the budget is taken before every attempt (SDK retries included), throttled attempts penalize it. */
  async function call(
    cc: CallContext,
    service: BudgetService,
    operation: string,
    command: CommandCtor,
    input: Record<string, unknown>,
  ): Promise<unknown> {
    // The resolved account: a request naming the source's own account shares the "self" budget.
    const scope = budgetScope({ ...cc.request, accountId: cc.account }, service, operation);
    const rate = cc.source.budgets[service];
    // The call timeout starts once the budget is granted, per attempt: waiting for a busy budget is not a slow
    // AWS call, and counting it as one aborted queued calls and re-ran them (seen in the benchmark).
    const timeout = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const signal = AbortSignal.any([cc.signal, timeout.signal]);
    const cmd = new command(input) as BudgetedCommand;
    cmd.middlewareStack.addRelativeTo(
      (next) => async (args) => {
        await acquire(scope, cc.source.id, service, operation, rate, cc.signal);
        clearTimeout(timer);
        timer = setTimeout(
          () => timeout.abort(new Error(`AWS call timed out after ${callTimeoutMs} ms`)),
          callTimeoutMs,
        );
        try {
          return await next(args);
        } catch (err) {
          if (isThrottle(err)) budgets.penalize(scope);
          throw err;
        }
      },
      { relation: "after", toMiddleware: "retryMiddleware", name: "grantlineBudget", override: true },
    );
    const client: AwsClient = factory.client(cc.source, service, cc.account);
    const c = { sourceId: cc.source.id, service, operation, scope, started: performance.now() };
    try {
      const out = await client.send(cmd, { abortSignal: signal });
      budgets.reward(scope);
      report(c, "ok");
      return out;
    } catch (err) {
      const outcome = callOutcome(err);
      report(c, outcome);
      if (outcome === "throttled") budgets.penalize(scope);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async function describePermissionSet(cc: CallContext, spec: OperationSpec): Promise<AwsPageOutcome> {
    const arn = cc.request.params.PermissionSetArn;
    const instanceArn = cc.request.params.InstanceArn;
    if (typeof arn !== "string" || typeof instanceArn !== "string") {
      throw new PermanentError(
        "invalid-params",
        "sso-admin DescribePermissionSet needs string params InstanceArn and PermissionSetArn",
      );
    }
    const hit = (await psCache.getMany([arn])).get(arn);
    if (hit && typeof hit === "object") return { page: hit as Record<string, unknown>, warnings: [] };
    const base = { InstanceArn: instanceArn, PermissionSetArn: arn };
    const described = (await call(cc, "sso-admin", spec.operation, spec.command, base)) as {
      PermissionSet?: unknown;
    };
    const all = async (
      command: CommandCtor,
      operation: DescribePermissionSetCall,
      member: string,
    ): Promise<unknown[]> => {
      const items: unknown[] = [];
      let token: string | undefined;
      do {
        const out = (await call(cc, "sso-admin", operation, command, {
          ...base,
          MaxResults: 100,
          ...(token ? { NextToken: token } : {}),
        })) as Record<string, unknown>;
        const got = out[member];
        if (Array.isArray(got)) items.push(...(got as unknown[]));
        token = typeof out.NextToken === "string" && out.NextToken ? out.NextToken : undefined;
      } while (token);
      return items;
    };
    const managed = await all(
      ListManagedPoliciesInPermissionSetCommand as unknown as CommandCtor,
      "ListManagedPoliciesInPermissionSet",
      "AttachedManagedPolicies",
    );
    const customer = await all(
      ListCustomerManagedPolicyReferencesInPermissionSetCommand as unknown as CommandCtor,
      "ListCustomerManagedPolicyReferencesInPermissionSet",
      "CustomerManagedPolicyReferences",
    );
    const inline = (await call(
      cc,
      "sso-admin",
      "GetInlinePolicyForPermissionSet" satisfies DescribePermissionSetCall,
      GetInlinePolicyForPermissionSetCommand as unknown as CommandCtor,
      base,
    )) as { InlinePolicy?: string };
    const page = toJsonPage({
      PermissionSet: described.PermissionSet ?? null,
      ManagedPolicies: managed,
      CustomerManagedPolicyReferences: customer,
      InlinePolicy: inline.InlinePolicy ? inline.InlinePolicy : null,
    });
    await psCache.setMany([[arn, page]]);
    return { page, warnings: [] };
  }

  async function run(cc: CallContext, spec: OperationSpec): Promise<AwsPageOutcome> {
    const what = `${spec.service} ${spec.operation}${cc.account ? ` (account ${cc.account})` : ""}`;
    try {
      if (spec.composite === "DescribePermissionSet") return await describePermissionSet(cc, spec);
      const input = buildInput(spec, cc.request.params, cc.request.pageToken);
      const out = await call(cc, spec.service, spec.operation, spec.command, input);
      return { page: toJsonPage(out), warnings: [] };
    } catch (err) {
      if (err instanceof PermanentError || err instanceof RetryableError) throw err;
      if (err instanceof AssumeRoleError) {
        const cause = classifyAwsError(err.cause, what);
        const target = cc.account ? factory.crossAccountRoleArn(cc.source, cc.account) : undefined;
        if (err.roleArn === target && cause.kind === "denied") {
          return {
            page: {},
            warnings: [`account ${cc.account}: cannot assume ${target}: ${(err.cause as Error).message}`],
            skipped: "AccessDenied",
          };
        }
        throw sourceFailure(cc.source, what, err);
      }
      const c = classifyAwsError(err, what);
      switch (c.kind) {
        case "denied":
        case "not-found":
          return { page: {}, warnings: [c.warning], skipped: c.skipped };
        case "expired":
          factory.invalidate(cc.source.id);
          throw c.error;
        default:
          throw c.error;
      }
    }
  }

  return {
    async execute(request, ctx) {
      const spec = findOperation(request.service, request.operation);
      if (!spec) {
        throw new PermanentError(
          "unknown-operation",
          `aws: unknown operation ${request.service}.${request.operation} (known: ${[...OPERATIONS.keys()].join(", ")})`,
        );
      }
      const source = sources.get(request.sourceId);
      if (!source) {
        throw new PermanentError(
          "unknown-source",
          `aws: no AWS source "${request.sourceId}" in this fetcher`,
        );
      }
      // The source's own account is served by the source's credentials; only another account is assumed into.
      let account: string | null = null;
      if (request.accountId !== null) {
        const own = await factory.ownAccountId(source, ctx.signal).catch((err: unknown) => {
          throw sourceFailure(source, "sts GetCallerIdentity", err);
        });
        if (request.accountId !== own) account = request.accountId;
      }
      const cc: CallContext = { request, source, account, signal: ctx.signal };
      const breaker = breakerFor(source.id, spec.service, account ?? "self");
      try {
        return await breaker.fire(() => run(cc, spec), ctx.signal);
      } catch (err) {
        if ((err as { code?: string }).code === "EOPENBREAKER") {
          throw new RetryableError(
            `circuit open for ${spec.service} of source ${source.id}${account ? ` in account ${account}` : ""}`,
            { cause: err, retryAfterMs: breakerResetMs },
          );
        }
        throw err;
      }
    },
    async close() {
      for (const b of breakers.values()) b.shutdown();
      breakers.clear();
      factory.close();
      await Promise.resolve();
    },
  };
}

/**
 * A failure to get the source's own credentials or identity. A hop that cannot be assumed is a configuration
 * problem (role, trust policy, external id) that lasts until fixed: it is retried slowly, with a message that
 * names the role and hop, rather than dead-lettered — fixing the configuration then resumes the run.
 */
function sourceFailure(source: SourceConfig, what: string, err: unknown): RetryableError {
  if (err instanceof RetryableError) return err;
  if (err instanceof AssumeRoleError) {
    const c = classifyAwsError(err.cause, what);
    if (c.kind === "throttled") return c.error;
    return new RetryableError(`source ${source.id}: ${err.message}`, { cause: err, retryAfterMs: 30_000 });
  }
  const c = classifyAwsError(err, `source ${source.id}: ${what}`);
  if (c.kind === "throttled" || c.kind === "retryable" || c.kind === "expired") return c.error;
  return new RetryableError(`source ${source.id}: ${c.warning}`, { cause: err, retryAfterMs: 30_000 });
}
