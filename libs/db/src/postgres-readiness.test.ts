import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDatabase, testInfra, type TestDatabase } from "@grantline/testing";
import { createDb, postgresReadiness, type Db } from "./index.ts";

let tdb: TestDatabase;
let db: Db;

beforeAll(async () => {
  tdb = await createTestDatabase(testInfra().databaseUrl);
  db = createDb({ url: tdb.url, poolSize: 1 });
});
afterAll(async () => {
  await db.destroy();
  await tdb.drop();
});

describe("postgresReadiness", () => {
  it("passes while the database answers and fails when it cannot be reached", async () => {
    const ready = postgresReadiness(db);
    expect(ready.name).toBe("postgres");
    await expect(ready.check()).resolves.toBeUndefined();

    const missing = new URL(tdb.url);
    missing.pathname = `/${tdb.name}_missing`;
    const gone = createDb({ url: missing.toString(), poolSize: 1 });
    try {
      await expect(postgresReadiness(gone).check()).rejects.toThrow(/does not exist/);
    } finally {
      await gone.destroy();
    }
  });
});
