import type { DeadLetter, ResultBatch, RunStatus } from "@grantline/contracts";
import type { MessageHandler } from "@grantline/nats";

export interface BatchStore {
  apply(batch: ResultBatch): Promise<{
    applied: boolean;
    runFinished: RunStatus | null;
    rows: number;
    events: number;
    children: number;
  }>;
  failTask(letter: DeadLetter): Promise<RunStatus | null>;
}

export interface WriteHandlerDeps {
  store: BatchStore;
  /** Wakes the outbox publisher after a commit that wrote outbox rows. */
  kickOutbox(): void;
  onApplied?(rows: number): void;
  /** After a commit that finished a run (e.g. refreshing planner statistics); must not throw. */
  afterRun?(runId: string): Promise<unknown>;
}

/** Commits one batch (ack follows the commit, in the consume loop), then wakes the outbox publisher. */
export function createWriteHandler(deps: WriteHandlerDeps): MessageHandler<ResultBatch> {
  return async (batch, ctx) => {
    const r = await deps.store.apply(batch);
    if (!r.applied) {
      ctx.logger.debug({ taskId: batch.taskId }, "batch already applied or run not running; nothing to do");
      return;
    }
    deps.onApplied?.(r.rows);
    deps.kickOutbox();
    // Counted on the feed's cursor; named here, once (the batch applied), so an operator can look each one up.
    const unknown = batch.feed?.records.filter((x) => x.outcome === "unknown") ?? [];
    if (unknown.length > 0)
      ctx.logger.warn(
        {
          sourceId: batch.sourceId,
          feedId: batch.feed!.feedId,
          events: unknown.map((x) => ({ eventId: x.eventId, eventName: x.eventName })),
        },
        "feed events not understood (refreshed more broadly where the source allows)",
      );
    ctx.logger.debug({ rows: r.rows, events: r.events, children: r.children }, "batch applied");
    if (r.runFinished) {
      ctx.logger.info(
        { runId: batch.runId, sourceId: batch.sourceId, status: r.runFinished },
        "run finished",
      );
      await deps.afterRun?.(batch.runId);
    }
  };
}

/** Records a dead-lettered task as failed so its run can finish (as failed) instead of waiting forever. */
export function createDeadLetterHandler(deps: WriteHandlerDeps): MessageHandler<DeadLetter> {
  return async (letter, ctx) => {
    const finished = await deps.store.failTask(letter);
    deps.kickOutbox();
    ctx.logger.warn(
      { taskId: letter.taskId, stage: letter.stage, reason: letter.reason, runFinished: finished },
      "task failed permanently",
    );
    if (finished && letter.runId) await deps.afterRun?.(letter.runId);
  };
}
