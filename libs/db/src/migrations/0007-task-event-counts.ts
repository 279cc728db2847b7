import { sql, type Kysely } from "kysely";

// The change events a task's batch emitted (its upserts and its scope sweep), kept on the task row like the
// counters of 0003 and for the same reason: the run row is written once, when the run finishes, which sums them.
// The outbox cannot be counted instead: published rows are deleted after a retention that a long run outlives.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE tasks
      ADD COLUMN grants_created integer NOT NULL DEFAULT 0,
      ADD COLUMN grants_revoked integer NOT NULL DEFAULT 0,
      ADD COLUMN resources_created integer NOT NULL DEFAULT 0,
      ADD COLUMN resources_updated integer NOT NULL DEFAULT 0,
      ADD COLUMN resources_deleted integer NOT NULL DEFAULT 0
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE tasks DROP COLUMN grants_created, DROP COLUMN grants_revoked, DROP COLUMN resources_created,
      DROP COLUMN resources_updated, DROP COLUMN resources_deleted
  `.execute(db);
}
