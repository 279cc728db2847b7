import { sql } from "kysely";
import type { PageRequest, Subjects } from "@grantline/contracts";
import type { Db } from "./create-db.ts";
import { insertOutbox, requestRow } from "./outbox-rows.ts";

interface StalledTaskOptions {
  /** @default 1000 */
  limit?: number;
  /**
   * Which runs' tasks: syncs' (the default; the caller passes only `services` with no queued backlog, since a
   * backlog is not a loss) or the feed runs' (one small poll per open window: re-published whatever the
   * backlog, or the endless stream of polls would keep a lost one from ever being seen as lost).
   */
  runs?: "syncs" | "feeds";
  /** Only tasks of these AWS services. @default every service */
  services?: readonly string[];
  /**
   * The tasks, among these services', whose message is still queued (waiting, held or in flight at a
   * fetcher): slow, not lost, so not re-published. Asked only when some task of theirs has stalled.
   */
  stillQueued?: (services: readonly string[]) => Promise<ReadonlySet<string>>;
}

/**
 * Pending tasks of running runs not published or re-published for `stalledMs`: their message was lost (or is
 * stuck). They get a fresh outbox row with a new msgID so JetStream does not drop it as a duplicate; if the
 * original was merely slow, the writer ignores the second batch for a task already done.
 *
 * Each task is judged by its own age, not by the pipeline: a sync task re-published before waits twice as long
 * for each earlier re-publication (stall, 2×, 4×, then 8× the timeout at most), so a task whose message is only
 * slow where `stillQueued` cannot see it (in flight at the mapper or writer) gets a few extra copies, not one
 * per stall.
 */
export async function republishStalledTasks(
  db: Db,
  subjects: Subjects,
  stalledMs: number,
  o: StalledTaskOptions = {},
): Promise<number> {
  const runs = o.runs ?? "syncs";
  if (o.services?.length === 0) return 0;
  // Feed polls are tiny and re-published at the plain timeout: a window waits on its one poll.
  const backoff =
    runs === "syncs" ? sql<number>`power(2, least(tasks.publish_count - 1, 3))` : sql<number>`1`;
  const stalled = (q: Db) =>
    q
      .selectFrom("tasks")
      .innerJoin("runs", "runs.id", "tasks.run_id")
      .where("tasks.status", "=", "pending")
      .where("runs.status", "=", "running")
      .where("runs.kind", runs === "feeds" ? "=" : "<>", "feed")
      // The database's clock on both sides: published_at was written by now(), so a scheduler whose clock
      // is off (2 minutes behind, say) neither recovers lost work late nor republishes live work early.
      .where(
        "tasks.published_at",
        "<",
        sql<Date>`now() - make_interval(secs => ${stalledMs / 1000}::float8 * ${backoff})`,
      )
      .$if(o.services !== undefined, (q) => q.where("tasks.service", "in", o.services ?? []));
  let queued: readonly string[] = [];
  if (o.stillQueued) {
    // Read before the transaction: the queues are asked only when something stalled, and no row stays locked
    // while they answer. A task acked in between is re-published needlessly: the writer ignores the copy.
    const services = await stalled(db).select("tasks.service").distinct().execute();
    if (services.length === 0) return 0;
    queued = [...(await o.stillQueued(services.map((s) => s.service)))];
  }
  return db.transaction().execute(async (tx) => {
    const rows = await stalled(tx)
      .selectAll("tasks")
      .$if(queued.length > 0, (q) => q.where("tasks.id", "not in", queued))
      .limit(o.limit ?? 1000)
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
      .set({ published_at: sql`now()`, publish_count: sql`publish_count + 1` })
      .where(
        "id",
        "in",
        rows.map((r) => r.id),
      )
      .execute();
    return rows.length;
  });
}
