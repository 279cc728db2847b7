import { sql, type Transaction } from "kysely";
import type { Database } from "./database.ts";

// Advisory-lock class of per-run locks ("glrn"); the object id is hashtext(runId). A hash collision between two
// runs only makes them wait for each other now and then — never wrong, and the two-key form cannot collide
// with the scheduler's single-key leader lock.
const RUN_LOCK_CLASS = 0x676c726e;

/**
 * What a transaction already holds, so a transaction that applies several batches of one run (`applyBatches`)
 * takes the run's lock once. Keyed by the transaction object, which lives as long as the transaction: nothing
 * to clean up, and a caller cannot forget to pass it along.
 */
const held = new WeakMap<object, { shared: Set<string>; generic: boolean }>();

function stateOf(tx: Transaction<Database>) {
  let s = held.get(tx);
  if (!s) held.set(tx, (s = { shared: new Set(), generic: false }));
  return s;
}

/**
 * Held (shared) by every transaction that applies a batch of the run, and exclusively by the one that cancels
 * it. A lock rather than the run row: row locks let a stream of shared lockers starve the exclusive one,
 * heavyweight locks queue fairly — a cancel waits for the batches in flight, and the batches after it wait
 * for the cancel and then see the run cancelled.
 *
 * `genericPlans` switches the rest of the transaction to generic plans (see `applyBatch` for why); `false` asks
 * for the default, which a transaction that switched earlier returns to first.
 */
export async function lockRun(
  tx: Transaction<Database>,
  runId: string,
  mode: "shared" | "exclusive",
  opts: { genericPlans?: boolean } = {},
): Promise<void> {
  const state = stateOf(tx);
  const wantGeneric = opts.genericPlans ?? false;
  if (state.generic && !wantGeneric) await defaultPlans(tx);
  // Already held, on the plans asked for: a shared lock taken again would only stack.
  if (mode === "shared" && state.shared.has(runId) && state.generic === wantGeneric) return;
  // Riding on this statement, no round trip of its own.
  const generic = wantGeneric ? sql`, set_config('plan_cache_mode', 'force_generic_plan', true)` : sql``;
  await (
    mode === "shared"
      ? sql`SELECT pg_advisory_xact_lock_shared(${RUN_LOCK_CLASS}::int, hashtext(${runId}))${generic}`
      : sql`SELECT pg_advisory_xact_lock(${RUN_LOCK_CLASS}::int, hashtext(${runId}))${generic}`
  ).execute(tx);
  if (mode === "shared") state.shared.add(runId);
  state.generic = wantGeneric;
}

/**
 * Ends what `lockRun(…, { genericPlans: true })` began: Postgres plans the rest of the transaction as its
 * session is configured to (normally `auto`: custom or generic plan, whichever it judges cheaper).
 */
export async function defaultPlans(tx: Transaction<Database>): Promise<void> {
  await sql`SET LOCAL plan_cache_mode TO DEFAULT`.execute(tx);
  stateOf(tx).generic = false;
}
