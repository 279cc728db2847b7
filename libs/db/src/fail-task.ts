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
        warnings: [`task ${taskId} dead-lettered at ${letter.stage}: ${letter.reason}`],
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
