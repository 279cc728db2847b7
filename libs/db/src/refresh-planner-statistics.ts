import { sql } from "kysely";
import type { Logger } from "@grantline/log";
import type { Db } from "./create-db.ts";

/** A later run refreshes statistics when it changed at least this many rows… */
export const ANALYZE_MIN_CHANGES = 1_000;
/** …and at least this share of the rows it wrote (autovacuum's own default trigger is 10% of a table). */
export const ANALYZE_CHANGE_SHARE = 0.1;

const CHANGES = [
  "grantsCreated",
  "grantsRevoked",
  "resourcesCreated",
  "resourcesUpdated",
  "resourcesDeleted",
];

/** Whether a finished run moved enough rows for the planner's statistics to be wrong. */
export function loadedEnough(run: { is_initial: boolean; stats: Record<string, number> }): boolean {
  if (run.is_initial) return true;
  const changed = CHANGES.reduce((n, k) => n + (run.stats[k] ?? 0), 0);
  return changed >= ANALYZE_MIN_CHANGES && changed >= ANALYZE_CHANGE_SHARE * (run.stats.rows ?? 0);
}

/**
 * After a finished run that changed a lot refreshes the planner's statistics of the synced tables (a source's
 * first successful run was analyzed inside its completing transaction already). Until autovacuum gets round to it, the planner believes them nearly empty and plans
 * `effective_grants` lookups as nested loops over whole tables: `grantline access` took 73–98 s on a medium
 * org right after its first sync, 0.07 s after ANALYZE. Called after the run's transaction committed (ANALYZE
 * must not hold it open, and sees only committed rows). Never throws: stale statistics make queries slow, not
 * wrong, so a failure is logged and the run stands. Returns whether it analyzed.
 */
export async function refreshPlannerStatistics(
  db: Db,
  runId: string,
  logger: Pick<Logger, "info" | "warn">,
): Promise<boolean> {
  try {
    const run = await db
      .selectFrom("runs")
      .select(["is_initial", "stats", "status"])
      .where("id", "=", runId)
      .executeTakeFirst();
    if (!run || run.status === "running" || !loadedEnough(run)) return false;
    // A source's first successful run was analyzed inside its completing transaction (completeRunIfDone).
    if (run.is_initial && run.status === "succeeded") return false;
    const started = Date.now();
    await sql`SELECT analyze_synced_tables()`.execute(db); // ANALYZE as the tables' owner (a migration made it)
    logger.info({ runId, ms: Date.now() - started }, "planner statistics refreshed after the run's load");
    return true;
  } catch (err) {
    logger.warn(
      { err, runId },
      "refreshing planner statistics failed; access queries may be slow until autovacuum analyzes",
    );
    return false;
  }
}
