import {
  PermanentError,
  type BatchLane,
  type DeadLetter,
  type ResultBatch,
  type RunStatus,
} from "@grantline/contracts";
import type { MessageHandler } from "@grantline/nats";

export interface BatchStore {
  /** `lane`: the consumer it came from; a chain batch's commit is what queued work waits for. */
  apply(
    batch: ResultBatch,
    lane: BatchLane,
  ): Promise<{
    applied: boolean;
    runFinished: RunStatus | null;
    rows: number;
    events: number;
    children: number;
  }>;
  failTask(letter: DeadLetter): Promise<RunStatus | null>;
  /** A notice letter: adds its error to the task's warnings (once), leaves the task pending. */
  warnTask(letter: DeadLetter): Promise<boolean>;
}

/** What Postgres refuses as data, and how to make a batch storable (libs/db `isUnstorableDataError`, `storableBatch`). */
export interface DataRepair {
  isDataError(err: unknown): boolean;
  storable(batch: ResultBatch): ResultBatch;
}

export interface WriteHandlerDeps {
  store: BatchStore;
  repair: DataRepair;
  /** Wakes the outbox publisher after a commit that wrote outbox rows. */
  kickOutbox(): void;
  onApplied?(rows: number): void;
  /** After a commit that finished a run (e.g. refreshing planner statistics); must not throw. */
  afterRun?(runId: string): Promise<unknown>;
}

/**
 * Commits one batch (ack follows the commit, in the consume loop), then wakes the outbox publisher. `lane`: the
 * consumer the handler serves.
 */
export function createWriteHandler(
  deps: WriteHandlerDeps,
  lane: BatchLane = "bulk",
): MessageHandler<ResultBatch> {
  return async (batch, ctx) => {
    const r = await applyStorable(deps, batch, lane, ctx.logger);
    if (!r.applied) {
      ctx.logger.debug({ taskId: batch.taskId }, "batch already applied or run not running; nothing to do");
      return;
    }
    deps.onApplied?.(r.rows);
    deps.kickOutbox();
    // Counted on the feed's cursor; named here, once (the batch applied), so an operator can look each one up.
    for (const page of [...(batch.feed ? [batch.feed] : []), ...(batch.feeds ?? [])]) {
      const unknown = page.records.filter((x) => x.outcome === "unknown");
      if (unknown.length > 0)
        ctx.logger.warn(
          {
            sourceId: batch.sourceId,
            feedId: page.feedId,
            events: unknown.map((x) => ({ eventId: x.eventId, eventName: x.eventName })),
          },
          "feed events not understood (refreshed more broadly where the source allows)",
        );
    }
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

/**
 * Applies a batch; when Postgres refuses its data (a NUL in a name, an id too long to index) — which every
 * retry would repeat for ~25 minutes and then fail the run, and every later run — the rows are cleaned or
 * skipped with a warning on the run and the rest of the page is applied. If even that is refused, the batch is
 * poison: dead-lettered, never a retry loop.
 */
async function applyStorable(
  deps: WriteHandlerDeps,
  batch: ResultBatch,
  lane: BatchLane,
  logger: { warn(o: object, msg: string): void },
): ReturnType<BatchStore["apply"]> {
  try {
    return await deps.store.apply(batch, lane);
  } catch (err) {
    if (!deps.repair.isDataError(err)) throw err;
    const cleaned = deps.repair.storable(batch);
    logger.warn(
      { err, taskId: batch.taskId, warnings: cleaned.warnings.length - batch.warnings.length },
      "batch holds data Postgres cannot store; applying it cleaned",
    );
    try {
      return await deps.store.apply(cleaned, lane);
    } catch (again) {
      if (deps.repair.isDataError(again))
        throw new PermanentError(
          "unstorable-data",
          `Postgres refuses the batch even cleaned: ${(again as Error).message}`,
          {
            cause: again,
          },
        );
      throw again;
    }
  }
}

/** Records a dead-lettered task as failed so its run can finish (as failed) instead of waiting forever. */
export function createDeadLetterHandler(deps: WriteHandlerDeps): MessageHandler<DeadLetter> {
  return async (letter, ctx) => {
    if (letter.notice) {
      const added = await deps.store.warnTask(letter);
      ctx.logger.warn(
        { taskId: letter.taskId, stage: letter.stage, added },
        "task still failing: warning added",
      );
      return;
    }
    const finished = await deps.store.failTask(letter);
    deps.kickOutbox();
    ctx.logger.warn(
      { taskId: letter.taskId, stage: letter.stage, reason: letter.reason, runFinished: finished },
      "task failed permanently",
    );
    if (finished && letter.runId) await deps.afterRun?.(letter.runId);
  };
}
