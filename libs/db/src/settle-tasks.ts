import { sql, type Transaction } from "kysely";
import type { Database } from "./database.ts";
import type { EventCounts } from "./event-counts.ts";

/** One task's settle as `settleTasks` writes it: done, its AWS figures and warnings, its counters increased. */
export interface TaskSettleRow {
  taskId: string;
  doneAt: Date;
  awsCalls: number;
  throttled: number;
  warnings: string[];
  rows: number;
  events: EventCounts;
  scopesSwept: number;
}

/** Settles several tasks in one statement, each as `completeRunIfDone`'s settle would. */
export async function settleTasks(tx: Transaction<Database>, ss: TaskSettleRow[]): Promise<void> {
  const col = <T>(f: (s: TaskSettleRow) => T): T[] => ss.map(f);
  await sql`
    UPDATE tasks AS t SET
      status = 'done', done_at = v.done_at, aws_calls = v.aws_calls, throttled = v.throttled,
      warnings = ARRAY(SELECT jsonb_array_elements_text(v.warnings)),
      rows_written = t.rows_written + v.rows_written, grants_created = t.grants_created + v.grants_created,
      grants_revoked = t.grants_revoked + v.grants_revoked, resources_created = t.resources_created + v.resources_created,
      resources_updated = t.resources_updated + v.resources_updated, resources_deleted = t.resources_deleted + v.resources_deleted,
      scopes_swept = v.scopes_swept
    FROM unnest(${col((s) => s.taskId)}::text[], ${col((s) => s.doneAt)}::timestamptz[], ${col((s) => s.awsCalls)}::int[],
                ${col((s) => s.throttled)}::int[], ${col((s) => JSON.stringify(s.warnings))}::jsonb[], ${col((s) => s.rows)}::int[],
                ${col((s) => s.events.grantsCreated)}::int[], ${col((s) => s.events.grantsRevoked)}::int[],
                ${col((s) => s.events.resourcesCreated)}::int[], ${col((s) => s.events.resourcesUpdated)}::int[],
                ${col((s) => s.events.resourcesDeleted)}::int[], ${col((s) => s.scopesSwept)}::int[])
      AS v(id, done_at, aws_calls, throttled, warnings, rows_written, grants_created, grants_revoked, resources_created,
           resources_updated, resources_deleted, scopes_swept)
    WHERE t.id = v.id`.execute(tx);
}
