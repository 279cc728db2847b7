import { Migrator, type Kysely, type Migration, type MigrationResultSet } from "kysely";
import pg from "pg";
import { connectionConfig, type CreateDbOptions } from "./create-db.ts";
import * as m0001 from "./migrations/0001-initial.ts";
import * as m0002 from "./migrations/0002-effective-grants.ts";
import * as m0003 from "./migrations/0003-task-counters.ts";
import * as m0004 from "./migrations/0004-effective-grants-iam.ts";
import * as m0005 from "./migrations/0005-cancelled-tasks.ts";
import * as m0006 from "./migrations/0006-effective-grants-exact.ts";
import * as m0007 from "./migrations/0007-task-event-counts.ts";
import * as m0008 from "./migrations/0008-incremental-sync.ts";
import * as m0009 from "./migrations/0009-batch-parts.ts";
import * as m0010 from "./migrations/0010-roles.ts";
import * as m0011 from "./migrations/0011-control-audit.ts";
import * as m0012 from "./migrations/0012-deferred-derivation.ts";
import * as m0013 from "./migrations/0013-trust-external-ids.ts";
import * as m0014 from "./migrations/0014-provisioning.ts";
import * as m0015 from "./migrations/0015-provisioning-execution.ts";
import * as m0016 from "./migrations/0016-compact-outbox.ts";
import * as m0017 from "./migrations/0017-task-swept-scopes.ts";

/** Every migration, in order. Static imports so a bundled service carries them. */
const MIGRATIONS: Record<string, Migration> = {
  "0001-initial": m0001,
  "0002-effective-grants": m0002,
  "0003-task-counters": m0003,
  "0004-effective-grants-iam": m0004,
  "0005-cancelled-tasks": m0005,
  "0006-effective-grants-exact": m0006,
  "0007-task-event-counts": m0007,
  "0008-incremental-sync": m0008,
  "0009-batch-parts": m0009,
  "0010-roles": m0010,
  "0011-control-audit": m0011,
  "0012-deferred-derivation": m0012,
  "0013-trust-external-ids": m0013,
  "0014-provisioning": m0014,
  "0015-provisioning-execution": m0015,
  "0016-compact-outbox": m0016,
  "0017-task-swept-scopes": m0017,
};

/** Brings the schema to the latest version. Safe to run concurrently: kysely takes a lock table. */
export async function migrateToLatest<DB>(database: Kysely<DB>): Promise<MigrationResultSet> {
  const db = database as unknown as Kysely<unknown>;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(MIGRATIONS) },
    migrationTableName: "grantline_migrations",
    migrationLockTableName: "grantline_migrations_lock",
  });
  return migrator.migrateToLatest();
}

/** Creates the database named in `url` when it does not exist yet (first start on a fresh Postgres). */
export async function ensureDatabase(
  target: string | Pick<CreateDbOptions, "url" | "passwordFile" | "tls">,
): Promise<boolean> {
  const o = typeof target === "string" ? { url: target } : target;
  const u = new URL(o.url);
  const name = decodeURIComponent(u.pathname.slice(1));
  if (!name) return false;
  const admin = new URL(o.url);
  admin.pathname = "/postgres";
  const c = new pg.Client(connectionConfig({ ...o, url: admin.toString() }));
  await c.connect();
  try {
    const r = await c.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (r.rowCount) return false;
    await c.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    return true;
  } catch (err) {
    if ((err as { code?: string }).code === "42P04") return false; // created concurrently
    throw err;
  } finally {
    await c.end();
  }
}
