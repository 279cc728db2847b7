import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testInfra, type TestDatabase } from "@grantline/testing";
import { createDb } from "./index.ts";
import { prepareRepeatedStatements } from "./prepare-repeated-statements.ts";

let tdb: TestDatabase;

beforeAll(async () => {
  tdb = await createTestDatabase(testInfra().databaseUrl);
});
afterAll(async () => {
  await tdb.drop();
});

async function withClient(max: number, f: (c: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: tdb.url });
  await client.connect();
  prepareRepeatedStatements(client, { max });
  try {
    await f(client);
  } finally {
    await client.end();
  }
}

/** The statements prepared on the client's own session, by text. */
async function prepared(c: pg.Client): Promise<string[]> {
  // No parameters: this probe itself is never prepared.
  const r = await c.query<{ statement: string }>(
    "SELECT statement FROM pg_prepared_statements ORDER BY name",
  );
  return r.rows.map((x) => x.statement);
}

describe("prepareRepeatedStatements", () => {
  it("prepares a parameterised text from its second run, once, and answers as before", async () => {
    await withClient(10, async (c) => {
      const text = "SELECT $1::int + 1 AS n";
      expect((await c.query(text, [1])).rows).toEqual([{ n: 2 }]);
      expect(await prepared(c)).toEqual([]);
      expect((await c.query(text, [2])).rows).toEqual([{ n: 3 }]);
      expect((await c.query(text, [3])).rows).toEqual([{ n: 4 }]);
      expect(await prepared(c)).toEqual([text]);
    });
  });

  it("prepares at most `max` statements per connection, and none with 0", async () => {
    await withClient(2, async (c) => {
      for (let i = 0; i < 5; i++)
        for (let run = 0; run < 3; run++) await c.query(`SELECT $1::int * ${i}`, [run]);
      expect(await prepared(c)).toHaveLength(2);
    });
    await withClient(0, async (c) => {
      for (let run = 0; run < 3; run++) await c.query("SELECT $1::int", [run]);
      expect(await prepared(c)).toEqual([]);
    });
  });

  it("runs a statement unnamed once a migration changed its result columns", async () => {
    await withClient(10, async (c) => {
      await c.query("CREATE TEMP TABLE t (a int)");
      await c.query("INSERT INTO t VALUES (1)");
      const text = "SELECT * FROM t WHERE a = $1";
      await c.query(text, [1]);
      await c.query(text, [1]);
      expect(await prepared(c)).toEqual([text]);
      await c.query("ALTER TABLE t ADD COLUMN b int");
      // Postgres refuses the prepared statement once: the message carrying it is retried…
      await expect(c.query(text, [1])).rejects.toMatchObject({ code: "0A000" });
      // …and the retry runs the text unnamed, with the new column.
      expect((await c.query(text, [1])).rows).toEqual([{ a: 1, b: null }]);
      // Other texts are still prepared, under names of their own.
      const next = "SELECT a FROM t WHERE a = $1";
      for (let run = 0; run < 3; run++) expect((await c.query(next, [1])).rows).toEqual([{ a: 1 }]);
      expect(await prepared(c)).toEqual([text, next]);
    });
  });

  it("is on for kysely's statements through createDb, and off with preparedStatements 0", async () => {
    for (const [preparedStatements, expected] of [
      [undefined, 1],
      [0, 0],
    ] as const) {
      const db = createDb({ url: tdb.url, poolSize: 1, preparedStatements });
      try {
        for (let run = 0; run < 3; run++) await sql`SELECT ${run}::int AS n`.execute(db);
        const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_prepared_statements`.execute(db);
        expect(r.rows[0]?.n).toBe(expected);
      } finally {
        await db.destroy();
      }
    }
  });
});
