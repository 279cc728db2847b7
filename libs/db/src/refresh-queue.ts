import { canonicalJson, type RefreshIntent } from "@grantline/contracts";
import { sql, type Transaction } from "kysely";
import type { Database } from "./database.ts";

/** One targeted refresh to queue, with what caused it (a feed's record, or who asked). */
export interface QueuedRefresh {
  intent: RefreshIntent;
  feedId?: string | null;
  eventId?: string | null;
  eventName?: string | null;
  /** When the change happened (CloudTrail `eventTime`): the start of the change → refresh lag. */
  eventTime?: Date | string | null;
  requestedBy?: string | null;
}

/**
 * Queues targeted refreshes for a source in the caller's transaction (a feed window's commit, or a control
 * request). An intent identical to one still waiting is not queued twice: the waiting one will learn the same
 * state. Returns how many rows were added.
 */
export async function enqueueRefreshes(
  tx: Transaction<Database>,
  sourceId: string,
  items: readonly QueuedRefresh[],
): Promise<number> {
  const byKey = new Map<string, QueuedRefresh>();
  for (const it of items) {
    const key = canonicalJson(it.intent);
    if (!byKey.has(key)) byKey.set(key, it);
  }
  if (byKey.size === 0) return 0;
  const rows = [...byKey.entries()];
  const res = await sql<{ id: string }>`
    INSERT INTO refresh_queue (source_id, intent_key, intent, feed_id, event_id, event_name, event_time, requested_by)
    SELECT ${sourceId}, k, i, f, e, n, t, r
      FROM unnest(${rows.map(([k]) => k)}::text[], ${rows.map(([, v]) => JSON.stringify(v.intent))}::jsonb[],
                  ${rows.map(([, v]) => v.feedId ?? null)}::text[], ${rows.map(([, v]) => v.eventId ?? null)}::text[],
                  ${rows.map(([, v]) => v.eventName ?? null)}::text[],
                  ${rows.map(([, v]) => (v.eventTime == null ? null : new Date(v.eventTime).toISOString()))}::timestamptz[],
                  ${rows.map(([, v]) => v.requestedBy ?? null)}::text[]) AS x(k, i, f, e, n, t, r)
     WHERE NOT EXISTS (SELECT 1 FROM refresh_queue q
                        WHERE q.source_id = ${sourceId} AND q.run_id IS NULL AND q.intent_key = x.k)
    RETURNING id`.execute(tx);
  return res.rows.length;
}
