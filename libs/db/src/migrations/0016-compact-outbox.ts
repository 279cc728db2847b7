import { sql, type Kysely } from "kysely";

// The compact outbox (libs/db compact-events.ts) keeps a batch's events in one outbox row of ~100–250 KB, which
// Postgres compresses into TOAST as it writes it. With the default pglz that compression was a measurable share of
// the writer's transaction; lz4 does it several times faster for a similar size. Only where the server was built
// with lz4 (the PGDG and Debian packages, the official images are): elsewhere the column keeps pglz and works
// the same, a little slower. No new table, so no privileges change (the outbox is already every pipeline role's).
export async function up(db: Kysely<unknown>): Promise<void> {
  const lz4 = await sql<{ ok: boolean }>`
    SELECT 'lz4' = ANY (enumvals) AS ok FROM pg_settings WHERE name = 'default_toast_compression'`.execute(
    db,
  );
  if (lz4.rows[0]?.ok) await sql`ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION lz4`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE outbox ALTER COLUMN payload SET COMPRESSION default`.execute(db);
}
