// DATABASE_TLS_*: a PostgreSQL of this test's own (initdb in a temporary directory), serving TLS only
// (`hostssl … cert`: a client certificate the test CA signed, whose CN is the login user) with a server
// certificate from that CA, reached through grantline's own connection settings (dbOptions → createDb and
// ensureDatabase). The shared test Postgres has no TLS.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  freePort,
  makeTestCertificates,
  OPENSSL_BINARY,
  waitFor,
  type TestCertificates,
} from "@grantline/testing";
import { createDb, dbOptions, type DatabaseSettings } from "./create-db.ts";
import { ensureDatabase } from "./migrate.ts";

const PG_ROOT = "/usr/lib/postgresql";
const bin = existsSync(PG_ROOT)
  ? readdirSync(PG_ROOT)
      .map((v) => join(PG_ROOT, v, "bin"))
      .find((d) => existsSync(join(d, "initdb")))
  : undefined;
const runnable = bin !== undefined && OPENSSL_BINARY !== undefined;
if (!runnable) console.warn(`skipped: the Postgres TLS test needs initdb (in ${PG_ROOT}/*/bin) and openssl`);

// initdb and postgres refuse to run as root: as root the server runs as the `postgres` user.
const asUser = (): { uid?: number; gid?: number } => {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" }).trim());
  return { uid: id("-u"), gid: id("-g") };
};

let dir = "";
let certs: TestCertificates;
let server: ChildProcess | undefined;
let port = 0;

const settings = (host: string, tls: Partial<DatabaseSettings> = {}): DatabaseSettings => ({
  DATABASE_URL: `postgres://postgres@${host}:${port}/postgres`,
  DATABASE_POOL_SIZE: 1,
  DATABASE_TLS_CA_FILE: certs.ca,
  DATABASE_TLS_CERT_FILE: certs.clientCert,
  DATABASE_TLS_KEY_FILE: certs.clientKey,
  ...tls,
});

/** The session's TLS state as the server sees it, through a pool made from the settings. */
async function sslOfSession(s: DatabaseSettings): Promise<{ ssl: boolean; version: string }> {
  const db = createDb({ ...dbOptions(s), applicationName: "tls-test" });
  try {
    const r = await sql<{ ssl: boolean; version: string }>`
      SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()`.execute(db);
    return r.rows[0]!;
  } finally {
    await db.destroy();
  }
}

beforeAll(async () => {
  if (!runnable) return;
  dir = mkdtempSync(join(tmpdir(), "gl-pg-tls-"));
  certs = makeTestCertificates(dir, { clientCn: "postgres", serverSan: "DNS:localhost" });
  const user = asUser();
  const data = join(dir, "data");
  if (user.uid !== undefined) chownSync(dir, user.uid, user.gid!);
  execFileSync(join(bin!, "initdb"), ["-D", data, "-U", "postgres", "--auth=reject", "-E", "UTF8"], {
    ...user,
    stdio: "pipe",
  });
  // The server reads its key only when it is private to its user.
  for (const [from, to, mode] of [
    [certs.serverKey, "server.key", 0o600],
    [certs.serverCert, "server.crt", 0o644],
    [certs.ca, "ca.crt", 0o644],
  ] as const) {
    copyFileSync(from, join(data, to));
    chmodSync(join(data, to), mode);
    if (user.uid !== undefined) chownSync(join(data, to), user.uid, user.gid!);
  }
  // TLS with a verified client certificate, or nothing: a plain connection matches no line and is refused.
  writeFileSync(
    join(data, "pg_hba.conf"),
    [
      // A password login (SCRAM) for DATABASE_PASSWORD_FILE; every other user by certificate.
      "hostssl all gl_pw 127.0.0.1/32 scram-sha-256",
      "hostssl all gl_pw ::1/128 scram-sha-256",
      "hostssl all all 127.0.0.1/32 cert",
      "hostssl all all ::1/128 cert",
      "",
    ].join("\n"),
  );
  port = await freePort();
  server = spawn(
    join(bin!, "postgres"),
    [
      "-D",
      data,
      "-p",
      String(port),
      "-k",
      dir,
      "-c",
      "listen_addresses=localhost",
      "-c",
      "ssl=on",
      "-c",
      "ssl_ca_file=ca.crt",
      "-c",
      "fsync=off",
    ],
    { ...user, stdio: "ignore" },
  );
  await waitFor(
    async () => {
      try {
        return (await sslOfSession(settings("localhost"))).ssl;
      } catch {
        return false;
      }
    },
    { timeoutMs: 30_000 },
  );
}, 60_000);

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server!.once("exit", r));
    server.kill("SIGINT"); // fast shutdown
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!runnable)("Postgres over TLS (DATABASE_TLS_CA_FILE, _CERT_FILE, _KEY_FILE)", () => {
  it("a password login reads DATABASE_PASSWORD_FILE for each connection (SCRAM; the URL has no password)", async () => {
    const admin = createDb(dbOptions(settings("localhost")));
    const pw = join(dir, "gl_pw-password");
    const login = () =>
      sslOfSession({
        ...settings("localhost", { DATABASE_TLS_CERT_FILE: undefined, DATABASE_TLS_KEY_FILE: undefined }),
        DATABASE_URL: `postgres://gl_pw@localhost:${port}/postgres`,
        DATABASE_PASSWORD_FILE: pw,
      });
    try {
      await sql`CREATE ROLE gl_pw LOGIN PASSWORD 'first'`.execute(admin);
      writeFileSync(pw, "first\n");
      expect((await login()).ssl).toBe(true);
      // Rotation: the new password in the role and in the file; the next connection uses it.
      await sql`ALTER ROLE gl_pw PASSWORD 'second'`.execute(admin);
      await expect(login()).rejects.toThrow(/password authentication failed/);
      writeFileSync(pw, "second\n");
      expect((await login()).ssl).toBe(true);
    } finally {
      await admin.destroy();
    }
  });

  it("verifies the server against the CA, presents the client certificate and talks TLS", async () => {
    const s = await sslOfSession(settings("localhost"));
    expect(s.ssl).toBe(true);
    expect(s.version).toMatch(/^TLSv1\.[23]$/);
    // The migration job's first step (a single client, not the pool) goes through the same settings.
    const o = dbOptions(settings("localhost"));
    expect(await ensureDatabase({ ...o, url: o.url.replace(/\/postgres$/, "/grantline") })).toBe(true);
  });

  it("checks the server's name (verify-full): refused under an address its certificate does not carry", async () => {
    // The same server, reached as 127.0.0.1: its certificate names only localhost.
    await expect(sslOfSession(settings("127.0.0.1"))).rejects.toThrow(/altnames|does not match/i);
  });

  it("is refused without the CA (the system's do not know it), and without the client certificate", async () => {
    await expect(sslOfSession(settings("localhost", { DATABASE_TLS_CA_FILE: undefined }))).rejects.toThrow(
      /self[- ]signed|unable to (get|verify)/i,
    );
    await expect(
      sslOfSession(
        settings("localhost", { DATABASE_TLS_CERT_FILE: undefined, DATABASE_TLS_KEY_FILE: undefined }),
      ),
    ).rejects.toThrow(/certificate|pg_hba/i);
  });
});
