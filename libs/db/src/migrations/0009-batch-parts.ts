import { sql, type Kysely } from "kysely";

// A page's batch may come in parts (the mapper bounds rows per batch): the parts applied so far are recorded on
// the task, so a part delivered again is applied once and the last part settles the task only after the others.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE tasks ADD COLUMN parts_applied integer[] NOT NULL DEFAULT '{}'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE tasks DROP COLUMN parts_applied`.execute(db);
}
