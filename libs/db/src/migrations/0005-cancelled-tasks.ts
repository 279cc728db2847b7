import { sql, type Kysely } from "kysely";

// A cancelled run settles its pending tasks as `cancelled`: not done (nothing was read) and not failed (nothing
// went wrong), so neither the run's counters nor a later look at its tasks can mistake one for the other.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE tasks DROP CONSTRAINT tasks_status_check,
      ADD CONSTRAINT tasks_status_check CHECK (status IN ('pending','done','failed','cancelled'))
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    UPDATE tasks SET status = 'failed' WHERE status = 'cancelled';
    ALTER TABLE tasks DROP CONSTRAINT tasks_status_check,
      ADD CONSTRAINT tasks_status_check CHECK (status IN ('pending','done','failed'))
  `.execute(db);
}
