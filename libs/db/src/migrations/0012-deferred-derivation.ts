import { sql, type Kysely } from "kysely";

// A refresh run's end no longer derives (its derivations and the grant chains took tens of seconds on a large
// source, and every later change waited for them): it records here that the source's derived grants and chains
// must follow it, and the scheduler's deriver does that work once for every refresh run that ended meanwhile.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE sources ADD COLUMN derive_run uuid`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE sources DROP COLUMN derive_run`.execute(db);
}
