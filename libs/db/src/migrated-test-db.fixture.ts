import { createTestDatabase, testInfra } from "@grantline/testing";
import { createDb, type Db } from "./create-db.ts";
import { migrateToLatest } from "./migrate.ts";

/** A fresh database of its own for one test file, migrated to the latest schema; `close` drops it. */
export async function openMigratedTestDb(
  options: { poolSize?: number } = {},
): Promise<{ db: Db; url: string; close: () => Promise<void> }> {
  const tdb = await createTestDatabase(testInfra().databaseUrl);
  const db = createDb({ url: tdb.url, ...options });
  const { error } = await migrateToLatest(db);
  if (error) throw new Error(`migrating the test database failed: ${String(error)}`);
  return {
    db,
    url: tdb.url,
    close: async () => {
      await db.destroy();
      await tdb.drop();
    },
  };
}
