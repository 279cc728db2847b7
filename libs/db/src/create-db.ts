import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { parseIntoClientConfig } from "pg-connection-string";
import type { Database } from "./database.ts";
import { prepareRepeatedStatements } from "./prepare-repeated-statements.ts";

// bigint (int8) columns such as count(*) come back as strings by default; every count we read fits a number.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface CreateDbOptions {
  url: string;
  /** @default 10 */
  poolSize?: number;
  /**
   * Statements each connection may prepare, those it runs repeatedly (`prepareRepeatedStatements`); 0 for a
   * pooler in transaction mode. @default 100
   */
  preparedStatements?: number;
  /** Shown in pg_stat_activity. */
  applicationName?: string;
  /** The password, read from this file (a mounted secret) for every new connection: rotation needs no restart. */
  passwordFile?: string | undefined;
  /**
   * TLS: PEM files of the server's CA (the server's certificate is then verified) and of a client certificate
   * and key. Without them, `sslmode`/`sslrootcert`/… in the URL apply as libpq reads them.
   */
  tls?: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined };
}

/** The connection settings of the environment (libs/config DatabaseEnv), as createDb's options. */
export interface DatabaseSettings {
  DATABASE_URL: string;
  DATABASE_POOL_SIZE: number;
  DATABASE_PREPARED_STATEMENTS?: number | undefined;
  DATABASE_PASSWORD_FILE?: string | undefined;
  DATABASE_TLS_CA_FILE?: string | undefined;
  DATABASE_TLS_CERT_FILE?: string | undefined;
  DATABASE_TLS_KEY_FILE?: string | undefined;
}

export function dbOptions(s: DatabaseSettings): CreateDbOptions {
  return {
    url: s.DATABASE_URL,
    poolSize: s.DATABASE_POOL_SIZE,
    preparedStatements: s.DATABASE_PREPARED_STATEMENTS,
    passwordFile: s.DATABASE_PASSWORD_FILE,
    tls: {
      caFile: s.DATABASE_TLS_CA_FILE,
      certFile: s.DATABASE_TLS_CERT_FILE,
      keyFile: s.DATABASE_TLS_KEY_FILE,
    },
  };
}

/**
 * How to reach the server, for a pool or a single client (the leader's session, creating the database): the URL,
 * the password file and the TLS files of `o`.
 */
export function connectionConfig(o: Pick<CreateDbOptions, "url" | "passwordFile" | "tls">): pg.ClientConfig {
  const ssl = sslOptions(o);
  // pg parses `connectionString` over the other settings, and a URL without a password parses to an empty one
  // that replaces the password function (SCRAM then fails: "client password must be a string"): with a
  // password file the URL is parsed here, as pg would, and the function set after it.
  const target: pg.ClientConfig = o.passwordFile
    ? { ...parseIntoClientConfig(o.url), password: passwordFrom(o.passwordFile) }
    : { connectionString: o.url };
  return { ...target, ...(ssl ? { ssl } : {}) };
}

function sslOptions(o: Pick<CreateDbOptions, "tls">): pg.ClientConfig["ssl"] {
  const t = o.tls;
  if (!t?.caFile && !t?.certFile && !t?.keyFile) return undefined;
  return {
    rejectUnauthorized: true,
    ...(t.caFile ? { ca: readFileSync(t.caFile, "utf8") } : {}),
    ...(t.certFile ? { cert: readFileSync(t.certFile, "utf8") } : {}),
    ...(t.keyFile ? { key: readFileSync(t.keyFile, "utf8") } : {}),
  };
}

export type Db = Kysely<Database>;

/** A kysely instance over a pg pool. `db.destroy()` closes the pool. */
export function createDb(o: CreateDbOptions): Db {
  const pool = new pg.Pool({
    ...connectionConfig(o),
    max: o.poolSize ?? 10,
    application_name: o.applicationName ?? "grantline",
    connectionTimeoutMillis: 10_000,
  });
  // A client erroring (Postgres restart, failover) must not crash the process. The pool's own listener only
  // covers idle clients; a checked-out client between two queries of a transaction emits 'error' itself, and
  // without a listener that is an uncaught exception (seen: the writer died on a Postgres restart). The query
  // in progress, or the next one, fails with the error and the message is retried; the pool replaces the client.
  pool.on("error", () => undefined);
  pool.on("connect", (client) => {
    client.on("error", () => undefined);
    prepareRepeatedStatements(client, { max: o.preparedStatements ?? 100 });
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

function passwordFrom(file: string): () => Promise<string> {
  return async () => (await readFile(file, "utf8")).trim();
}
