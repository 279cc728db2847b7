import type { PageRequest, PageResult } from "@grantline/contracts";
import type { MessageContext, MessageHandler } from "@grantline/nats";

/** Executes one page request against its service. Throws `RetryableError`/`PermanentError` per the contract. */
export interface PageExecutor {
  execute(request: PageRequest, ctx: { signal: AbortSignal; deliveryCount: number }): Promise<PageOutcome>;
}

/** A fetched page, or — `skipped` set — a denial to record instead of failing the run. */
export interface PageOutcome {
  page: Record<string, unknown>;
  warnings: string[];
  skipped?: string | null;
  /** AWS calls made for this page (composites and retries count), and how many were throttled. */
  stats?: { awsCalls: number; throttled: number };
}

export interface PageResultPublisher {
  publish(result: PageResult, signal: AbortSignal): Promise<void>;
}

/** Runs cancelled since the process started (`CancelledRuns` of libs/nats). */
export interface CancelledRuns {
  isCancelled(runId: string): boolean;
  watch(runId: string, onCancel: () => void): () => void;
}

export interface FetchHandlerDeps {
  executor: PageExecutor;
  publisher: PageResultPublisher;
  /** Requests of a cancelled run are dropped (acked, no AWS call), and abandoned if it is cancelled mid-call. */
  cancelled?: CancelledRuns;
}

/** Page request in, raw page out. Knows nothing of the model: that is the mapper's job. */
export function createFetchHandler(deps: FetchHandlerDeps): MessageHandler<PageRequest> {
  return async (request, ctx) => {
    if (deps.cancelled?.isCancelled(request.runId)) {
      ctx.logger.debug({ taskId: request.taskId }, "run cancelled; request dropped");
      return;
    }
    // Most of a request's time is the wait for its budget: a cancel during it stops the call from being made.
    // One signal for the consumer's shutdown and the run's cancel, linked by hand: AbortSignal.any cost ~50 µs
    // a message on Node 20 (measured for issue 17).
    const run = new AbortController();
    let cancelled = false;
    const onShutdown = (): void => run.abort(ctx.signal.reason);
    if (ctx.signal.aborted) onShutdown();
    else ctx.signal.addEventListener("abort", onShutdown, { once: true });
    const unwatch = deps.cancelled?.watch(request.runId, () => {
      cancelled = true;
      run.abort(new Error("run cancelled"));
    });
    try {
      await fetchPage(deps, request, ctx, run.signal);
    } catch (err) {
      if (!cancelled) throw err;
      ctx.logger.debug({ taskId: request.taskId }, "run cancelled; request abandoned");
    } finally {
      unwatch?.();
      ctx.signal.removeEventListener("abort", onShutdown);
    }
  };
}

async function fetchPage(
  deps: FetchHandlerDeps,
  request: PageRequest,
  ctx: MessageContext,
  signal: AbortSignal,
): Promise<void> {
  const { page, warnings, skipped, stats } = await deps.executor.execute(request, {
    signal,
    deliveryCount: ctx.deliveryCount,
  });
  await deps.publisher.publish(
    {
      v: 1,
      request,
      page,
      fetchedAt: new Date().toISOString(),
      warnings,
      skipped: skipped ?? null,
      stats: stats ?? { awsCalls: 1, throttled: 0 },
    },
    signal,
  );
  ctx.logger.debug({ taskId: request.taskId, operation: request.operation }, "page fetched");
}
