import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { testInfra } from "@grantline/testing";
import { connectionConfig, createDb, dbOptions } from "./create-db.ts";

const dir = mkdtempSync(join(tmpdir(), "gl-db-conn-"));
const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe("DATABASE_PASSWORD_FILE and DATABASE_TLS_* (the local server has no TLS: the options are checked)", () => {
  it("turn into pg's password function (the file read per connection) and a verifying TLS config", async () => {
    const pw = write("pw", "first\n");
    const c = connectionConfig(
      dbOptions({
        DATABASE_URL: "postgres://gl_writer@db:5432/grantline",
        DATABASE_POOL_SIZE: 4,
        DATABASE_PASSWORD_FILE: pw,
        DATABASE_TLS_CA_FILE: write("ca.pem", "CA PEM"),
        DATABASE_TLS_CERT_FILE: write("client.pem", "CERT PEM"),
        DATABASE_TLS_KEY_FILE: write("client.key", "KEY PEM"),
      }),
    );
    expect(c.ssl).toEqual({ rejectUnauthorized: true, ca: "CA PEM", cert: "CERT PEM", key: "KEY PEM" });
    const password = c.password as () => Promise<string>;
    expect(await password()).toBe("first");
    writeFileSync(pw, "rotated\n"); // a mounted Secret updated in place
    expect(await password()).toBe("rotated");
  });

  it("without them the URL alone decides, and a pool with a password file connects", async () => {
    expect(connectionConfig({ url: "postgres://x@db/grantline" })).toEqual({
      connectionString: "postgres://x@db/grantline",
    });
    // Trust authentication locally: the password is offered only if asked for, but the pool must work with it.
    const db = createDb({ url: testInfra().databaseUrl, poolSize: 1, passwordFile: write("unused", "x\n") });
    try {
      expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(db)).rows[0]?.one).toBe(1);
    } finally {
      await db.destroy();
    }
  });
});
