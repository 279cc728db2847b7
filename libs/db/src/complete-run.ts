import { sql, type QueryCreator, type Transaction, type UpdateObject } from "kysely";
import type { RunStatus, Subjects } from "@grantline/contracts";
import type { Logger } from "@grantline/log";
import type { Db } from "./create-db.ts";
import type { Database } from "./database.ts";
import { deriveRunEnd, lockDerivations } from "./derive-owed.ts";
import { addEvents, noEvents } from "./event-counts.ts";
import { eventRow, insertOutbox, type EventContext } from "./outbox-rows.ts";
import { refreshGrantChains } from "./grant-chains.ts";
import { defaultPlans } from "./run-lock.ts";
import { refreshPlannerStatistics } from "./refresh-planner-statistics.ts";
import { runTotals } from "./runs.ts";
import { sweepSource } from "./sweep.ts";

/**
 * The caller's own task settled in the probe's statement, one round trip fewer per batch. The probe then
 * skips that task: its snapshot, taken before the update, still shows it pending.
 */
export interface TaskSettle {
  taskId: string;
  set: UpdateObject<Database, "tasks">;
}

function settleTask(db: QueryCreator<Database>, s: TaskSettle) {
  return db.updateTable("tasks").set(s.set).where("id", "=", s.taskId).returning("id");
}

/**
 * Finishes the run when no task is pending: a successful run derives the account × permission-set
 * entitlements and sweeps the whole source (revoking grants and deleting resources it did not see); either
 * outcome records the run's stats and queues `run.completed` or `run.failed`. Called inside the transaction
 * that just settled a task.
 *
 * Who writes Postgres: synced data (resources, entitlements, grants) changes only in `applyBatch` and here. The
 * writer calls both, as it settles a task (a batch, or a dead letter through `failTask`). The scheduler owns
 * the run life cycle (`startRun`'s run, root tasks and their outbox rows; `republishStalledTasks`) and reaches
 * synced data only through `completeIdleRuns`, which calls this same function for a run whose tasks have all
 * settled but which no writer finished. So finishing a run has one definition, whichever service notices that
 * the run is done.
 *
 * Fast path first: one index probe for any other pending task, no lock — the common answer is "not yet", and
 * counting or locking the run row on every batch serialized all writers and made each batch O(tasks). Only
 * when nothing else looks pending is the run row locked and the question asked again with a fresh snapshot.
 * Two writers settling the last two tasks at the same moment may each still see the other's task pending;
 * the leader's `completeIdleRuns` finishes such a run on its next tick.
 */
export async function completeRunIfDone(
  tx: Transaction<Database>,
  subjects: Subjects,
  runId: string,
  settle?: TaskSettle,
): Promise<RunStatus | null> {
  const probe = (settle ? tx.with("settled", (db) => settleTask(db, settle)) : tx)
    .selectFrom("tasks")
    .select("id")
    .where("run_id", "=", runId)
    // A literal, not a parameter: a prepared statement's generic plan can then use the partial index
    // `tasks_pending_by_run` and Postgres stops planning this probe for every batch.
    .where("status", "=", sql.lit("pending"));
  const other = await (settle ? probe.where("id", "<>", settle.taskId) : probe).limit(1).executeTakeFirst();
  if (other) return null;
  // What follows runs once per run and includes its heaviest statements: planned as Postgres chooses, even in
  // a batch transaction that forced generic plans for its scope sweep (apply-batch.ts).
  await defaultPlans(tx);
  const run = await tx
    .selectFrom("runs")
    .select(["id", "source_id", "status", "is_initial", "started_at", "kind"])
    .where("id", "=", runId)
    // NO KEY UPDATE, not UPDATE: it must not conflict with the KEY SHARE locks that inserting child tasks
    // (foreign key to runs) takes in concurrent batch transactions, or those deadlock against this one.
    .forNoKeyUpdate()
    .executeTakeFirst();
  // A feed run owns the feed polls forever: between two windows it has no pending task, and is not done.
  if (!run || run.status !== "running" || run.kind === "feed") return null;
  const counts = await tx
    .selectFrom("tasks")
    .select([
      "status",
      sql<number>`count(*)`.as("n"),
      // Provisioned pairs this run listed (pair route): the next run weighs them against its principals. Those
      // a permission set's accounts page read itself are its swept scopes (migration 0017).
      sql<number>`count(*) FILTER (WHERE operation = 'ListAccountAssignments' AND page_index = 0)
                  + coalesce(sum(scopes_swept) FILTER (WHERE operation = 'ListAccountsForProvisionedPermissionSet'), 0)`.as(
        "pairs",
      ),
    ])
    .where("run_id", "=", runId)
    .groupBy("status")
    .execute();
  const pairs = counts.reduce((n, c) => n + Number(c.pairs), 0);
  const by = Object.fromEntries(counts.map((c) => [c.status, Number(c.n)])) as Partial<
    Record<string, number>
  >;
  if ((by.pending ?? 0) > 0) return null;
  const failed = by.failed ?? 0;
  const status: RunStatus = failed > 0 ? "failed" : "succeeded";
  const now = new Date();
  const ctx: EventContext = { subjects, sourceId: run.source_id, runId, initial: run.is_initial, now };
  const totals = await runTotals(tx, runId);
  // Only a run that saw everything may conclude that what it did not see is gone. Derived grants come first so
  // that the sweep revokes those no longer derived, as it revokes any grant this run did not see.
  // A source's first run fills its tables faster than autovacuum analyzes them, and the derivations below then
  // plan with no statistics: nested loops of every Identity Center grant over every resource (the large
  // benchmark organization's run never finished its derivation). ANALYZE is transactional and sees the rows
  // this transaction can see; the post-commit refresh (`refreshPlannerStatistics`) serves the access queries.
  if (status === "succeeded" && run.is_initial)
    // Through the owner's SECURITY DEFINER function: ANALYZE needs table ownership, which a service role lacks.
    await sql`SELECT analyze_synced_tables()`.execute(tx);
  // A refresh run read a few objects: it concludes nothing from what it did not read (no source sweep), and
  // what its batches changed is derived again by the deriver (`deriveOwed`), whatever its outcome, not here.
  let finalEvents = noEvents();
  if (run.kind === "refresh") {
    await tx.updateTable("sources").set({ derive_run: runId }).where("id", "=", run.source_id).execute();
  } else if (status === "succeeded") {
    // Everything derived again from what this run saw: nothing a refresh run ended before it is still owed.
    await lockDerivations(tx, run.source_id);
    finalEvents = addEvents(await deriveRunEnd(tx, ctx), await sweepSource(tx, ctx));
    await tx.updateTable("sources").set({ derive_run: null }).where("id", "=", run.source_id).execute();
  }
  const refreshes = await settleRefreshQueue(tx, run, status);
  // The view's 2+-hop paths follow the grants this run leaves (succeeded or not: its batches changed them); a
  // refresh run's, with its derivations, in the deriver.
  if (run.kind !== "refresh") await refreshGrantChains(tx, run.source_id);
  // Every change event the run emitted: its batches' (upserts and scope sweeps, counted on their tasks), then
  // the derivations' and the final sweep's.
  const events = addEvents(totals.events, finalEvents);
  const stats = {
    awsCalls: totals.awsCalls,
    throttled: totals.throttled,
    rows: totals.rows,
    tasksDone: by.done ?? 0,
    tasksFailed: failed,
    ...events,
    durationMs: now.getTime() - new Date(run.started_at).getTime(),
    ...(pairs > 0 ? { assignmentPairs: pairs } : {}),
    ...(run.kind === "refresh" ? { refreshes } : {}),
  };
  await tx
    .updateTable("runs")
    .set({
      status,
      finished_at: now,
      stats: sql`stats || ${JSON.stringify(stats)}::jsonb`,
      warnings: JSON.stringify(totals.warnings),
      error: failed > 0 ? `${failed} task(s) failed permanently` : null,
    })
    .where("id", "=", runId)
    .execute();
  if (status === "succeeded" && run.kind === "full") {
    await tx
      .updateTable("sources")
      .set({ last_completed_run: runId })
      .where("id", "=", run.source_id)
      .execute();
  }
  await insertOutbox(tx, [
    eventRow(ctx, status === "succeeded" ? "run.completed" : "run.failed", `run/${runId}`, {
      runId,
      kind: run.kind,
      status,
      stats,
    }),
  ]);
  return status;
}

/**
 * The queued refreshes a finished run settles; returns how many it took. A refresh run's rows are done whatever
 * its outcome (a failed one leaves its warnings on the run, and the next full run reconciles: retrying a
 * refresh that failed permanently would fail again). A successful full run also settles the rows still waiting
 * that were queued before it started: it read everything after their changes.
 */
async function settleRefreshQueue(
  tx: Transaction<Database>,
  run: { id: string; source_id: string; started_at: Date | string; kind: string },
  status: RunStatus,
): Promise<number> {
  const taken = await sql<{ n: number }>`
    UPDATE refresh_queue SET done_at = now() WHERE run_id = ${run.id}::uuid AND done_at IS NULL
    RETURNING 1 AS n`.execute(tx);
  if (run.kind === "full" && status === "succeeded")
    await sql`
      UPDATE refresh_queue SET done_at = now(), run_id = ${run.id}::uuid
       WHERE source_id = ${run.source_id} AND run_id IS NULL AND enqueued_at < ${new Date(run.started_at)}`.execute(
      tx,
    );
  return taken.rows.length;
}

/**
 * The scheduler leader's safety net: finishes running runs that have no pending task left (two writers settled
 * the last tasks concurrently and each saw the other's as pending), through `completeRunIfDone` like a writer
 * would. Given a logger, it then refreshes planner statistics as a writer does after finishing a run
 * (`refreshPlannerStatistics`). Returns how many it finished.
 */
export async function completeIdleRuns(db: Db, subjects: Subjects, logger?: Logger): Promise<number> {
  const idle = await db
    .selectFrom("runs")
    .select("id")
    .where("status", "=", "running")
    .where("kind", "<>", "feed")
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom("tasks")
            .select("tasks.id")
            .whereRef("tasks.run_id", "=", "runs.id")
            .where("tasks.status", "=", "pending"),
        ),
      ),
    )
    .execute();
  let n = 0;
  for (const r of idle) {
    const status = await db.transaction().execute((tx) => completeRunIfDone(tx, subjects, r.id));
    if (!status) continue;
    n++;
    if (logger) await refreshPlannerStatistics(db, r.id, logger);
  }
  return n;
}
