import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@grantline/log";
import { createTestDatabase, testInfra, waitFor, type TestDatabase } from "@grantline/testing";
import { createDb, startLeadership, type Db, type Leadership } from "./index.ts";

const logger = createLogger({ service: "leadership-test", level: "silent" });
let tdb: TestDatabase;
let admin: Db;
const started: Leadership[] = [];

beforeAll(async () => {
  tdb = await createTestDatabase(testInfra().databaseUrl);
  admin = createDb({ url: tdb.url, poolSize: 1 });
});
afterEach(async () => {
  await Promise.all(started.splice(0).map((l) => l.stop()));
});
afterAll(async () => {
  await admin.destroy();
  await tdb.drop();
});

/**
 * A candidate whose session is named `name` in pg_stat_activity. Advisory locks are per database, so the fresh
 * database isolates this file; each test takes its own key.
 */
function candidate(key: number, name: string, retryMs = 50): Leadership {
  const l = startLeadership({ url: tdb.url, key, retryMs, logger, applicationName: name });
  started.push(l);
  return l;
}

async function session(name: string): Promise<{ pid: number; query: string; state: string } | undefined> {
  const r = await sql<{ pid: number; query: string; state: string }>`
    SELECT pid, query, state FROM pg_stat_activity
     WHERE datname = current_database() AND application_name = ${name}`.execute(admin);
  return r.rows[0];
}

/** Resolves once the candidate's session has asked for the lock and has its answer. */
async function asked(name: string): Promise<number> {
  return waitFor(async () => {
    const s = await session(name);
    return s?.query.includes("pg_try_advisory_lock") && s.state === "idle" ? s.pid : null;
  });
}

async function holders(key: number): Promise<string[]> {
  const r = await sql<{ application_name: string }>`
    SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
       AND l.objid = ${key}`.execute(admin);
  return r.rows.map((x) => x.application_name);
}

describe("startLeadership", () => {
  it("lets exactly one candidate lead; when it stops, the standby takes over", async () => {
    const a = candidate(101, "lead-a");
    await waitFor(() => a.isLeader());
    const b = candidate(101, "lead-b");
    await asked("lead-b");
    expect(b.isLeader()).toBe(false);
    expect(a.isLeader()).toBe(true);
    expect(await holders(101)).toEqual(["lead-a"]);

    await a.stop();
    expect(a.isLeader()).toBe(false);
    await waitFor(() => b.isLeader());
    expect(await holders(101)).toEqual(["lead-b"]);
  });

  it("a leader whose session dies stops leading at once, and the standby takes over", async () => {
    // The old leader would only retry in a minute: what it notices, it notices from its dead session.
    const a = candidate(102, "die-a", 60_000);
    await waitFor(() => a.isLeader());
    const b = candidate(102, "die-b");
    await asked("die-b");
    const pid = (await session("die-a"))?.pid;
    await sql`SELECT pg_terminate_backend(${pid})`.execute(admin);

    await waitFor(() => !a.isLeader());
    await waitFor(() => b.isLeader());
    expect(await holders(102)).toEqual(["die-b"]);
  });

  it("stop() during the first connect leaves no session behind to hold the lock", async () => {
    const a = candidate(103, "early-a");
    await a.stop();
    const b = candidate(103, "early-b");
    await waitFor(() => b.isLeader());
    expect(a.isLeader()).toBe(false);
    await waitFor(async () => ((await session("early-a")) === undefined ? true : null));
  });
});
