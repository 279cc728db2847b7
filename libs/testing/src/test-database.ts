import pg from "pg";
import { uniqueName } from "./infra.ts";

export interface TestDatabase {
  /** Connection URL of the fresh database. */
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** Creates an empty database for one test file; `drop()` removes it, closing any session still attached. */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = uniqueName("gl_test_");
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * Runs one statement as the test server's admin (the URL's user): for what is cluster-wide, such as the login
 * users a test creates in grantline's roles (and drops afterwards).
 */
export async function asDatabaseAdmin(adminUrl: string, statement: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}
