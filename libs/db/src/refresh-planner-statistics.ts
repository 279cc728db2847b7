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

export interface LoadAnalyzerOptions {
  /** Rows a writer applies before its first ANALYZE. @default 5000 */
  firstRows?: number;
  /** Each later ANALYZE waits until the rows applied since start grew by this factor. @default 2 */
  growth?: number;
}

export interface LoadAnalyzer {
  /** Counts rows a batch applied; starts an ANALYZE in the background when the next threshold is crossed. */
  noteRows(rows: number): void;
  /** Resolves when no ANALYZE started here is running (shutdown, tests). */
  idle(): Promise<void>;
}

// One ANALYZE of the synced tables at a time across writer replicas (pg_try_advisory_xact_lock's key space).
const LOAD_ANALYZE_LOCK = 0x676c_616e; // "glan"

/**
 * Keeps the planner's statistics near the truth while a load is under way, not only after it. During a source's
 * first sync the statistics describe the synced tables as autovacuum last saw them — nearly empty, or holding a
 * few scopes — and the planner takes plans that read a whole source per statement: each assignment page's scope
 * sweep ran on the entitlement index with only `source_id` as its condition and read every grant of the
 * source, 11.6 ms per sweep, 116 s of Postgres time over the 12,000 pages of the large benchmark organization
 * (quadratic in the load). So a writer ANALYZEs each time the rows it applied since it started have doubled
 * (5,000, 10,000, 20,000, …): a handful per load, each sampling at most 30,000 rows a table, and ever rarer
 * afterwards. In the background (a batch never waits for it), one at a time per process and across replicas,
 * and it never throws: stale statistics make statements slow, not wrong.
 */
export function createLoadAnalyzer(
  db: Db,
  logger: Pick<Logger, "info" | "warn">,
  o: LoadAnalyzerOptions = {},
): LoadAnalyzer {
  const growth = o.growth ?? 2;
  let applied = 0;
  let next = o.firstRows ?? 5_000;
  let running: Promise<void> | null = null;

  async function analyze(rows: number): Promise<void> {
    const started = Date.now();
    try {
      const ran = await db.transaction().execute(async (tx) => {
        const lock = await sql<{
          got: boolean;
        }>`SELECT pg_try_advisory_xact_lock(${LOAD_ANALYZE_LOCK}) AS got`.execute(tx);
        if (!lock.rows[0]?.got) return false; // another replica is analyzing the same tables right now
        await sql`SELECT analyze_synced_tables()`.execute(tx);
        return true;
      });
      if (ran) logger.info({ rows, ms: Date.now() - started }, "planner statistics refreshed during a load");
    } catch (err) {
      logger.warn(
        { err, rows },
        "refreshing planner statistics during a load failed; statements may be slow",
      );
    }
  }

  return {
    noteRows(rows) {
      applied += rows;
      if (applied < next || running) return;
      next = applied * growth;
      running = analyze(applied).finally(() => {
        running = null;
      });
    },
    idle: async () => {
      await running;
    },
  };
}
