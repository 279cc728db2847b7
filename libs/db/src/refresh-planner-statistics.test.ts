import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { applyBatch, createLoadAnalyzer, loadedEnough, refreshPlannerStatistics, startRun } from "./index.ts";
import { useMigratedTestDb } from "./migrated-test-db.fixture.ts";
import { diagRequest, entitlement, grant, resource, subjects, syncRun } from "./sync-run.fixture.ts";

const testDb = useMigratedTestDb();

function recorder() {
  const lines: Array<[string, unknown]> = [];
  return {
    lines,
    info: (o: unknown) => void lines.push(["info", o]),
    warn: (o: unknown) => void lines.push(["warn", o]),
  };
}

/** The planner's row estimate: -1 until the table is first analyzed (or vacuumed). */
async function estimatedGrants(): Promise<number> {
  const r = await sql<{
    n: number;
  }>`SELECT reltuples::int AS n FROM pg_class WHERE oid = 'grants'::regclass`.execute(testDb.db);
  return r.rows[0]!.n;
}

/** How many times grants was analyzed by hand (ANALYZE, not autovacuum's). */
async function analyzeCount(): Promise<number> {
  const r = await sql<{
    n: number;
  }>`SELECT analyze_count::int AS n FROM pg_stat_user_tables WHERE relid = 'grants'::regclass`.execute(
    testDb.db,
  );
  return r.rows[0]!.n;
}

/** A load under way: `n` grants applied by the first of two tasks, so the run has not completed (nor analyzed). */
async function loadUnderWay(n: number): Promise<void> {
  const runId = randomUUID();
  const roots = [0, 1].map((i) => diagRequest(runId, "la", { i }, "s"));
  await startRun(testDb.db, { sourceId: "la", runId, roots, subjects });
  const g = entitlement("sso_group", "g", "member");
  const users = Array.from({ length: n }, (_, i) => `u${i}`);
  const r = await applyBatch(testDb.db, subjects, {
    v: 1,
    taskId: roots[0]!.taskId,
    runId,
    sourceId: "la",
    scope: "s",
    resources: users.map((u) => resource("sso_user", u)),
    entitlements: [g],
    grants: users.map((u) => grant(g.id, "sso_user", u)),
    children: [],
    scopeComplete: false,
    keepScopes: [],
    stats: { awsCalls: 1, throttled: 0 },
    warnings: [],
  });
  expect(r).toMatchObject({ applied: true, runFinished: null });
}

describe("refreshPlannerStatistics", () => {
  it("a first load is analyzed as its run completes; later, a run that changed many rows is, one that changed nothing is not", async () => {
    const g = entitlement("sso_group", "g", "member");
    const load = (n: number) => {
      const users = Array.from({ length: n }, (_, i) => `u${i}`);
      return [
        {
          scope: "s",
          resources: users.map((u) => resource("sso_user", u)),
          entitlements: [g],
          grants: users.map((u) => grant(g.id, "sso_user", u)),
        },
      ];
    };
    // The completing transaction of a source's first run analyzes (its derivations need statistics).
    const first = await syncRun(testDb.db, "an", load(50));
    expect(await estimatedGrants()).toBe(50);
    const log = recorder();
    // …so the refresh after it does not analyze the same rows again.
    expect(await refreshPlannerStatistics(testDb.db, first, log)).toBe(false);

    const unchanged = await syncRun(testDb.db, "an", load(50));
    expect(await refreshPlannerStatistics(testDb.db, unchanged, log)).toBe(false);

    const grown = await syncRun(testDb.db, "an", load(1_200));
    expect(await refreshPlannerStatistics(testDb.db, grown, log)).toBe(true);
    expect(await estimatedGrants()).toBe(1_200);
    expect(log.lines.map(([level]) => level)).toEqual(["info"]);
  });

  it("never fails its caller: a failure is logged", async () => {
    const log = recorder();
    expect(await refreshPlannerStatistics(testDb.db, "not-a-run-id", log)).toBe(false);
    expect(log.lines.map(([level]) => level)).toEqual(["warn"]);
  });

  it("counts a later run as a load when it changed ≥ 1000 rows and ≥ 10% of what it wrote", () => {
    const later = (changed: number, rows: number) => ({
      is_initial: false,
      stats: { rows, grantsCreated: changed / 2, resourcesDeleted: changed / 2 },
    });
    expect(loadedEnough({ is_initial: true, stats: {} })).toBe(true);
    expect(loadedEnough(later(1000, 10_000))).toBe(true);
    expect(loadedEnough(later(998, 1000))).toBe(false);
    expect(loadedEnough(later(2000, 100_000))).toBe(false);
  });
});

describe("createLoadAnalyzer", () => {
  it("analyzes in the background once the rows applied reach the first threshold, then at each doubling, one at a time", async () => {
    await loadUnderWay(300);
    const before = await analyzeCount();
    const log = recorder();
    const analyzer = createLoadAnalyzer(testDb.db, log, { firstRows: 100 });

    analyzer.noteRows(99);
    await analyzer.idle();
    expect(await analyzeCount()).toBe(before);

    analyzer.noteRows(1); // 100: the first threshold; the next is 200
    analyzer.noteRows(150); // 250 while that one runs: not a second at once
    await analyzer.idle();
    expect(await analyzeCount()).toBe(before + 1);
    expect(log.lines).toEqual([["info", expect.objectContaining({ rows: 100 })]]);

    analyzer.noteRows(1); // 251 ≥ 200, deferred while the first ran: runs now; the next is 502
    await analyzer.idle();
    expect(log.lines).toHaveLength(2);
    analyzer.noteRows(200); // 451
    await analyzer.idle();
    expect(log.lines).toHaveLength(2);
  });

  it("never fails its caller: a failing ANALYZE is logged", async () => {
    const log = recorder();
    await sql`ALTER FUNCTION analyze_synced_tables() RENAME TO analyze_synced_tables_away`.execute(testDb.db);
    try {
      const analyzer = createLoadAnalyzer(testDb.db, log, { firstRows: 1 });
      analyzer.noteRows(1);
      await analyzer.idle();
    } finally {
      await sql`ALTER FUNCTION analyze_synced_tables_away() RENAME TO analyze_synced_tables`.execute(
        testDb.db,
      );
    }
    expect(log.lines).toEqual([["warn", expect.objectContaining({ rows: 1 })]]);
  });
});
