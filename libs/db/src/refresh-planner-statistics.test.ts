import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { loadedEnough, refreshPlannerStatistics } from "./index.ts";
import { useMigratedTestDb } from "./migrated-test-db.fixture.ts";
import { entitlement, grant, resource, syncRun } from "./sync-run.fixture.ts";

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
