import type { PageRequest, PageResult } from "@grantline/contracts";
import type { MessageHandler } from "@grantline/nats";

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

export interface FetchHandlerDeps {
  executor: PageExecutor;
  publisher: PageResultPublisher;
}

/** Page request in, raw page out. Knows nothing of the model: that is the mapper's job. */
export function createFetchHandler(deps: FetchHandlerDeps): MessageHandler<PageRequest> {
  return async (request, ctx) => {
    const { page, warnings, skipped, stats } = await deps.executor.execute(request, {
      signal: ctx.signal,
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
      ctx.signal,
    );
    ctx.logger.debug({ taskId: request.taskId, operation: request.operation }, "page fetched");
  };
}
