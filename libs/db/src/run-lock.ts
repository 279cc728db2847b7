import { sql, type Transaction } from "kysely";
import type { Database } from "./database.ts";

// Advisory-lock class of per-run locks ("glrn"); the object id is hashtext(runId). A hash collision between two
// runs only makes them wait for each other now and then — never wrong, and the two-key form cannot collide
// with the scheduler's single-key leader lock.
const RUN_LOCK_CLASS = 0x676c726e;

/**
 * Held (shared) by every transaction that applies a batch of the run, and exclusively by the one that cancels
 * it. A lock rather than the run row: row locks let a stream of shared lockers starve the exclusive one,
 * heavyweight locks queue fairly — a cancel waits for the batches in flight, and the batches after it wait
 * for the cancel and then see the run cancelled.
 */
export async function lockRun(
  tx: Transaction<Database>,
  runId: string,
  mode: "shared" | "exclusive",
  opts: { genericPlans?: boolean } = {},
): Promise<void> {
  // Riding on this statement, no round trip of its own: see `applyBatch` for why and until when.
  const generic = opts.genericPlans
    ? sql`, set_config('plan_cache_mode', 'force_generic_plan', true)`
    : sql``;
  await (
    mode === "shared"
      ? sql`SELECT pg_advisory_xact_lock_shared(${RUN_LOCK_CLASS}::int, hashtext(${runId}))${generic}`
      : sql`SELECT pg_advisory_xact_lock(${RUN_LOCK_CLASS}::int, hashtext(${runId}))${generic}`
  ).execute(tx);
}

/**
 * Ends what `lockRun(…, { genericPlans: true })` began: Postgres plans the rest of the transaction as its
 * session is configured to (normally `auto`: custom or generic plan, whichever it judges cheaper).
 */
export async function defaultPlans(tx: Transaction<Database>): Promise<void> {
  await sql`SET LOCAL plan_cache_mode TO DEFAULT`.execute(tx);
}
