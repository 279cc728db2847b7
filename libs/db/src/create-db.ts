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
  // An idle client erroring (Postgres restart) must not crash the process; the pool replaces it.
  pool.on("error", () => undefined);
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
