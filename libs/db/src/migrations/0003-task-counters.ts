import { sql, type Kysely } from "kysely";

// Per-task counters and warnings live on the task row, which its batch transaction holds anyway. Updating the
// shared run row from every batch deadlocked concurrent writers (foreign-key KEY SHARE vs row update); the run
// gets the totals once, when it finishes.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE tasks
      ADD COLUMN aws_calls integer NOT NULL DEFAULT 0,
      ADD COLUMN throttled integer NOT NULL DEFAULT 0,
      ADD COLUMN rows_written integer NOT NULL DEFAULT 0,
      ADD COLUMN warnings text[] NOT NULL DEFAULT '{}'
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE tasks DROP COLUMN aws_calls, DROP COLUMN throttled, DROP COLUMN rows_written, DROP COLUMN warnings`.execute(
    db,
  );
}
