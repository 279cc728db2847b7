// The whole pipeline under NATS authorization: a nats-server started here with the project's own users file,
// every service connecting as its own user, the CLI as the operator, a downstream reader as the subscriber.
// Proves the permissions generated from the code cover everything the services really do (streams, consumers,
// acks, outbox, blobs, dead letters, control replies), and that the control request is audited with its user.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSubjects } from "@grantline/contracts";
import { createDb, migrateToLatest } from "@grantline/db";
import { inboxPrefixOf, NATS_ROLES, natsPasswordVariable, type NatsRole } from "@grantline/nats";
import {
  createTestDatabase,
  NATS_SERVER_BINARY,
  startNatsServer,
  testInfra,
  uniqueName,
  type TestDatabase,
  type TestNatsServer,
} from "@grantline/testing";
import { diagSource, runCli, spawnService, type RunningService } from "./pipeline-harness.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const haveServer = existsSync(NATS_SERVER_BINARY);
if (!haveServer)
  console.warn(`skipped: no nats-server at ${NATS_SERVER_BINARY} (GL_TEST_NATS_SERVER names another)`);

const passwords = Object.fromEntries(
  NATS_ROLES.map((r) => [r, `p${randomBytes(12).toString("hex")}`]),
) as Record<NatsRole, string>;
const subjects = createSubjects("gl");
let server: TestNatsServer | null = null;
let tdb: TestDatabase;
let dir: string;
let env: Record<string, string>;
const running: RunningService[] = [];

const cli = (args: string[]) =>
  runCli(args, { ...env, NATS_USER: "operator", NATS_PASSWORD: passwords.operator });

beforeAll(async () => {
  if (!haveServer) return;
  server = await startNatsServer({
    config: "max_payload: 1MB\ninclude ./grantline-users.conf",
    files: { "grantline-users.conf": readFileSync(join(ROOT, "deploy/nats/grantline-users.conf"), "utf8") },
    env: Object.fromEntries(NATS_ROLES.map((r) => [natsPasswordVariable(r), passwords[r]])),
  });
  const infra = testInfra();
  tdb = await createTestDatabase(infra.databaseUrl);
  const db = createDb({ url: tdb.url });
  const m = await migrateToLatest(db);
  await db.destroy();
  if (m.error) throw m.error;
  dir = mkdtempSync(join(tmpdir(), "gl-auth-"));
  writeFileSync(join(dir, "sources.json"), JSON.stringify({ sources: [diagSource("diag", { pages: 4 })] }));
  env = {
    PATH: process.env.PATH ?? "",
    NATS_URL: server!.url,
    DATABASE_URL: tdb.url,
    REDIS_URL: infra.redisUrl,
    REDIS_KEY_PREFIX: `${uniqueName("auth")}:`,
    SOURCES_FILE: join(dir, "sources.json"),
    PROBE_PORT: "0",
    PROBE_HOST: "127.0.0.1",
    TICK_MS: "500",
    NATS_HOP_MAX_BYTES: String(16 * 1024 ** 2),
  };
  for (const name of ["scheduler", "fetcher", "mapper", "writer"] as const) {
    // Password from a file, as a compose or Kubernetes secret gives it.
    const file = join(dir, `${name}.password`);
    writeFileSync(file, `${passwords[name]}\n`);
    running.push(spawnService(name, { ...env, NATS_USER: name, NATS_PASSWORD_FILE: file }));
  }
}, 60_000);

afterAll(async () => {
  for (const s of running) s.child.kill("SIGKILL");
  await Promise.all(running.map((s) => s.exited));
  await server?.stop();
  await tdb?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveServer)("the pipeline with a NATS user per service", () => {
  it("syncs when the operator asks, audits the request with its user, and the subscriber reads the events", async () => {
    const r = await cli(["sync", "diag", "--wait", "--json"]);
    const logs = running.flatMap((s) => s.output).join("");
    expect(r.code, `${r.err}\n${logs.slice(-4000)}`).toBe(0);
    expect(JSON.parse(r.out.trim().split("\n").at(-1)!)).toMatchObject({ status: "succeeded" });
    expect(logs).not.toMatch(/Permissions Violation|may not (publish|subscribe)|NATS refused/);
    const tail = await cli(["events", "tail", "--from-start", "--limit", "3", "--json"]);
    expect(tail.code, tail.err).toBe(0);
    expect(tail.out.trim().split("\n")).toHaveLength(3);

    const db = createDb({ url: tdb.url });
    const audit = await db.selectFrom("control_audit").selectAll().orderBy("id").execute();
    expect(audit[0]).toMatchObject({
      user: "operator",
      verb: "sync",
      args: { sourceId: "diag" },
      outcome: "ok",
    });
    // Append-only, even for the owner of the table.
    await expect(db.deleteFrom("control_audit").execute()).rejects.toThrow(/append-only/);
    await db.destroy();

    const nc = await connect({
      servers: server!.url,
      user: "subscriber",
      pass: passwords.subscriber,
      inboxPrefix: inboxPrefixOf("subscriber"),
    });
    try {
      const js = jetstream(nc);
      const c = await js.consumers.get(subjects.streams.events, {
        filter_subjects: subjects.event("diag", "run.completed"),
      });
      const m = await c.next({ expires: 10_000 });
      expect(m?.subject).toBe(subjects.event("diag", "run.completed"));
    } finally {
      await nc.close();
    }
  }, 120_000);

  it("refuses a sync from a service's user", async () => {
    const nc = await connect({
      servers: server!.url,
      user: "writer",
      pass: passwords.writer,
      inboxPrefix: inboxPrefixOf("writer"),
    });
    try {
      await expect(
        nc.request(subjects.ctl("sync", "writer"), '{"sourceId":"diag"}', { timeout: 5_000 }),
      ).rejects.toThrow(/Permissions Violation/);
    } finally {
      await nc.close();
    }
  });
});
