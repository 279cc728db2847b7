import { expandFeedPolls, PermanentError, RetryableError } from "@grantline/contracts";
import type { FeedPollOutcome, PageRequest } from "@grantline/contracts";
import type { SourceConfig } from "@grantline/config";
import type { Logger } from "@grantline/log";
import { createBreakers } from "./breakers.ts";
import type { AwsBreakerEvent } from "./breakers.ts";
import { createAwsCallStack } from "./aws-call-stack.ts";
import type { AwsBudgetEvent, AwsCallEvent } from "./budgeted-call.ts";
import { budgetScope } from "./budgets.ts";
import type { BudgetService, RateLimiter } from "./budgets.ts";
import { AWS_UNAVAILABLE_GIVE_UP_MS, classifyAwsError, deniedHint } from "./classify-aws-error.ts";
import { AssumeRoleError } from "./credentials.ts";
import { describePermissionSet } from "./describe-permission-set.ts";
import type { JsonCache } from "./describe-permission-set.ts";
import { isListDetails, LIST_DETAILS, listWithDetails } from "./list-with-details.ts";
import { buildInput, findOperation, OPERATIONS, toJsonPage } from "./operations.ts";
import { refreshIamEntity } from "./refresh-iam-entity.ts";
import type { CommandCtor, OperationSpec } from "./operations.ts";

/** A fetched page, or — `skipped` set — a denial or vanished scope to record instead of failing the run. */
export interface AwsPageOutcome {
  page: Record<string, unknown>;
  warnings: string[];
  skipped?: string | null;
  /** Set when the page took more than one call (`cloudtrail.PollFeeds`, a list with details). */
  stats?: { awsCalls: number; throttled: number };
}

type ExecuteContext = { signal: AbortSignal; deliveryCount: number };

/** Structurally the fetcher's `PageExecutor`, plus `close`. */
export interface AwsExecutor {
  execute(request: PageRequest, ctx: ExecuteContext): Promise<AwsPageOutcome>;
  /** Shuts the circuit breakers down and closes the HTTP connections. Does not close the limiter or the cache. */
  close(): Promise<void>;
}

export interface AwsExecutorOptions {
  /**
   * Failure percentage (over a 10 s window of at least 10 calls) above which a breaker opens.
   * Fetcher: `BREAKER_ERROR_PERCENT`. @default 50
   */
  breakerErrorPercent?: number;
  /** How long an open breaker refuses calls before letting one through. Fetcher: `BREAKER_RESET_MS`. @default 30000 */
  breakerResetMs?: number;
  /**
   * How long a page retries while AWS does not answer (unreachable, 5xx, open circuit) before it is dead-lettered
   * and its run fails with the reason. Fetcher: `AWS_UNAVAILABLE_GIVE_UP_MS`. @default 300000
   */
  unavailableGiveUpMs?: number;
  /**
   * Whether ListAccountsForProvisionedPermissionSet and ListGroups pages read their items' assignments and
   * members (`LIST_DETAILS`); without it they are plain pages and each item gets its own task. The other list
   * pages with details always read them. Fetcher: `LIST_PAGES_READ_ITEMS` (on unless set to "false"). @default false
   */
  listPagesReadItems?: boolean;
  /**
   * Limit of one attempt of an AWS call, counted from its budget grant. Fetcher: `AWS_CALL_TIMEOUT_MS`.
   * @default 30000
   */
  callTimeoutMs?: number;
  /** Attempts per call made by the SDK (1 = no SDK retry). @default 3 */
  maxAttempts?: number;
}

export interface AwsExecutorDeps {
  sources: SourceConfig[];
  /** Budgets shared by every replica (`createRateLimiter(redis, { prefix: "aws:rl:" })` of `@grantline/redis`). */
  rateLimiter: RateLimiter;
  /**
   * Composite DescribePermissionSet pages shared by every replica; its TTL is how long a permission set is
   * reused (`createJsonCache(redis, { prefix: "aws:ps:", ttlSeconds })`; fetcher: `PERMISSION_SET_CACHE_TTL_S`).
   */
  permissionSetCache: JsonCache;
  logger: Logger;
  options?: AwsExecutorOptions;
  onCall?: (e: AwsCallEvent) => void;
  onBudget?: (e: AwsBudgetEvent) => void;
  onBreaker?: (e: AwsBreakerEvent) => void;
}

/** List pages whose details are read only with `listPagesReadItems` (a hundred items each, on a shared budget). */
const ITEM_LISTS: ReadonlySet<string> = new Set(["ListAccountsForProvisionedPermissionSet", "ListGroups"]);

/**
 * Executes page requests against AWS: per-source credentials (default chain or static keys, then up to two
 * AssumeRole hops, refreshed before expiry), cross-account IAM through `iam.roleName`, budgets shared by every
 * replica, a circuit breaker per (source, service, account) and AWS errors classified into retryable failures
 * or skipped pages.
 *
 * @example
 * const aws = createAwsExecutor({ sources: config.sources.sources, rateLimiter, permissionSetCache, logger });
 * const { page, warnings, skipped } = await aws.execute(request, { signal, deliveryCount: 1 });
 * await aws.close();
 */
export function createAwsExecutor(deps: AwsExecutorDeps): AwsExecutor {
  const o = deps.options ?? {};
  const { logger, sources, calls, factory } = createAwsCallStack(deps, "aws");
  const giveUpAfterMs = o.unavailableGiveUpMs ?? AWS_UNAVAILABLE_GIVE_UP_MS;
  const readsItems = o.listPagesReadItems ?? false;
  const breakers = createBreakers<AwsPageOutcome>({
    errorPercent: o.breakerErrorPercent ?? 50,
    resetMs: o.breakerResetMs ?? 30_000,
    giveUpAfterMs,
    logger,
    ...(deps.onBreaker ? { onBreaker: deps.onBreaker } : {}),
  });

  /** The request being served, with the account its calls act in (null: the source's own). */
  interface Served {
    request: PageRequest;
    source: SourceConfig;
    account: string | null;
    signal: AbortSignal;
  }

  function call(
    s: Served,
    service: BudgetService,
    operation: string,
    command: CommandCtor,
    input: Record<string, unknown>,
  ): Promise<unknown> {
    // The resolved account: a request naming the source's own account shares the "self" budget.
    const scope = budgetScope({ ...s.request, accountId: s.account }, service, operation);
    const client = factory.client(s.source, service, s.account, regionOf(s));
    const target = {
      client,
      sourceId: s.source.id,
      service,
      operation,
      scope,
      ratePerSec: s.source.budgets[service],
    };
    return calls.send(target, command, input, s.signal);
  }

  /** The Region a request names (a feed's), or the source's. */
  function regionOf(s: Served): string {
    const spec = findOperation(s.request.service, s.request.operation);
    const v = spec?.regionParam ? s.request.params[spec.regionParam] : undefined;
    return typeof v === "string" && v !== "" ? v : s.source.region;
  }

  async function run(s: Served, spec: OperationSpec): Promise<AwsPageOutcome> {
    const what = `${spec.service} ${spec.operation}${s.account ? ` (account ${s.account})` : ""}`;
    try {
      if (spec.composite === "DescribePermissionSet") {
        const page = await describePermissionSet(
          s.request.params,
          deps.permissionSetCache,
          (op, cmd, input) => call(s, "sso-admin", op, cmd, input),
          logger,
        );
        return { page, warnings: [] };
      }
      if (isListDetails(spec.composite) && (readsItems || !ITEM_LISTS.has(spec.composite))) {
        const input = buildInput(spec, s.request.params, s.request.pageToken);
        const { page, awsCalls } = await listWithDetails(
          LIST_DETAILS[spec.composite],
          input,
          async (op, callInput) => {
            const sub = findOperation(spec.service, op);
            if (!sub)
              throw new PermanentError("unknown-operation", `aws: ${spec.service} ${op} is not served`);
            return toJsonPage(await call(s, spec.service, op, sub.command, callInput));
          },
        );
        return { page, warnings: [], stats: { awsCalls, throttled: 0 } };
      }
      if (spec.composite === "PollFeeds")
        throw new PermanentError("bad-request", "PollFeeds is not a page call");
      if (spec.composite && !isListDetails(spec.composite)) {
        // A targeted IAM refresh: each of its calls is budgeted and counted like a page's own call.
        const page = await refreshIamEntity(spec.composite, s.request.params, async (op, input) => {
          const sub = findOperation("iam", op);
          if (!sub) throw new PermanentError("unknown-operation", `aws: iam ${op} is not served`);
          return toJsonPage(await call(s, "iam", op, sub.command, input));
        });
        return { page, warnings: [] };
      }
      const input = buildInput(spec, s.request.params, s.request.pageToken);
      const out = await call(s, spec.service, spec.operation, spec.command, input);
      return { page: toJsonPage(out), warnings: [] };
    } catch (err) {
      if (err instanceof PermanentError || err instanceof RetryableError) throw err;
      if (err instanceof AssumeRoleError) {
        const cause = classifyAwsError(err.cause, what);
        const target = s.account ? factory.crossAccountRoleArn(s.source, s.account) : undefined;
        if (err.roleArn === target && cause.kind === "denied") {
          return {
            page: {},
            warnings: [`account ${s.account}: cannot assume ${target}: ${(err.cause as Error).message}`],
            skipped: "AccessDenied",
          };
        }
        throw sourceFailure(s.source, what, err, giveUpAfterMs);
      }
      const c = classifyAwsError(err, what, deniedHint(spec.service, spec.operation), giveUpAfterMs);
      switch (c.kind) {
        case "denied":
        case "not-found":
          return { page: {}, warnings: [c.warning], skipped: c.skipped };
        case "expired":
          factory.invalidate(s.source.id);
          throw c.error;
        default:
          throw c.error;
      }
    }
  }

  /**
   * Every feed of a `cloudtrail.PollFeeds` request polled at once, each as its own LookupEvents request (its
   * account's credentials, budget and breaker). One feed's failure is that feed's outcome — its window is read
   * again later — unless every feed failed: then the whole request is retried like any page (an outage, a
   * source whose credentials fail), so a failing source does not spin through windows.
   */
  async function pollFeeds(request: PageRequest, ctx: ExecuteContext): Promise<AwsPageOutcome> {
    const subs = expandFeedPolls(request);
    const settled = await Promise.allSettled(subs.map((sub) => executor.execute(sub, ctx)));
    ctx.signal.throwIfAborted();
    const failed = settled.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed.length === settled.length && failed[0]) throw failed[0].reason;
    const feeds = settled.map((r, i): FeedPollOutcome => {
      const FeedId = String(subs[i]!.params.FeedId);
      if (r.status === "rejected") {
        const reason = r.reason instanceof Error ? r.reason.message : String(r.reason);
        return { FeedId, Failed: reason, Warnings: [] };
      }
      const o = r.value;
      return o.skipped
        ? { FeedId, Skipped: o.skipped, Warnings: o.warnings }
        : { FeedId, Page: o.page, Warnings: o.warnings };
    });
    if (failed.length > 0)
      logger.warn(
        { taskId: request.taskId, failed: failed.length, polls: subs.length },
        "feed polls failed; their windows are read again later",
      );
    return { page: { Feeds: feeds }, warnings: [], stats: { awsCalls: subs.length, throttled: 0 } };
  }

  const executor: AwsExecutor = {
    async execute(request, ctx) {
      const spec = findOperation(request.service, request.operation);
      if (!spec) {
        throw new PermanentError(
          "unknown-operation",
          `aws: unknown operation ${request.service}.${request.operation} (known: ${[...OPERATIONS.keys()].join(", ")})`,
        );
      }
      if (spec.composite === "PollFeeds") return pollFeeds(request, ctx);
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
          throw sourceFailure(source, "sts GetCallerIdentity", err, giveUpAfterMs);
        });
        if (request.accountId !== own) account = request.accountId;
      }
      const served: Served = { request, source, account, signal: ctx.signal };
      const key = { sourceId: source.id, service: spec.service, account: account ?? "self" };
      return breakers.fire(key, () => run(served, spec), ctx.signal);
    },
    async close() {
      breakers.shutdown();
      factory.close();
      await Promise.resolve();
    },
  };
  return executor;
}

/**
 * A failure to get the source's own credentials or identity. A hop that cannot be assumed is a configuration
 * problem (role, trust policy, external id) that lasts until fixed: it is retried slowly, with a message that
 * names the role and hop, rather than dead-lettered — fixing the configuration then resumes the run.
 */
function sourceFailure(
  source: SourceConfig,
  what: string,
  err: unknown,
  giveUpAfterMs: number,
): RetryableError {
  if (err instanceof RetryableError) return err;
  if (err instanceof AssumeRoleError) {
    const c = classifyAwsError(err.cause, what, undefined, giveUpAfterMs);
    if (c.kind === "throttled") return c.error;
    return new RetryableError(`source ${source.id}: ${err.message}`, { cause: err, retryAfterMs: 30_000 });
  }
  const c = classifyAwsError(err, `source ${source.id}: ${what}`, undefined, giveUpAfterMs);
  if (c.kind === "throttled" || c.kind === "retryable" || c.kind === "expired") return c.error;
  // Still retried slowly: the source's own identity is configuration, and fixing it resumes the run.
  if (c.kind === "invalid") return new RetryableError(c.error.message, { cause: err, retryAfterMs: 30_000 });
  return new RetryableError(`source ${source.id}: ${c.warning}`, { cause: err, retryAfterMs: 30_000 });
}
