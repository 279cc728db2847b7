import { sql, type Transaction } from "kysely";
import type { PageRequest, RunKind, RunStartedData, RunSummary, Subjects } from "@grantline/contracts";
import type { Db } from "./create-db.ts";
import type { Database } from "./database.ts";
import { enqueueTasks } from "./enqueue-tasks.ts";
import type { EventCounts } from "./event-counts.ts";
import { eventRow, insertOutbox, type EventContext } from "./outbox-rows.ts";

export interface StartRunInput {
  sourceId: string;
  runId: string;
  roots: PageRequest[];
  subjects: Subjects;
}

/**
 * Starts a run with its root tasks, or returns the run already active for the source — one active run per
 * source, enforced under a row lock on the source (and by a unique index should anything bypass this).
 */
export async function startRun(
  db: Db,
  i: StartRunInput,
): Promise<{ runId: string; alreadyRunning: boolean }> {
  return db.transaction().execute(async (tx) => {
    const active = await lockSourceForRun(tx, i.sourceId);
    if (active) return { runId: active, alreadyRunning: true };
    await insertRun(tx, i.subjects, { ...i, kind: "full" });
    return { runId: i.runId, alreadyRunning: false };
  });
}

/**
 * Locks the source's row (creating it if new) and returns the id of its active full or refresh run, if any: the
 * one-active-run rule that keeps sweeps from racing. The long-lived feed run does not count.
 */
export async function lockSourceForRun(tx: Transaction<Database>, sourceId: string): Promise<string | null> {
  await tx
    .insertInto("sources")
    .values({ id: sourceId, last_completed_run: null })
    .onConflict((oc) => oc.column("id").doNothing())
    .execute();
  await tx
    .selectFrom("sources")
    .select("id")
    .where("id", "=", sourceId)
    .forUpdate()
    .executeTakeFirstOrThrow();
  const active = await tx
    .selectFrom("runs")
    .select("id")
    .where("source_id", "=", sourceId)
    .where("status", "=", "running")
    .where("kind", "<>", "feed")
    .executeTakeFirst();
  return active?.id ?? null;
}

/** Inserts a run of `kind` with its root tasks and queues its `run.started`; the caller holds the source lock. */
export async function insertRun(
  tx: Transaction<Database>,
  subjects: Subjects,
  i: { sourceId: string; runId: string; roots: PageRequest[]; kind: RunKind },
): Promise<void> {
  const previous = await tx
    .selectFrom("runs")
    .select("id")
    .where("source_id", "=", i.sourceId)
    .where("status", "=", "succeeded")
    .limit(1)
    .executeTakeFirst();
  // A refresh never loads a source for the first time: its events are changes, not an initial load.
  const initial = previous === undefined && i.kind === "full";
  await tx
    .insertInto("runs")
    .values({
      id: i.runId,
      source_id: i.sourceId,
      kind: i.kind,
      is_initial: initial,
      stats: "{}",
      warnings: "[]",
      finished_at: null,
      error: null,
    })
    .execute();
  await enqueueTasks(tx, subjects, i.roots, null);
  const ctx: EventContext = { subjects, sourceId: i.sourceId, runId: i.runId, initial, now: new Date() };
  await insertOutbox(tx, [
    eventRow(ctx, "run.started", `run/${i.runId}`, {
      runId: i.runId,
      kind: i.kind,
      initialLoad: initial,
    } satisfies RunStartedData),
  ]);
}

/** Counters, change events and warnings of a run, summed over its tasks. */
export async function runTotals(
  db: Db | Transaction<Database>,
  runId: string,
): Promise<{ awsCalls: number; throttled: number; rows: number; events: EventCounts; warnings: string[] }> {
  const r = await sql<{
    aws_calls: number;
    throttled: number;
    rows: number;
    gc: number;
    gr: number;
    rc: number;
    ru: number;
    rd: number;
    warnings: string[] | null;
  }>`
    SELECT COALESCE(sum(aws_calls), 0)::bigint AS aws_calls, COALESCE(sum(throttled), 0)::bigint AS throttled,
           COALESCE(sum(rows_written), 0)::bigint AS rows,
           COALESCE(sum(grants_created), 0)::bigint AS gc, COALESCE(sum(grants_revoked), 0)::bigint AS gr,
           COALESCE(sum(resources_created), 0)::bigint AS rc, COALESCE(sum(resources_updated), 0)::bigint AS ru,
           COALESCE(sum(resources_deleted), 0)::bigint AS rd,
           (SELECT array_agg(w) FROM (SELECT unnest(warnings) AS w FROM tasks WHERE run_id = ${runId}::uuid LIMIT 1000) x) AS warnings
      FROM tasks WHERE run_id = ${runId}::uuid`.execute(db);
  const row = r.rows[0];
  return {
    awsCalls: Number(row?.aws_calls ?? 0),
    throttled: Number(row?.throttled ?? 0),
    rows: Number(row?.rows ?? 0),
    events: {
      grantsCreated: Number(row?.gc ?? 0),
      grantsRevoked: Number(row?.gr ?? 0),
      resourcesCreated: Number(row?.rc ?? 0),
      resourcesUpdated: Number(row?.ru ?? 0),
      resourcesDeleted: Number(row?.rd ?? 0),
    },
    warnings: row?.warnings ?? [],
  };
}

/** Recent runs with their progress, newest first. */
export async function runSummaries(
  db: Db,
  f: { sourceId?: string; runId?: string; limit?: number; kind?: "full" | "refresh" | "feed" } = {},
): Promise<RunSummary[]> {
  let q = db
    .selectFrom("runs")
    .select([
      "id",
      "source_id",
      "kind",
      "status",
      "started_at",
      "finished_at",
      "warnings",
      "stats",
      sql<number>`(SELECT count(*) FROM tasks t WHERE t.run_id = runs.id AND t.status = 'done')`.as("done"),
      sql<number>`(SELECT count(*) FROM tasks t WHERE t.run_id = runs.id AND t.status = 'pending')`.as(
        "pending",
      ),
      sql<number>`(SELECT count(*) FROM tasks t WHERE t.run_id = runs.id AND t.status = 'failed')`.as(
        "failed",
      ),
    ])
    // Syncs only: the feed run never ends and is reported as feeds (feedStatuses).
    .where("kind", "<>", "feed")
    .orderBy("started_at", "desc")
    .limit(f.limit ?? 20);
  if (f.sourceId) q = q.where("source_id", "=", f.sourceId);
  if (f.runId) q = q.where("id", "=", f.runId);
  if (f.kind) q = q.where("kind", "=", f.kind);
  const rows = await q.execute();
  // A running run's counters are still spread over its tasks; a finished one has them on its row.
  const live = new Map(
    await Promise.all(
      rows.filter((r) => r.status === "running").map(async (r) => [r.id, await runTotals(db, r.id)] as const),
    ),
  );
  return rows.map((r) => ({
    runId: r.id,
    sourceId: r.source_id,
    kind: r.kind as "full" | "refresh" | "feed",
    status: r.status,
    startedAt: new Date(r.started_at).toISOString(),
    finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null,
    tasksDone: Number(r.done),
    tasksPending: Number(r.pending),
    tasksFailed: Number(r.failed),
    warnings: live.get(r.id)?.warnings ?? r.warnings,
    stats: live.has(r.id)
      ? {
          awsCalls: live.get(r.id)!.awsCalls,
          throttled: live.get(r.id)!.throttled,
          rows: live.get(r.id)!.rows,
        }
      : r.stats,
  }));
}

/**
 * What the scheduler weighs to pick a run's assignment route: the source's users and groups as of its last run,
 * and the provisioned pairs of the latest successful run that listed them (`null` when none has).
 */
export async function assignmentCounts(
  db: Db,
  sourceId: string,
): Promise<{ principals: number; pairs: number | null }> {
  const principals = await db
    .selectFrom("resources")
    .select(sql<number>`count(*)`.as("n"))
    .where("source_id", "=", sourceId)
    .where("type", "in", ["sso_user", "sso_group"])
    .where("deleted_at", "is", null)
    .executeTakeFirstOrThrow();
  const last = await db
    .selectFrom("runs")
    .select(sql<number>`(stats->>'assignmentPairs')::int`.as("pairs"))
    .where("source_id", "=", sourceId)
    .where("status", "=", "succeeded")
    .where(sql<boolean>`stats ? 'assignmentPairs'`)
    .orderBy("started_at", "desc")
    .limit(1)
    .executeTakeFirst();
  return { principals: Number(principals.n), pairs: last ? Number(last.pairs) : null };
}
