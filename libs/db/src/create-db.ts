import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { Database } from "./database.ts";

// bigint (int8) columns such as count(*) come back as strings by default; every count we read fits a number.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface CreateDbOptions {
  url: string;
  /** @default 10 */
  poolSize?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
}

export type Db = Kysely<Database>;

/** A kysely instance over a pg pool. `db.destroy()` closes the pool. */
export function createDb(o: CreateDbOptions): Db {
  const pool = new pg.Pool({
    connectionString: o.url,
    max: o.poolSize ?? 10,
    application_name: o.applicationName ?? "grantline",
    connectionTimeoutMillis: 10_000,
  });
  // A client erroring (Postgres restart, failover) must not crash the process. The pool's own listener only
  // covers idle clients; a checked-out client between two queries of a transaction emits 'error' itself, and
  // without a listener that is an uncaught exception (seen: the writer died on a Postgres restart). The query
  // in progress, or the next one, fails with the error and the message is retried; the pool replaces the client.
  pool.on("error", () => undefined);
  pool.on("connect", (client) => client.on("error", () => undefined));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
