import { sql } from "kysely";
import type { Logger } from "@grantline/log";
import { createDb, dbOptions, type DatabaseSettings, type Db } from "./create-db.ts";
import { connectedAsSuperuser, DB_ROLES, TABLE_PRIVILEGES } from "./grant-roles.ts";

export interface OpenServiceDbOptions {
  settings: DatabaseSettings;
  service: "writer" | "scheduler";
  logger: Pick<Logger, "warn" | "info">;
  signal?: AbortSignal;
  /** Between attempts while Postgres does not answer. @default 1000 */
  retryMs?: number;
}

/** A start-up refusal: wrong credentials or a role without what the service needs. Not retried. */
export class DatabaseAccessError extends Error {
  override name = "DatabaseAccessError";
}

// SQLSTATE classes that retrying cannot fix: 28 (bad credentials), 3D000 (no such database), 42501 (privilege).
const REFUSED = /^(28|3D000|42501)/;

/**
 * The service's pool, checked before the service takes any message: the credentials log in, and the user holds
 * every table privilege the service's queries need (its role's, `TABLE_PRIVILEGES`), so a wrong password or a
 * missing GRANT stops it at start with one line instead of failing its first batch. A superuser passes with a
 * warning: it can do anything, which is what the roles exist to prevent. Waits while Postgres does not answer.
 */
export async function openServiceDb(o: OpenServiceDbOptions): Promise<Db> {
  const db = createDb({ ...dbOptions(o.settings), applicationName: `grantline-${o.service}` });
  try {
    for (;;) {
      try {
        await checkAccess(db, o);
        return db;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (err instanceof DatabaseAccessError) throw err;
        if (typeof code === "string" && REFUSED.test(code))
          throw new DatabaseAccessError(`postgres refused the ${o.service}: ${(err as Error).message}`);
        o.logger.warn({ err }, "postgres is not ready for the service; retrying");
        await new Promise((r) => setTimeout(r, o.retryMs ?? 1000));
        o.signal?.throwIfAborted();
      }
    }
  } catch (err) {
    await db.destroy();
    throw err;
  }
}

async function checkAccess(db: Db, o: OpenServiceDbOptions): Promise<void> {
  if (await connectedAsSuperuser(db)) {
    o.logger.warn(
      `connected to postgres as a superuser: use a login user in ${DB_ROLES[o.service]} (docs/deploying.md)`,
    );
    return;
  }
  const wanted = Object.entries(TABLE_PRIVILEGES[o.service]).flatMap(([table, privileges]) =>
    privileges.map((p) => ({ table, p })),
  );
  const r = await sql<{ table: string; p: string; ok: boolean | null }>`
    SELECT w.t AS table, w.p, has_table_privilege(to_regclass(w.t), w.p) AS ok
      FROM unnest(${wanted.map((w) => w.table)}::text[], ${wanted.map((w) => w.p)}::text[]) AS w(t, p)`.execute(
    db,
  );
  // A table that does not exist yet: the migration job has not run (it is retried, not refused).
  if (r.rows.some((x) => x.ok === null))
    throw new Error("the database is not migrated yet (grantline migrate)");
  const missing = r.rows.filter((x) => !x.ok).map((x) => `${x.p} on ${x.table}`);
  if (missing.length)
    throw new DatabaseAccessError(
      `the postgres user lacks ${missing.join(", ")}: grant it ${DB_ROLES[o.service]} (docs/deploying.md)`,
    );
}
