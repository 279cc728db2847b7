import { connect as connectTcp, createServer, type Server, type Socket } from "node:net";
import { sql } from "kysely";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@grantline/log";
import { createTestDatabase, testInfra, waitFor, type TestDatabase } from "@grantline/testing";
import { createDb, leadershipBounds, startLeadership, type Db, type Leadership } from "./index.ts";

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
function candidate(key: number, name: string, retryMs = 50, url = tdb.url): Leadership {
  const l = startLeadership({ url, key, retryMs, logger, applicationName: name });
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

  it("a leader cut off from Postgres (half-open connection) steps down, and a standby leads within the bound", async () => {
    // The leader reaches Postgres through a proxy that can be frozen: bytes stop flowing both ways but no
    // connection is closed or reset — what a network partition looks like to both ends.
    const db = new URL(tdb.url);
    const sockets: Socket[] = [];
    let frozen = false;
    const proxy: Server = createServer((client) => {
      sockets.push(client);
      // A partition lets no new connection through either: it is accepted and never answered.
      if (frozen) return;
      const upstream = connectTcp(Number(db.port || 5432), db.hostname);
      sockets.push(upstream);
      client.pipe(upstream).pipe(client);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, "127.0.0.1", r));
    const viaProxy = new URL(tdb.url);
    viaProxy.hostname = "127.0.0.1";
    viaProxy.port = String((proxy.address() as { port: number }).port);
    try {
      const retryMs = 1000;
      const a = candidate(104, "part-a", retryMs, viaProxy.toString());
      await waitFor(() => a.isLeader());
      const b = candidate(104, "part-b", retryMs);
      await asked("part-b");

      frozen = true;
      for (const s of sockets) {
        s.unpipe();
        s.pause();
      }
      const cut = Date.now();
      let both = false;
      const watch = setInterval(() => (both ||= a.isLeader() && b.isLeader()), 20);
      const bounds = leadershipBounds({ retryMs });
      await waitFor(() => !a.isLeader(), { timeoutMs: bounds.stepDownMs + 5_000, message: "a steps down" });
      const steppedDown = Date.now() - cut;
      await waitFor(() => b.isLeader(), { timeoutMs: bounds.takeoverMs + 10_000, message: "b leads" });
      const tookOver = Date.now() - cut;
      clearInterval(watch);
      expect(both).toBe(false);
      // Allow a second of scheduling slack on a loaded machine over the documented bounds.
      expect(steppedDown).toBeLessThanOrEqual(bounds.stepDownMs + 1000);
      expect(tookOver).toBeLessThanOrEqual(bounds.takeoverMs + 1000);
      expect(await holders(104)).toEqual(["part-b"]);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => proxy.close(r));
    }
  });
});
