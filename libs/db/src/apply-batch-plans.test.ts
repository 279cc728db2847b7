import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { completeRunIfDone } from "./complete-run.ts";
import { useMigratedTestDb } from "./migrated-test-db.fixture.ts";
import { lockRun } from "./run-lock.ts";
import { grant, subjects, syncRun } from "./sync-run.fixture.ts";

// One connection: prepared statements and their plan counts belong to a session.
const testDb = useMigratedTestDb({ poolSize: 1 });

async function planMode(): Promise<string> {
  const r = await sql<{ mode: string }>`SELECT current_setting('plan_cache_mode') AS mode`.execute(testDb.db);
  return r.rows[0]!.mode;
}

describe("applyBatch's plans", () => {
  it("sweeps a closed scope on a generic plan from its first prepared run, and leaves no setting behind", async () => {
    const tasks = Array.from({ length: 9 }, (_, i) => ({
      scope: `s${i}`,
      grants: [grant("sso_group:g:member", "sso_user", `u${i}`)],
    }));
    await syncRun(testDb.db, "plans", tasks);
    const r = await sql<{ generic: number; custom: number }>`
      SELECT generic_plans::int AS generic, custom_plans::int AS custom FROM pg_prepared_statements
       WHERE statement LIKE '%WITH swept_grants AS%' AND statement LIKE '%scope = $2%'`.execute(testDb.db);
    // Postgres's own choice would be five custom plans first (and, in a growing load, custom ever after).
    expect(r.rows).toEqual([{ generic: expect.any(Number) as number, custom: 0 }]);
    expect(r.rows[0]!.generic).toBeGreaterThan(0);
    expect(await planMode()).toBe("auto");
  });

  it("finishes a run on default plans even inside a transaction that forced generic ones", async () => {
    const runId = await syncRun(testDb.db, "plans-finish", [
      { scope: "s", grants: [grant("sso_group:g:member", "sso_user", "u")] },
    ]);
    const modes = await testDb.db.transaction().execute(async (tx) => {
      await lockRun(tx, runId, "shared", { genericPlans: true });
      const forced = await sql<{ mode: string }>`SELECT current_setting('plan_cache_mode') AS mode`.execute(
        tx,
      );
      // No task of the run is pending: completion's slow path, which returns to default plans first.
      await completeRunIfDone(tx, subjects, runId);
      const after = await sql<{ mode: string }>`SELECT current_setting('plan_cache_mode') AS mode`.execute(
        tx,
      );
      return [forced.rows[0]?.mode, after.rows[0]?.mode];
    });
    expect(modes).toEqual(["force_generic_plan", "auto"]);
  });
});
