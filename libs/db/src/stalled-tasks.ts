import { sql } from "kysely";
import type { PageRequest, Subjects } from "@grantline/contracts";
import type { Db } from "./create-db.ts";
import { insertOutbox, requestRow } from "./outbox-rows.ts";

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
  /**
   * Which runs' tasks: syncs' (the default; re-published only when the pipeline is idle, since a backlog is not a
   * loss) or the feed runs' (one small poll per open window: re-published whatever the backlog, or the endless
   * stream of polls would keep a lost one from ever being seen as lost).
   */
  runs: "syncs" | "feeds" = "syncs",
): Promise<number> {
  return db.transaction().execute(async (tx) => {
    const rows = await tx
      .selectFrom("tasks")
      .innerJoin("runs", "runs.id", "tasks.run_id")
      .selectAll("tasks")
      .where("tasks.status", "=", "pending")
      .where("runs.status", "=", "running")
      .where("runs.kind", runs === "feeds" ? "=" : "<>", "feed")
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
