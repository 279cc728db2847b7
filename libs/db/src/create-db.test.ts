import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testInfra, waitFor, type TestDatabase } from "@grantline/testing";
import { createDb, type Db } from "./index.ts";

let tdb: TestDatabase;
let db: Db;
let admin: Db;

beforeAll(async () => {
  tdb = await createTestDatabase(testInfra().databaseUrl);
  db = createDb({ url: tdb.url, poolSize: 2 });
  admin = createDb({ url: tdb.url, poolSize: 1 });
});
afterAll(async () => {
  await db.destroy();
  await admin.destroy();
  await tdb.drop();
});

describe("createDb", () => {
  it("a connection killed between two queries of a transaction fails that transaction, not the process", async () => {
    const failure = await db
      .transaction()
      .execute(async (tx) => {
        const me = await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(tx);
        const pid = me.rows[0]?.pid;
        await sql`SELECT pg_terminate_backend(${pid})`.execute(admin);
        // The server side is gone; the client learns it from its socket while idle inside the transaction,
        // which is when an unhandled 'error' event used to kill the process (a Postgres restart did).
        await waitFor(async () => {
          const r = await sql<{
            n: number;
          }>`SELECT count(*) AS n FROM pg_stat_activity WHERE pid = ${pid}`.execute(admin);
          return r.rows[0]?.n === 0 ? true : null;
        });
        await sql`SELECT 1`.execute(tx);
      })
      .then(
        () => null,
        (err: unknown) => err,
      );
    expect(failure).toBeInstanceOf(Error);
    // The pool replaced the dead client.
    const r = await sql<{ one: number }>`SELECT 1 AS one`.execute(db);
    expect(r.rows[0]?.one).toBe(1);
  });
});
