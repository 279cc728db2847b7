import { sql, type Transaction } from "kysely";
import { ACCOUNT_PERMISSION_SET_ENTITLEMENT } from "@grantline/contracts";
import type { DeadLetter, PageRequest, RunStatus, RunSummary, Subjects } from "@grantline/contracts";
import type { Db } from "./create-db.ts";
import type { Database } from "./database.ts";
import { enqueueTasks, eventRow, insertOutbox, requestRow, type EventContext } from "./outbox-rows.ts";
import { sweepSource } from "./sweep.ts";

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
    await tx
      .insertInto("sources")
      .values({ id: i.sourceId, last_completed_run: null })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
    await tx
      .selectFrom("sources")
      .select("id")
      .where("id", "=", i.sourceId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const active = await tx
      .selectFrom("runs")
      .select("id")
      .where("source_id", "=", i.sourceId)
      .where("status", "=", "running")
      .executeTakeFirst();
    if (active) return { runId: active.id, alreadyRunning: true };
    const previous = await tx
      .selectFrom("runs")
      .select("id")
      .where("source_id", "=", i.sourceId)
      .where("status", "=", "succeeded")
      .limit(1)
      .executeTakeFirst();
    const initial = previous === undefined;
    await tx
      .insertInto("runs")
      .values({
        id: i.runId,
        source_id: i.sourceId,
        is_initial: initial,
        stats: "{}",
        warnings: "[]",
        finished_at: null,
        error: null,
      })
      .execute();
    await enqueueTasks(tx, i.subjects, i.roots, null);
    const ctx: EventContext = {
      subjects: i.subjects,
      sourceId: i.sourceId,
      runId: i.runId,
      initial,
      now: new Date(),
    };
    await insertOutbox(tx, [
      eventRow(ctx, "run.started", `run/${i.runId}`, { runId: i.runId, kind: "full", initialLoad: initial }),
    ]);
    return { runId: i.runId, alreadyRunning: false };
  });
}

/**
 * Finishes the run when no task is pending. Called inside the transaction that just settled a task.
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
): Promise<RunStatus | null> {
  const other = await tx
    .selectFrom("tasks")
    .select("id")
    .where("run_id", "=", runId)
    .where("status", "=", "pending")
    .limit(1)
    .executeTakeFirst();
  if (other) return null;
  const run = await tx
    .selectFrom("runs")
    .select(["id", "source_id", "status", "is_initial", "started_at"])
    .where("id", "=", runId)
    // NO KEY UPDATE, not UPDATE: it must not conflict with the KEY SHARE locks that inserting child tasks
    // (foreign key to runs) takes in concurrent batch transactions, or those deadlock against this one.
    .forNoKeyUpdate()
    .executeTakeFirst();
  if (!run || run.status !== "running") return null;
  const counts = await tx
    .selectFrom("tasks")
    .select([
      "status",
      sql<number>`count(*)`.as("n"),
      // Provisioned pairs this run listed (pair route): the next run weighs them against its principals.
      sql<number>`count(*) FILTER (WHERE operation = 'ListAccountAssignments' AND page_index = 0)`.as(
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
  // Only a run that saw everything may conclude that what it did not see is gone.
  if (status === "succeeded") await deriveAccountPermissionSetEntitlements(tx, ctx);
  const swept = status === "succeeded" ? await sweepSource(tx, ctx) : { revoked: 0, deleted: 0 };
  const totals = await runTotals(tx, runId);
  const stats = {
    awsCalls: totals.awsCalls,
    throttled: totals.throttled,
    rows: totals.rows,
    tasksDone: by.done ?? 0,
    tasksFailed: failed,
    grantsRevoked: swept.revoked,
    resourcesDeleted: swept.deleted,
    durationMs: now.getTime() - new Date(run.started_at).getTime(),
    ...(pairs > 0 ? { assignmentPairs: pairs } : {}),
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
  if (status === "succeeded") {
    await tx
      .updateTable("sources")
      .set({ last_completed_run: runId })
      .where("id", "=", run.source_id)
      .execute();
  }
  await insertOutbox(tx, [
    eventRow(ctx, status === "succeeded" ? "run.completed" : "run.failed", `run/${runId}`, {
      runId,
      status,
      stats,
    }),
  ]);
  return status;
}

/** Marks the task a dead letter names as failed (it will never succeed) and lets the run finish. */
export async function failTask(db: Db, subjects: Subjects, letter: DeadLetter): Promise<RunStatus | null> {
  if (!letter.taskId) return null;
  const taskId = letter.taskId;
  return db.transaction().execute(async (tx) => {
    const t = await tx
      .updateTable("tasks")
      .set({
        status: "failed",
        done_at: new Date(),
        error: `${letter.stage}: ${letter.reason}: ${letter.error}`.slice(0, 2000),
        warnings: [`task ${taskId} dead-lettered at ${letter.stage}: ${letter.reason}`],
      })
      .where("id", "=", taskId)
      .where("status", "=", "pending")
      .returning("run_id")
      .executeTakeFirst();
    if (!t) return null;
    return completeRunIfDone(tx, subjects, t.run_id);
  });
}

/** Counters and warnings of a run, summed over its tasks. */
async function runTotals(
  db: Db | Transaction<Database>,
  runId: string,
): Promise<{ awsCalls: number; throttled: number; rows: number; warnings: string[] }> {
  const r = await sql<{ aws_calls: number; throttled: number; rows: number; warnings: string[] | null }>`
    SELECT COALESCE(sum(aws_calls), 0)::bigint AS aws_calls, COALESCE(sum(throttled), 0)::bigint AS throttled,
           COALESCE(sum(rows_written), 0)::bigint AS rows,
           (SELECT array_agg(w) FROM (SELECT unnest(warnings) AS w FROM tasks WHERE run_id = ${runId}::uuid LIMIT 1000) x) AS warnings
      FROM tasks WHERE run_id = ${runId}::uuid`.execute(db);
  const row = r.rows[0];
  return {
    awsCalls: Number(row?.aws_calls ?? 0),
    throttled: Number(row?.throttled ?? 0),
    rows: Number(row?.rows ?? 0),
    warnings: row?.warnings ?? [],
  };
}

/**
 * Pending tasks of running runs not published or re-published for `stalledMs`: their message was lost (or is
 * stuck). They get a fresh outbox row with a new msgID so JetStream does not drop it as a duplicate; if the
 * original was merely slow, the writer ignores the second batch for a task already done.
 */
export async function republishStalledTasks(
  db: Db,
  subjects: Subjects,
  stalledMs: number,
  limit = 1000,
): Promise<number> {
  return db.transaction().execute(async (tx) => {
    const rows = await tx
      .selectFrom("tasks")
      .innerJoin("runs", "runs.id", "tasks.run_id")
      .selectAll("tasks")
      .where("tasks.status", "=", "pending")
      .where("runs.status", "=", "running")
      .where("tasks.published_at", "<", new Date(Date.now() - stalledMs))
      .limit(limit)
      .forUpdate("tasks")
      .skipLocked()
      .execute();
    if (rows.length === 0) return 0;
    await insertOutbox(
      tx,
      rows.map((t) =>
        requestRow(
          subjects,
          {
            v: 1,
            taskId: t.id,
            runId: t.run_id,
            sourceId: t.source_id,
            service: t.service as PageRequest["service"],
            operation: t.operation,
            params: t.params,
            pageToken: t.page_token,
            accountId: t.account_id,
            scope: t.scope,
            pageIndex: t.page_index,
          },
          t.publish_count,
        ),
      ),
    );
    await tx
      .updateTable("tasks")
      .set({ published_at: new Date(), publish_count: sql`publish_count + 1` })
      .where(
        "id",
        "in",
        rows.map((r) => r.id),
      )
      .execute();
    return rows.length;
  });
}

/** Recent runs with their progress, newest first. */
export async function runSummaries(
  db: Db,
  f: { sourceId?: string; runId?: string; limit?: number } = {},
): Promise<RunSummary[]> {
  let q = db
    .selectFrom("runs")
    .select([
      "id",
      "source_id",
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
    .orderBy("started_at", "desc")
    .limit(f.limit ?? 20);
  if (f.sourceId) q = q.where("source_id", "=", f.sourceId);
  if (f.runId) q = q.where("id", "=", f.runId);
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
 * One entitlement per account × permission set — every set, provisioned or not, as baton-aws models it, so
 * any set can be requested on any account. It is the product of two lists no single page sees, so it is
 * derived here, in one set-based statement, from the accounts and permission sets this run saw.
 */
async function deriveAccountPermissionSetEntitlements(
  tx: Transaction<Database>,
  ctx: EventContext,
): Promise<void> {
  // Spelled as the model spells these ids (libs/model accountPermissionSetEntitlementId): the parts are
  // parameters from the one contract descriptor, never retyped here.
  const d = ACCOUNT_PERMISSION_SET_ENTITLEMENT;
  await sql`
    INSERT INTO entitlements AS e (source_id, id, resource_type, resource_id, slug, name, attrs, scope, first_seen_run, last_seen_run)
    SELECT a.source_id, a.id || ${d.idSeparator}::text || ps.id, ${d.resourceType}::text, a.id, ${d.slugPrefix}::text || ps.id, ps.name || ' access',
           jsonb_build_object('permissionSetArn', ps.id, 'permissionSetName', ps.name), NULL, ${ctx.runId}::uuid, ${ctx.runId}::uuid
      FROM resources a
      JOIN resources ps ON ps.source_id = a.source_id AND ps.type = ${d.permissionSetType}::text AND ps.deleted_at IS NULL AND ps.last_seen_run = ${ctx.runId}::uuid
     WHERE a.source_id = ${ctx.sourceId} AND a.type = ${d.resourceType}::text AND a.deleted_at IS NULL AND a.last_seen_run = ${ctx.runId}::uuid
    ON CONFLICT (source_id, id) DO UPDATE SET
      name = EXCLUDED.name, attrs = EXCLUDED.attrs, last_seen_run = EXCLUDED.last_seen_run, deleted_at = NULL`.execute(
    tx,
  );
}

/**
 * The leader's safety net: finishes running runs that have no pending task left (two writers settled the last
 * tasks concurrently and each saw the other's as pending). Returns how many it finished.
 */
export async function completeIdleRuns(db: Db, subjects: Subjects): Promise<number> {
  const idle = await db
    .selectFrom("runs")
    .select("id")
    .where("status", "=", "running")
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
    if (status) n++;
  }
  return n;
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
