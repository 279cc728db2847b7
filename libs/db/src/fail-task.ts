import { sql } from "kysely";
import type { DeadLetter, RunStatus, Subjects } from "@grantline/contracts";
import { completeRunIfDone } from "./complete-run.ts";
import type { Db } from "./create-db.ts";

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
        // Appended: a notice recorded while the task was retried (a failing source) stays on the run.
        warnings: sql<
          string[]
        >`array_append(warnings, ${`task ${taskId} dead-lettered at ${letter.stage}: ${letter.reason}`})`,
      })
      .where("id", "=", taskId)
      // A letter naming a task of another run (a refused forged batch, say) fails nothing. Compared as text: a
      // letter's runId is whatever the refused payload said, not necessarily a uuid.
      .$if(letter.runId !== null, (q) => q.where(sql`run_id::text`, "=", letter.runId))
      .where("status", "=", "pending")
      .returning("run_id")
      .executeTakeFirst();
    if (!t) return null;
    return completeRunIfDone(tx, subjects, t.run_id);
  });
}

/**
 * Records a notice letter (the task keeps failing, still retried) as a warning on its task, once; the task stays
 * pending. The run's warnings are its tasks', so `status` shows the notice while the run is still running.
 */
export async function warnTask(db: Db, letter: DeadLetter): Promise<boolean> {
  if (!letter.taskId) return false;
  const warning = `${letter.stage}: ${letter.error}`.slice(0, 2000);
  const r = await db
    .updateTable("tasks")
    .set({ warnings: sql<string[]>`array_append(warnings, ${warning})` })
    .where("id", "=", letter.taskId)
    .where("status", "=", "pending")
    .where(sql<boolean>`NOT (${warning} = ANY(warnings))`)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
