import { AsyncLocalStorage } from "node:async_hooks";
import type { HttpHandlerOptions, HttpRequest } from "@smithy/types";
import type { SourceConfig } from "@grantline/config";
import type { Logger } from "@grantline/log";
import { budgetName } from "./budgets.ts";
import type { BudgetService, Budgets } from "./budgets.ts";
import { classifyAwsError } from "./classify-aws-error.ts";
import type { AwsClient } from "./client-factory.ts";
import { AssumeRoleError } from "./credentials.ts";
import { notifyListener } from "./notify-listener.ts";
import type { CommandCtor } from "./operations.ts";

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

/** Where one call goes and what it is charged to. */
export interface CallTarget {
  client: AwsClient;
  sourceId: string;
  service: BudgetService;
  operation: string;
  /** The budget scope (`budgetScope`). */
  scope: string;
  ratePerSec: number;
}

export interface BudgetedCallOptions {
  budgets: Budgets;
  /** Limit of one attempt, counted from its budget grant. */
  callTimeoutMs: number;
  logger: Logger;
  onCall?: (e: AwsCallEvent) => void;
  onBudget?: (e: AwsBudgetEvent) => void;
}

export interface BudgetedCall {
  /**
   * One AWS call: the budget is taken before every attempt (SDK retries included), throttled attempts penalize
   * it, and each attempt is aborted `callTimeoutMs` after its grant (or when `signal` aborts).
   */
  send(
    target: CallTarget,
    command: CommandCtor,
    input: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<unknown>;
  /** An STS call the client factory makes itself (AssumeRole, GetCallerIdentity), on the source's STS budget. */
  sts<T>(source: SourceConfig, operation: string, run: () => Promise<T>, signal?: AbortSignal): Promise<T>;
}

/** What the client-level budget middleware and request handler need of the call in progress. */
interface CallInProgress {
  /** Before each attempt (SDK retries included): the budget grant; the attempt's timeout starts after it. */
  beforeAttempt(): Promise<void>;
  attemptFailed(err: unknown): void;
  /** Aborts the HTTP request: the caller's abort or the attempt's timeout. */
  signal: AbortSignal;
}

// The SDK resolves a command's whole middleware stack on every send unless the client caches it
// (`cacheMiddleware`), and it caches only for sends without per-call options. So the budget middleware is added
// once per client, and it and the abort signal find their call through the async context instead of per-call
// options: ~0.4 ms of CPU less per call (issue 17, measured against aws-sim).
const inProgress = new AsyncLocalStorage<CallInProgress>();

/** The part of an SDK client the budget middleware is added to. */
export interface MiddlewareClient {
  middlewareStack: {
    addRelativeTo(
      mw: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
      opts: { relation: "after"; toMiddleware: string; name: string; override?: boolean },
    ): void;
  };
}

/**
 * Adds the budget middleware to a client, after the SDK's retry so that every attempt is granted a budget and a
 * throttled attempt penalizes it. Sends made outside `BudgetedCall.send` pass through untouched.
 */
export function addBudgetMiddleware(client: MiddlewareClient): void {
  client.middlewareStack.addRelativeTo(
    (next) => async (args) => {
      const call = inProgress.getStore();
      if (!call) return next(args);
      await call.beforeAttempt();
      try {
        return await next(args);
      } catch (err) {
        call.attemptFailed(err);
        throw err;
      }
    },
    { relation: "after", toMiddleware: "retryMiddleware", name: "grantlineBudget", override: true },
  );
}

/**
 * `handler`, aborting each request with the budgeted call it belongs to: the SDK passes no per-call options to a
 * cached middleware stack.
 */
export function abortWithCall<
  H extends { handle(request: HttpRequest, options?: HttpHandlerOptions): unknown },
>(handler: H): H {
  const handle = (request: HttpRequest, options?: HttpHandlerOptions): unknown => {
    const call = inProgress.getStore();
    return handler.handle(request, call ? { ...options, abortSignal: call.signal } : options);
  };
  return new Proxy(handler, {
    get(target, key) {
      if (key === "handle") return handle;
      const v: unknown = Reflect.get(target, key, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

const NEVER_ABORTED = new AbortController().signal;

/**
 * Runs an SDK send that is not a budgeted call (the client factory's own STS calls, budgeted by their caller) so
 * that `signal` still aborts its request: per-call options would make the client drop its cached middleware stack.
 * It gets a context of its own even without a signal, so a caller inside a budgeted call does not lend it that
 * call's budget hooks or abort.
 */
export function sendAbortable<T>(signal: AbortSignal | undefined, send: () => Promise<T>): Promise<T> {
  const own: CallInProgress = {
    beforeAttempt: () => Promise.resolve(),
    attemptFailed: () => {},
    signal: signal ?? NEVER_ABORTED,
  };
  return inProgress.run(own, send);
}

const isThrottle = (err: unknown): boolean => classifyAwsError(err, "").kind === "throttled";

/** The metrics outcome of a failed call; a failed AssumeRole inside the call is judged by its own cause. */
function callOutcome(err: unknown): AwsCallEvent["outcome"] {
  // Only the innermost AssumeRole counts: an outer hop fails because an inner one did, which is reported already.
  const kind = classifyAwsError(err instanceof AssumeRoleError ? err.cause : err, "").kind;
  return kind === "throttled" ? "throttled" : kind === "denied" ? "denied" : "error";
}

/** AWS calls that spend a budget, time out per attempt and report to the metrics listeners. */
export function createBudgetedCall(o: BudgetedCallOptions): BudgetedCall {
  const { budgets, callTimeoutMs, logger } = o;

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
    if (!o.onBudget) return;
    const budget = budgetName(service, operation);
    const waitedMs = performance.now() - started;
    notifyListener(logger, o.onBudget, { sourceId, service, budget, ratePerSec, waitedMs });
  }

  function report(
    c: { sourceId: string; service: string; operation: string; scope: string; started: number },
    outcome: AwsCallEvent["outcome"],
  ): void {
    if (!o.onCall) return;
    const { started, ...rest } = c;
    notifyListener(logger, o.onCall, { ...rest, outcome, ms: performance.now() - started });
  }

  return {
    async send(t, command, input, callerSignal) {
      // The call timeout starts once the budget is granted, per attempt: waiting for a busy budget is not a slow
      // AWS call, and counting it as one aborted queued calls and re-ran them (seen in the benchmark).
      const timeout = new AbortController();
      let timer: NodeJS.Timeout | undefined;
      // The call's signal: the timeout's, which the caller's abort also fires. Not AbortSignal.any: on Node 20
      // it cost ~50 µs a call, on every call (measured for issue 17).
      const signal = timeout.signal;
      const onCallerAbort = (): void => timeout.abort(callerSignal.reason);
      if (callerSignal.aborted) onCallerAbort();
      else callerSignal.addEventListener("abort", onCallerAbort, { once: true });
      const call: CallInProgress = {
        signal,
        beforeAttempt: async () => {
          await acquire(t.scope, t.sourceId, t.service, t.operation, t.ratePerSec, callerSignal);
          clearTimeout(timer);
          timer = setTimeout(
            () => timeout.abort(new Error(`AWS call timed out after ${callTimeoutMs} ms`)),
            callTimeoutMs,
          );
        },
        attemptFailed: (err) => {
          if (isThrottle(err)) budgets.penalize(t.scope);
        },
      };
      const { sourceId, service, operation, scope } = t;
      const c = { sourceId, service, operation, scope, started: performance.now() };
      try {
        // No per-call options: the client's cached middleware stack serves it (see `inProgress`).
        const out = await inProgress.run(call, () => t.client.send(new command(input)));
        budgets.reward(t.scope);
        report(c, "ok");
        return out;
      } catch (err) {
        const outcome = callOutcome(err);
        report(c, outcome);
        if (outcome === "throttled") budgets.penalize(t.scope);
        throw err;
      } finally {
        clearTimeout(timer);
        callerSignal.removeEventListener("abort", onCallerAbort);
      }
    },

    async sts(source, operation, run, signal) {
      const scope = `${source.id}:sts`;
      await acquire(scope, source.id, "sts", "sts", source.budgets.sts, signal);
      const c = { sourceId: source.id, service: "sts", operation, scope, started: performance.now() };
      try {
        const out = await run();
        budgets.reward(scope);
        report(c, "ok");
        return out;
      } catch (err) {
        const outcome = callOutcome(err);
        if (outcome === "throttled") budgets.penalize(scope);
        report(c, outcome);
        throw err;
      }
    },
  };
}
