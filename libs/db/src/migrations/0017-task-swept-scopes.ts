import { sql, type Kysely } from "kysely";

// Scopes a task's batch swept besides its own (`ResultBatch.sweepScopes`): a permission set's accounts page
// that read each account's assignments itself closes one pair scope per account. The run's end counts the
// provisioned pairs it listed (the next run weighs them against its principals to choose a route): the pairs of
// such pages are counted here, the others are the ListAccountAssignments tasks they always were.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE tasks ADD COLUMN scopes_swept integer NOT NULL DEFAULT 0`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE tasks DROP COLUMN scopes_swept`.execute(db);
}
