import { afterAll, beforeAll } from "vitest";
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

/**
 * `openMigratedTestDb` for the whole test file: opened before its tests, dropped after them. Read `.db` inside
 * a test (or a helper a test calls), not at module load.
 */
export function useMigratedTestDb(options: { poolSize?: number } = {}): { readonly db: Db } {
  let opened: Awaited<ReturnType<typeof openMigratedTestDb>> | undefined;
  beforeAll(async () => {
    opened = await openMigratedTestDb(options);
  });
  afterAll(async () => {
    await opened?.close();
  });
  return {
    get db(): Db {
      if (!opened) throw new Error("the test database is open only while the file's tests run");
      return opened.db;
    },
  };
}
