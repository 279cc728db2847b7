import { sql } from "kysely";
import type { RunStatus, Subjects } from "@grantline/contracts";
import type { Db } from "./create-db.ts";
import { eventRow, insertOutbox, type EventContext } from "./outbox-rows.ts";
import { lockRun } from "./run-lock.ts";
import { runTotals } from "./runs.ts";

export type CancelRunResult =
  | {
      kind: "cancelled";
      runId: string;
      sourceId: string;
      /** Pending tasks settled as cancelled. */
      tasksCancelled: number;
      /** Page requests still waiting in the outbox, dropped before they were ever published. */
      requestsDropped: number;
    }
  /** An earlier request cancelled it: cancelling is idempotent. */
  | { kind: "already-cancelled"; runId: string; sourceId: string }
  /** It ended on its own (succeeded or failed) before the request. */
  | { kind: "finished"; runId: string; sourceId: string; status: RunStatus }
  | { kind: "unknown"; runId: string };

/** Thrown inside the transaction to roll it back when the run finished while the cancel waited for it. */
class RunFinished extends Error {
  constructor(readonly status: RunStatus) {
    super(`run finished (${status})`);
  }
}

/**
 * Cancels a running run in one transaction: its pending tasks settle as `cancelled`, the outbox rows that would
 * still publish its page requests are dropped, the run becomes `cancelled` with its counters, and a
 * `run.cancelled` event goes to the outbox. Messages already in the streams are the caller's to purge
 * (`purgeSourceWork`); any that slip through reach a writer that ignores batches of a run not running.
 *
 * The exclusive run lock (see `lockRun`) waits for the batches being applied, so none of them can add a child
 * task after the pending ones were settled; a batch applied after the cancel finds its task settled.
 */
export async function cancelRun(
  db: Db,
  subjects: Subjects,
  runId: string,
  o: { signal?: AbortSignal } = {},
): Promise<CancelRunResult> {
  o.signal?.throwIfAborted();
  try {
    return await db.transaction().execute(async (tx): Promise<CancelRunResult> => {
      const before = await tx
        .selectFrom("runs")
        .select(["source_id", "status", "kind"])
        .where("id", "=", runId)
        .executeTakeFirst();
      // The feed run is not a sync: cancelling it would stop the source's feeds (disable them in the config).
      if (!before || before.kind === "feed") return { kind: "unknown", runId };
      if (before.status === "cancelled")
        return { kind: "already-cancelled", runId, sourceId: before.source_id };
      if (before.status !== "running")
        return { kind: "finished", runId, sourceId: before.source_id, status: before.status };

      await lockRun(tx, runId, "exclusive");
      const cancelled = await tx
        .updateTable("tasks")
        .set({ status: "cancelled", done_at: new Date(), error: "run cancelled" })
        .where("run_id", "=", runId)
        .where("status", "=", "pending")
        .returning("id")
        .execute();
      // Requests of this run the outbox has not published yet (first publishes and stalled-task re-publishes
      // alike). A row being published right now is locked by the publisher; this waits, finds it published,
      // and leaves it to the stream purge that follows the commit.
      const dropped = await tx
        .deleteFrom("outbox")
        .where("published_at", "is", null)
        .where(sql<boolean>`starts_with(subject, ${`${subjects.prefix}.page.req.${before.source_id}.`})`)
        .where(sql<boolean>`(payload::jsonb ->> 'runId') = ${runId}`)
        .executeTakeFirst();
      // Locked after the tasks, as a batch's completion locks it after its task: the run may have finished
      // (its last task settled) while this transaction waited.
      const run = await tx
        .selectFrom("runs")
        .select(["source_id", "status", "is_initial", "started_at"])
        .where("id", "=", runId)
        .forNoKeyUpdate()
        .executeTakeFirstOrThrow();
      if (run.status !== "running") throw new RunFinished(run.status);

      const now = new Date();
      const totals = await sql<{
        done: number;
        failed: number;
        cancelled: number;
        aws_calls: number;
        throttled: number;
        rows: number;
      }>`
        SELECT count(*) FILTER (WHERE status = 'done')::int AS done,
               count(*) FILTER (WHERE status = 'failed')::int AS failed,
               count(*) FILTER (WHERE status = 'cancelled')::int AS cancelled,
               COALESCE(sum(aws_calls), 0)::bigint AS aws_calls, COALESCE(sum(throttled), 0)::bigint AS throttled,
               COALESCE(sum(rows_written), 0)::bigint AS rows
          FROM tasks WHERE run_id = ${runId}::uuid`.execute(tx);
      const t = totals.rows[0];
      const stats = {
        awsCalls: Number(t?.aws_calls ?? 0),
        throttled: Number(t?.throttled ?? 0),
        rows: Number(t?.rows ?? 0),
        tasksDone: Number(t?.done ?? 0),
        tasksFailed: Number(t?.failed ?? 0),
        tasksCancelled: Number(t?.cancelled ?? 0),
        durationMs: now.getTime() - new Date(run.started_at).getTime(),
        // The changes its settled batches made stand (nothing is rolled back): say how many.
        ...(await runTotals(tx, runId)).events,
      };
      await tx
        .updateTable("runs")
        .set({
          status: "cancelled",
          finished_at: now,
          stats: sql`stats || ${JSON.stringify(stats)}::jsonb`,
          error: "cancelled by request",
        })
        .where("id", "=", runId)
        .execute();
      const ctx: EventContext = {
        subjects,
        sourceId: run.source_id,
        runId,
        initial: run.is_initial,
        now,
      };
      await insertOutbox(tx, [
        eventRow(ctx, "run.cancelled", `run/${runId}`, { runId, status: "cancelled", stats }),
      ]);
      return {
        kind: "cancelled",
        runId,
        sourceId: run.source_id,
        tasksCancelled: cancelled.length,
        requestsDropped: Number(dropped.numDeletedRows),
      };
    });
  } catch (err) {
    if (!(err instanceof RunFinished)) throw err;
    const run = await db
      .selectFrom("runs")
      .select("source_id")
      .where("id", "=", runId)
      .executeTakeFirstOrThrow();
    return err.status === "cancelled"
      ? { kind: "already-cancelled", runId, sourceId: run.source_id }
      : { kind: "finished", runId, sourceId: run.source_id, status: err.status };
  }
}
