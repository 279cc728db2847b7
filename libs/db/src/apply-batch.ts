import { sql, type Transaction } from "kysely";
import {
  PermanentError,
  RetryableError,
  type Entitlement,
  type Resource,
  type ResultBatch,
  type RunStatus,
  type Subjects,
} from "@grantline/contracts";
import type { Db } from "./create-db.ts";
import type { Database } from "./database.ts";
import { completeRunIfDone } from "./complete-run.ts";
import { enqueueTasks } from "./enqueue-tasks.ts";
import { applyFeedPage } from "./feed-cursors.ts";
import { compactOutbox, paddedSequence } from "./compact-events.ts";
import { addEvents, noEvents, totalEvents, type EventCounts } from "./event-counts.ts";
import type { EventContext } from "./outbox-rows.ts";
import { lockRun } from "./run-lock.ts";
import { keepScope, sweepObject, sweepScope, sweepScopes } from "./sweep.ts";
import { settleTasks, type TaskSettleRow } from "./settle-tasks.ts";
import { storeTrustExternalIds } from "./trust-external-ids.ts";
import { dedupe, upsertGrants } from "./upsert-grants.ts";

export interface ApplyResult {
  /** False when the batch was a repeat (task already settled) or its run is no longer running. */
  applied: boolean;
  /** Set when this batch finished its run. */
  runFinished: RunStatus | null;
  rows: number;
  events: number;
  children: number;
}

/** Upserts resources; their `resource.created`/`resource.updated` events go to one compact outbox row. */
async function upsertResources(
  tx: Transaction<Database>,
  ctx: EventContext,
  scope: string | null,
  input: Resource[],
): Promise<EventCounts> {
  if (input.length === 0) return noEvents();
  const rs = dedupe(input, (r) => `${r.type}\u0000${r.id}`);
  // One statement per kind, which tells created from updated from unchanged without a second round trip.
  const res = await sql<{ created: number; updated: number }>`
    WITH input AS (
      SELECT * FROM unnest(${rs.map((r) => r.type)}::text[], ${rs.map((r) => r.id)}::text[], ${rs.map((r) => r.parentType)}::text[],
                           ${rs.map((r) => r.parentId)}::text[], ${rs.map((r) => r.name)}::text[], ${rs.map((r) => JSON.stringify(r.attrs))}::jsonb[],
                           ${rs.map((r) => (r.scope === undefined ? scope : r.scope))}::text[])
        AS t(type, id, parent_type, parent_id, name, attrs, scope)
    ), up AS (
      INSERT INTO resources AS r (source_id, type, id, parent_type, parent_id, name, attrs, scope, first_seen_run, last_seen_run)
      SELECT ${ctx.sourceId}, type, id, parent_type, parent_id, name, attrs, input.scope, ${ctx.runId}::uuid, ${ctx.runId}::uuid FROM input
      ON CONFLICT (source_id, type, id) DO UPDATE SET
        parent_type = EXCLUDED.parent_type, parent_id = EXCLUDED.parent_id, name = EXCLUDED.name, attrs = EXCLUDED.attrs,
        scope = EXCLUDED.scope, last_seen_run = EXCLUDED.last_seen_run, deleted_at = NULL,
        updated_at = CASE WHEN r.deleted_at IS NOT NULL OR (r.name, r.attrs, r.parent_type, r.parent_id)
                        IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.attrs, EXCLUDED.parent_type, EXCLUDED.parent_id)
                        THEN now() ELSE r.updated_at END
      RETURNING r.type, r.id, r.name, r.attrs, r.parent_type, r.parent_id, r.xmax = 0 AS inserted
    ), probed AS (
      -- A row the upsert inserted is created. For one it updated, its old version — what this statement's
      -- snapshot still shows (no part of a statement sees another part's writes) — tells created (it was deleted),
      -- updated (it differs) or unchanged: a primary-key probe for those rows alone, none on a first load. LIMIT 1
      -- keeps the planner from flattening it into a join, which it ran as a hash of the source's whole table per
      -- batch (stale statistics during a first load): O(table) per batch, quadratic over a run.
      SELECT up.*, o.found IS NOT NULL AND o.deleted_at IS NULL AS was_live,
             (o.name, o.attrs, o.parent_type, o.parent_id) IS DISTINCT FROM (up.name, up.attrs, up.parent_type, up.parent_id) AS differs
        FROM up LEFT JOIN LATERAL (
          SELECT r.name, r.attrs, r.parent_type, r.parent_id, r.deleted_at, TRUE AS found FROM resources r
           WHERE NOT up.inserted AND r.source_id = ${ctx.sourceId} AND r.type = up.type AND r.id = up.id LIMIT 1
        ) o ON TRUE
    ), changed AS (
      -- From the upsert's RETURNING: each number is taken after the row it describes was locked.
      SELECT type, id, name, attrs, parent_type, parent_id, was_live AS updated, nextval('event_versions') AS seq
        FROM probed WHERE NOT was_live OR differs
    ), box AS (${compactOutbox(
      ctx,
      "resources",
      "changed",
      sql`json_build_array(${paddedSequence(sql.ref("changed.seq"))}, changed.updated, changed.type, changed.id, changed.name, changed.parent_type, changed.parent_id, changed.attrs)`,
    )})
    SELECT (count(*) FILTER (WHERE NOT updated))::int AS created, (count(*) FILTER (WHERE updated))::int AS updated
      FROM changed`.execute(tx);
  const r = res.rows[0];
  return { ...noEvents(), resourcesCreated: r?.created ?? 0, resourcesUpdated: r?.updated ?? 0 };
}

async function upsertEntitlements(
  tx: Transaction<Database>,
  ctx: EventContext,
  scope: string | null,
  input: Entitlement[],
): Promise<void> {
  if (input.length === 0) return;
  const es = dedupe(input, (e) => e.id);
  await sql`
    INSERT INTO entitlements AS e (source_id, id, resource_type, resource_id, slug, name, attrs, scope, first_seen_run, last_seen_run)
    SELECT ${ctx.sourceId}, id, resource_type, resource_id, slug, name, attrs, t.scope, ${ctx.runId}::uuid, ${ctx.runId}::uuid
      FROM unnest(${es.map((e) => e.id)}::text[], ${es.map((e) => e.resourceType)}::text[], ${es.map((e) => e.resourceId)}::text[],
                  ${es.map((e) => e.slug)}::text[], ${es.map((e) => e.name)}::text[], ${es.map((e) => JSON.stringify(e.attrs))}::jsonb[],
                  ${es.map((e) => (e.scope === undefined ? scope : e.scope))}::text[])
        AS t(id, resource_type, resource_id, slug, name, attrs, scope)
    ON CONFLICT (source_id, id) DO UPDATE SET
      resource_type = EXCLUDED.resource_type, resource_id = EXCLUDED.resource_id, slug = EXCLUDED.slug, name = EXCLUDED.name,
      attrs = EXCLUDED.attrs, scope = EXCLUDED.scope, last_seen_run = EXCLUDED.last_seen_run, deleted_at = NULL`.execute(
    tx,
  );
}

/**
 * Applies one result batch in one transaction: upserts stamped with the run, events for what changed, the
 * scope sweep when the batch closes its scope, child tasks with their outbox rows, the task marked done, and
 * the run finished if that was its last pending task. A batch for a task already settled is a no-op, which
 * makes redelivery and duplicate publishes harmless.
 */
export async function applyBatch(db: Db, subjects: Subjects, b: ResultBatch): Promise<ApplyResult> {
  return db.transaction().execute((tx) => applyInTransaction(tx, subjects, b));
}

/**
 * Applies batches of one run in one transaction, in the order given, each exactly as `applyBatch` would: all
 * commit, or — when any of them throws — none does, and the caller applies them one by one to learn which
 * failed and why (the writer's group commit). What the group saves is per transaction: its begin and commit (and
 * the commit's WAL flush), the run lock taken once, one read of its tasks and one settle of them with one probe
 * for the run's end (a group of 8 leaves: 20 statements, not 33), and one wake-up of the outbox publisher.
 */
export async function applyBatches(db: Db, subjects: Subjects, bs: ResultBatch[]): Promise<ApplyResult[]> {
  const runs = new Set(bs.map((b) => b.runId));
  if (runs.size > 1 || bs.some((b) => groupKey(b) === null))
    throw new Error("applyBatches: batches of one run without feed pages only (see groupKey)");
  const runId = bs[0]?.runId;
  if (runId === undefined) return [];
  return db.transaction().execute(async (tx) => {
    const group = await readGroupTasks(tx, runId, bs);
    const results: ApplyResult[] = [];
    for (const b of bs) results.push(await applyInTransaction(tx, subjects, b, group));
    if (group.settles.length === 0) return results;
    // Every task the group settled, in one statement, then one probe for the run's end: which the last of them
    // would have found alone (no batch of the group can end the run before: its own task is still pending).
    await settleTasks(tx, group.settles);
    const finished = await completeRunIfDone(tx, subjects, runId);
    const last = results.findLastIndex((r, i) => r.applied && group.deferred.has(bs[i]!));
    if (finished && last >= 0) results[last] = { ...results[last]!, runFinished: finished };
    return results;
  });
}

/** A task row as a batch reads it: locked, with its run's status. */
type TaskRow = Awaited<ReturnType<typeof readTask>>;

function taskQuery(tx: Transaction<Database>) {
  return tx
    .selectFrom("tasks")
    .leftJoin("runs", "runs.id", "tasks.run_id")
    .select([
      "tasks.id",
      "tasks.status",
      "tasks.run_id",
      "tasks.source_id",
      "tasks.parts_applied",
      "runs.status as run_status",
      "runs.is_initial",
    ]);
}

function readTask(tx: Transaction<Database>, taskId: string) {
  return taskQuery(tx).where("tasks.id", "=", taskId).forUpdate("tasks").executeTakeFirst();
}

/**
 * What a group's transaction shares: the task rows it read in one statement, and the settles it makes in one.
 * Only a batch whose task no other batch of the group answers, and which is no part of a split page, is read and
 * settled with the group (`deferred`): a second batch of one task, or a page's next part, must see what the first
 * wrote to the task row.
 */
interface GroupTasks {
  rows: Map<string, TaskRow>;
  deferred: Set<ResultBatch>;
  settles: TaskSettleRow[];
}

async function readGroupTasks(
  tx: Transaction<Database>,
  runId: string,
  bs: ResultBatch[],
): Promise<GroupTasks> {
  const count = new Map<string, number>();
  for (const b of bs) count.set(b.taskId, (count.get(b.taskId) ?? 0) + 1);
  const deferred = new Set(bs.filter((b) => !b.part && count.get(b.taskId) === 1));
  const group: GroupTasks = { rows: new Map(), deferred, settles: [] };
  if (deferred.size < 2) {
    deferred.clear();
    return group;
  }
  // The run lock before any task row, as a batch alone takes them; the first batch's plan mode, as it would.
  await lockRun(tx, runId, "shared", { genericPlans: sweepsOnlyItsScope(bs[0]!) });
  const ids = [...deferred].map((b) => b.taskId);
  // In id order, so two transactions that share task rows (a redelivered batch) lock them in one order.
  const rows = await taskQuery(tx)
    .where(sql<boolean>`tasks.id = ANY(${ids}::text[])`)
    .orderBy("tasks.id")
    .forUpdate("tasks")
    .execute();
  for (const r of rows) group.rows.set(r.id, r);
  return group;
}

/**
 * Which batches may share a transaction (`applyBatches`): those of the same run. A batch that advances a change
 * feed's cursor goes alone: it locks cursor rows the scheduler's tick locks too, in feed-id order within one
 * batch — several such batches in one transaction could take them out of that order and deadlock the tick.
 */
export function groupKey(b: ResultBatch): string | null {
  return b.feed || (b.feeds ?? []).length > 0 ? null : b.runId;
}

async function applyInTransaction(
  tx: Transaction<Database>,
  subjects: Subjects,
  b: ResultBatch,
  group?: GroupTasks,
): Promise<ApplyResult> {
  const none: ApplyResult = { applied: false, runFinished: null, rows: 0, events: 0, children: 0 };
  // First, so a cancel (cancel-run.ts) either waits for this batch or this batch sees the run cancelled
  // below: never a batch adding child tasks to a run whose pending tasks a cancel is settling.
  await lockRun(tx, b.runId, "shared", { genericPlans: sweepsOnlyItsScope(b) });
  // The task (locked) and its run in one round trip: both read after the run lock above (by the group, for
  // its batches, after the same lock).
  const withGroup = group?.deferred.has(b) === true;
  const task = withGroup ? group!.rows.get(b.taskId) : await readTask(tx, b.taskId);
  // A batch must answer a task grantline issued, in the run and source it names. One that does not was not
  // made by the pipeline (a forged or corrupted message): refused and dead-lettered, nothing committed.
  if (!task || task.run_id !== b.runId || task.source_id !== b.sourceId)
    throw new PermanentError(
      "batch-refused",
      task
        ? `task ${b.taskId} belongs to run ${task.run_id} of source ${task.source_id}, not run ${b.runId} of ${b.sourceId}`
        : `task ${b.taskId} does not exist`,
    );
  // A task already settled in this run: a redelivery, or a page re-fetched after a stall. Never applied twice.
  if (task.status !== "pending") return none;
  const part = b.part;
  if (part && task.parts_applied.includes(part.index)) return none;
  const last = !part || part.index === part.count - 1;
  // The last part settles the task (and sweeps its scope): only once every earlier part's rows are in.
  if (part && last && task.parts_applied.length < part.count - 1)
    throw new RetryableError(
      `part ${part.index + 1}/${part.count} of task ${b.taskId} waits for ${part.count - 1 - task.parts_applied.length} earlier part(s)`,
      { retryAfterMs: 500 },
    );
  if (task.run_status !== "running" || task.is_initial === null) return none;
  const ctx: EventContext = {
    subjects,
    sourceId: b.sourceId,
    runId: b.runId,
    initial: task.is_initial,
    now: new Date(),
  };

  const upserted = addEvents(
    await upsertResources(tx, ctx, b.scope, b.resources),
    await upsertGrants(tx, ctx, b.scope, b.grants),
  );
  await storeTrustExternalIds(tx, ctx, b.resources);
  await upsertEntitlements(tx, ctx, b.scope, b.entitlements);
  if (!last) return applyPart(tx, b, upserted);
  let emitted = addEvents(
    upserted,
    b.scopeComplete && b.scope !== null ? await sweepScope(tx, ctx, b.scope) : noEvents(),
  );
  const closed = b.sweepScopes ?? [];
  if (closed.length > 0) emitted = addEvents(emitted, await sweepScopes(tx, ctx, closed));
  // A targeted refresh's object sweeps (a vanished user, the OUs a parent no longer has): after the upserts,
  // so what this batch wrote is stamped and survives.
  for (const o of b.objectSweeps ?? []) emitted = addEvents(emitted, await sweepObject(tx, ctx, o));
  for (const scope of b.keepScopes) await keepScope(tx, ctx, scope);
  if (b.feed) await applyFeedPage(tx, ctx, b.feed);
  // In feed id order, the order the scheduler locks the cursor rows in: never a deadlock with its tick.
  const feeds = [...(b.feeds ?? [])].sort((x, y) => (x.feedId < y.feedId ? -1 : x.feedId > y.feedId ? 1 : 0));
  for (const f of feeds) await applyFeedPage(tx, ctx, f);
  const children = await enqueueTasks(tx, subjects, b.children, b.taskId);
  const rows = b.resources.length + b.entitlements.length + b.grants.length;
  if (withGroup) {
    // Settled with the rest of the group (`applyBatches`). Not a part: nothing was counted on the task before.
    group!.settles.push({
      taskId: b.taskId,
      doneAt: new Date(),
      awsCalls: b.stats.awsCalls,
      throttled: b.stats.throttled,
      warnings: b.warnings,
      rows,
      events: emitted,
      scopesSwept: closed.length,
    });
    return { applied: true, runFinished: null, rows, events: totalEvents(upserted), children };
  }
  const runFinished = await completeRunIfDone(tx, subjects, b.runId, {
    taskId: b.taskId,
    set: {
      status: "done",
      done_at: new Date(),
      aws_calls: b.stats.awsCalls,
      throttled: b.stats.throttled,
      warnings: b.warnings,
      scopes_swept: closed.length,
      // Earlier parts of a split page already counted theirs (applyPart); zero otherwise.
      ...addToCounters(rows, emitted),
    },
  });
  return {
    applied: true,
    runFinished,
    rows,
    events: totalEvents(upserted),
    children,
  };
}

/**
 * Whether a batch's transaction runs its prepared statements on generic plans (`lockRun`): a batch that closes
 * its scope (or the scopes it read whole: `sweepScopes`), and does nothing else that is rare. Its scope sweep is the one statement Postgres would otherwise
 * plan for every page (0.54 ms each, 5.4 s of a large first sync against 0.7 s of execution): Postgres prefers a
 * generic plan only when it costs less than the average of the custom plans the statement has had, and in a first
 * load the tables grow under that average, so it never does — although the generic plan is the same index scan
 * on `(source_id, scope)` as every custom one. Every other statement such a batch runs plans the same either way:
 * the upserts are driven by their `unnest` input and probe primary keys, the task is read by its id, events and
 * child tasks are plain inserts, the run-completion probe spells `'pending'` for its partial index. Refresh
 * batches (object sweeps, kept scopes, feed pages) and the finishing of a run (`completeRunIfDone` returns to
 * default plans first) keep Postgres's own choice.
 */
function sweepsOnlyItsScope(b: ResultBatch): boolean {
  const last = !b.part || b.part.index === b.part.count - 1;
  return (
    last &&
    ((b.scopeComplete && b.scope !== null) || (b.sweepScopes ?? []).length > 0) &&
    (b.objectSweeps ?? []).length === 0 &&
    b.keepScopes.length === 0 &&
    !b.feed &&
    (b.feeds ?? []).length === 0
  );
}

/** A part before the last of a split page: its rows are in; the task stays pending for the last part. */
async function applyPart(
  tx: Transaction<Database>,
  b: ResultBatch,
  emitted: EventCounts,
): Promise<ApplyResult> {
  const rows = b.resources.length + b.entitlements.length + b.grants.length;
  await tx
    .updateTable("tasks")
    .set({
      parts_applied: sql`array_append(parts_applied, ${b.part?.index ?? 0})`,
      ...addToCounters(rows, emitted),
    })
    .where("id", "=", b.taskId)
    .execute();
  return { applied: true, runFinished: null, rows, events: totalEvents(emitted), children: 0 };
}

/** The task's row and event counters, increased by what one batch (or part) wrote. */
function addToCounters(rows: number, e: EventCounts) {
  return {
    rows_written: sql<number>`rows_written + ${rows}`,
    grants_created: sql<number>`grants_created + ${e.grantsCreated}`,
    grants_revoked: sql<number>`grants_revoked + ${e.grantsRevoked}`,
    resources_created: sql<number>`resources_created + ${e.resourcesCreated}`,
    resources_updated: sql<number>`resources_updated + ${e.resourcesUpdated}`,
    resources_deleted: sql<number>`resources_deleted + ${e.resourcesDeleted}`,
  };
}
