import { sql, type Transaction } from "kysely";
import type { Grant } from "@grantline/contracts";
import type { Database } from "./database.ts";
import { compactOutbox, paddedSequence } from "./compact-events.ts";
import { noEvents, type EventCounts } from "./event-counts.ts";
import type { EventContext } from "./outbox-rows.ts";

/** The last of each key wins: one statement must not touch a row twice. */
export function dedupe<T>(items: T[], key: (t: T) => string): T[] {
  const m = new Map<string, T>();
  for (const i of items) m.set(key(i), i);
  return [...m.values()];
}

/**
 * Upserts grants stamped with the run (in `scope`, or the scope a grant names) and emits a `grant.created` event for each that is new or
 * was revoked; one that was already live changes silently. The events go to one compact outbox row written by the
 * same statement (compact-events.ts); what comes back is only their count. Used for a batch's grants and for the
 * grants derived when a run finishes, so both emit alike.
 */
export async function upsertGrants(
  tx: Transaction<Database>,
  ctx: EventContext,
  scope: string | null,
  input: Grant[],
): Promise<EventCounts> {
  if (input.length === 0) return noEvents();
  const gs = dedupe(input, (g) => g.id);
  const res = await sql<{ created: number }>`
    WITH input AS (
      SELECT * FROM unnest(${gs.map((g) => g.id)}::text[], ${gs.map((g) => g.entitlementId)}::text[], ${gs.map((g) => g.principalType)}::text[],
                           ${gs.map((g) => g.principalId)}::text[], ${gs.map((g) => g.expandable)}::boolean[], ${gs.map((g) => JSON.stringify(g.attrs))}::jsonb[],
                           ${gs.map((g) => (g.scope === undefined ? scope : g.scope))}::text[])
        AS t(id, entitlement_id, principal_type, principal_id, expandable, attrs, scope)
    ), up AS (
      INSERT INTO grants AS g (source_id, id, entitlement_id, principal_type, principal_id, expandable, attrs, scope, first_seen_run, last_seen_run)
      SELECT ${ctx.sourceId}, id, entitlement_id, principal_type, principal_id, expandable, attrs, input.scope, ${ctx.runId}::uuid, ${ctx.runId}::uuid FROM input
      ON CONFLICT (source_id, id) DO UPDATE SET
        entitlement_id = EXCLUDED.entitlement_id, principal_type = EXCLUDED.principal_type, principal_id = EXCLUDED.principal_id,
        expandable = EXCLUDED.expandable, attrs = EXCLUDED.attrs, scope = EXCLUDED.scope,
        last_seen_run = EXCLUDED.last_seen_run, revoked_at = NULL
      RETURNING g.id, g.entitlement_id, g.principal_type, g.principal_id, g.attrs, g.xmax = 0 AS inserted
    ), changed AS (
      -- A row the upsert inserted is new. One it updated was new only if it was revoked before: its old version
      -- is what this statement's snapshot still shows (no part of a statement sees another part's writes), read
      -- by a primary-key probe for those rows alone — none on a first load. From the upsert's RETURNING, so each
      -- number is taken after the row it describes was locked.
      SELECT up.id, up.entitlement_id, up.principal_type, up.principal_id, up.attrs, nextval('event_versions') AS seq
        FROM up LEFT JOIN LATERAL (
          SELECT g.revoked_at, TRUE AS found FROM grants g
           WHERE NOT up.inserted AND g.source_id = ${ctx.sourceId} AND g.id = up.id LIMIT 1
        ) o ON TRUE
       WHERE up.inserted OR o.found IS NULL OR o.revoked_at IS NOT NULL
    ), box AS (${compactOutbox(
      ctx,
      "grants",
      "changed",
      sql`json_build_array(${paddedSequence(sql.ref("changed.seq"))}, changed.id, changed.entitlement_id, changed.principal_type, changed.principal_id, changed.attrs)`,
    )})
    SELECT count(*)::int AS created FROM changed`.execute(tx);
  return { ...noEvents(), grantsCreated: res.rows[0]?.created ?? 0 };
}
