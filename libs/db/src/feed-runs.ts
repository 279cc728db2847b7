import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { Db } from "./create-db.ts";

/**
 * The source's feed run: one long-lived run (kind `feed`, status `running` for good) that owns the feed poll
 * tasks, so a poll is a task like any page — budgeted, published through the outbox, redelivered, recovered when
 * stalled. It never completes, is not a sync (no run summary, no "one active run" rule, no cancel), and a unique
 * index keeps it one per source. Returns its id, creating it the first time.
 */
export async function ensureFeedRun(db: Db, sourceId: string): Promise<string> {
  const existing = await feedRunOf(db, sourceId);
  if (existing) return existing;
  await db
    .insertInto("sources")
    .values({ id: sourceId, last_completed_run: null })
    .onConflict((oc) => oc.column("id").doNothing())
    .execute();
  // A concurrent leader (a handover) may insert its own: the unique index keeps the first, both read it back.
  await sql`
    INSERT INTO runs (id, source_id, kind, is_initial, stats, warnings)
    VALUES (${randomUUID()}::uuid, ${sourceId}, 'feed', false, '{}', '[]')
    ON CONFLICT DO NOTHING`.execute(db);
  const id = await feedRunOf(db, sourceId);
  if (!id) throw new Error(`source ${sourceId}: the feed run could not be created`);
  return id;
}

async function feedRunOf(db: Db, sourceId: string): Promise<string | undefined> {
  const r = await db
    .selectFrom("runs")
    .select("id")
    .where("source_id", "=", sourceId)
    .where("kind", "=", "feed")
    .where("status", "=", "running")
    .executeTakeFirst();
  return r?.id;
}

/**
 * Deletes settled poll tasks of feed runs older than `olderThanMs` (a feed polls every few seconds forever: its
 * done tasks would grow without bound). Pending ones are kept whatever their age: they are the open windows.
 */
export async function pruneFeedTasks(db: Db, olderThanMs = 3_600_000): Promise<number> {
  const res = await db
    .deleteFrom("tasks")
    .where("status", "<>", "pending")
    .where("done_at", "<", new Date(Date.now() - olderThanMs))
    .where("run_id", "in", (q) => q.selectFrom("runs").select("id").where("kind", "=", "feed"))
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}
