import { RetryableError, type DeadLetter, type PageRequest } from "@grantline/contracts";
import type { Logger } from "@grantline/log";
import type { MessageContext, MessageHandler } from "@grantline/nats";

/** A source whose AWS calls keep failing as "not answering", as `/readyz` reports it. */
export interface SourceFailure {
  since: string;
  /** Failed page requests in a row (any of the source's tasks), with no success between. */
  failures: number;
  error: string;
}

export interface SourceHealthDeps {
  /** Publishes a notice letter (`DeadLetter.notice`): the writer turns it into a warning on the run. */
  notify(letter: DeadLetter, msgID: string): Promise<unknown>;
  /** `grantline_source_failing{source}`: 1 while the source is failing. */
  failingGauge: { set(labels: { source: string }, value: number): void };
  /** The fetcher's `AWS_UNAVAILABLE_GIVE_UP_MS`, named in the warning. */
  giveUpAfterMs: number;
  logger: Logger;
  /** Failures in a row after which a source is failing: one may be a blip. @default 2 */
  failingAfter?: number;
  /**
   * A failing source with no failure for this long is forgotten: its runs have given up (a still-failing
   * message is retried at least every 60 s, the longest backoff). @default 120000
   */
  forgetAfterMs?: number;
  now?: () => number;
}

export interface SourceHealth {
  /** Wraps the fetch handler: counts each request's outcome against its source. */
  observe(handler: MessageHandler<PageRequest>): MessageHandler<PageRequest>;
  /** `/readyz`'s `degraded` detail: the sources failing now, by id; empty while none is. */
  degraded(): { sources?: Record<string, SourceFailure> };
}

/**
 * Makes a source whose AWS endpoint is unreachable or answers 5xx visible at once, instead of after the give-up
 * time: its requests are retried (and then dead-lettered) as before, but after `failingAfter` failures in a row
 * the source is reported by the gauge and readiness detail, and each of its runs gets one warning.
 * Throttling and configuration errors do not count: only failures that say "AWS is not answering"
 * (`RetryableError.giveUpAfterMs`, set by libs/aws for exactly those).
 */
export function createSourceHealth(deps: SourceHealthDeps): SourceHealth {
  const failingAfter = deps.failingAfter ?? 2;
  const forgetAfterMs = deps.forgetAfterMs ?? 120_000;
  const now = deps.now ?? Date.now;
  const sources = new Map<string, SourceFailure & { lastAt: number }>();
  // Runs warned by this replica; other replicas' notices for the same run are dropped by the msgID.
  const warned = new Set<string>();

  function recover(sourceId: string): void {
    if (!sources.delete(sourceId)) return;
    deps.failingGauge.set({ source: sourceId }, 0);
    deps.logger.info({ sourceId }, "source answering again");
  }

  function forgetStale(): void {
    for (const [id, s] of sources) if (now() - s.lastAt > forgetAfterMs) recover(id);
  }

  async function failed(request: PageRequest, err: RetryableError, ctx: MessageContext) {
    const s = sources.get(request.sourceId) ?? {
      since: new Date(now()).toISOString(),
      failures: 0,
      error: "",
      lastAt: 0,
    };
    s.failures++;
    s.error = err.message;
    s.lastAt = now();
    sources.set(request.sourceId, s);
    if (s.failures < failingAfter) return;
    if (s.failures === failingAfter) {
      deps.failingGauge.set({ source: request.sourceId }, 1);
      deps.logger.warn({ sourceId: request.sourceId, error: s.error }, "source failing: AWS not answering");
    }
    if (warned.has(request.runId)) return;
    if (warned.size >= 1000) warned.clear();
    warned.add(request.runId);
    const letter: DeadLetter = {
      v: 1,
      stage: "fetcher",
      reason: "source-failing",
      error:
        `source ${request.sourceId} failing since ${s.since}: ${s.error}; still retrying, the run fails ` +
        `${deps.giveUpAfterMs} ms after a request's first attempt (AWS_UNAVAILABLE_GIVE_UP_MS)`,
      subject: ctx.subject,
      streamSeq: ctx.seq,
      deliveryCount: ctx.deliveryCount,
      payload: "",
      failedAt: new Date(now()).toISOString(),
      taskId: request.taskId,
      runId: request.runId,
      notice: true,
    };
    // A notice that cannot be sent must not change the request's outcome: the gauge and readiness still say it.
    await deps
      .notify(letter, `notice:${request.runId}:${request.sourceId}`)
      .catch((e: unknown) => deps.logger.warn({ err: e }, "source-failing notice not published"));
  }

  return {
    observe: (handler) => async (request, ctx) => {
      forgetStale();
      try {
        await handler(request, ctx);
      } catch (err) {
        if (err instanceof RetryableError && err.giveUpAfterMs !== undefined) await failed(request, err, ctx);
        throw err;
      }
      recover(request.sourceId);
    },
    degraded() {
      forgetStale();
      const out: Record<string, SourceFailure> = {};
      for (const [id, { since, failures, error }] of sources)
        if (failures >= failingAfter) out[id] = { since, failures, error };
      return Object.keys(out).length > 0 ? { sources: out } : {};
    },
  };
}
