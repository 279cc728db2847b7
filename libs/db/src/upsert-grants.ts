import { sql, type Transaction } from "kysely";
import type { Grant } from "@grantline/contracts";
import type { Database } from "./database.ts";
import { eventRow, type EventContext, type OutboxRow } from "./outbox-rows.ts";

/** The last of each key wins: one statement must not touch a row twice. */
export function dedupe<T>(items: T[], key: (t: T) => string): T[] {
  const m = new Map<string, T>();
  for (const i of items) m.set(key(i), i);
  return [...m.values()];
}

/**
 * Upserts grants stamped with the run (all in `scope`) and returns a `grant.created` event row for each that is
 * new or was revoked; one that was already live changes silently. Used for a batch's grants and for the grants
 * derived when a run finishes, so both emit alike.
 */
export async function upsertGrants(
  tx: Transaction<Database>,
  ctx: EventContext,
  scope: string | null,
  input: Grant[],
): Promise<OutboxRow[]> {
  if (input.length === 0) return [];
  const gs = dedupe(input, (g) => g.id);
  const res = await sql<{
    id: string;
    entitlement_id: string;
    principal_type: string;
    principal_id: string;
    attrs: Record<string, unknown>;
    created: boolean;
  }>`
    WITH input AS (
      SELECT * FROM unnest(${gs.map((g) => g.id)}::text[], ${gs.map((g) => g.entitlementId)}::text[], ${gs.map((g) => g.principalType)}::text[],
                           ${gs.map((g) => g.principalId)}::text[], ${gs.map((g) => g.expandable)}::boolean[], ${gs.map((g) => JSON.stringify(g.attrs))}::jsonb[])
        AS t(id, entitlement_id, principal_type, principal_id, expandable, attrs)
    ), old AS (
      -- A primary-key probe per input row (see upsertResources).
      SELECT g.id, g.revoked_at
        FROM input i CROSS JOIN LATERAL (
          SELECT g.id, g.revoked_at FROM grants g WHERE g.source_id = ${ctx.sourceId} AND g.id = i.id LIMIT 1
        ) g
    ), up AS (
      INSERT INTO grants AS g (source_id, id, entitlement_id, principal_type, principal_id, expandable, attrs, scope, first_seen_run, last_seen_run)
      SELECT ${ctx.sourceId}, id, entitlement_id, principal_type, principal_id, expandable, attrs, ${scope}, ${ctx.runId}::uuid, ${ctx.runId}::uuid FROM input
      ON CONFLICT (source_id, id) DO UPDATE SET
        entitlement_id = EXCLUDED.entitlement_id, principal_type = EXCLUDED.principal_type, principal_id = EXCLUDED.principal_id,
        expandable = EXCLUDED.expandable, attrs = EXCLUDED.attrs, scope = EXCLUDED.scope,
        last_seen_run = EXCLUDED.last_seen_run, revoked_at = NULL
    )
    SELECT i.id, i.entitlement_id, i.principal_type, i.principal_id, i.attrs, (o.id IS NULL OR o.revoked_at IS NOT NULL) AS created
      FROM input i LEFT JOIN old o ON o.id = i.id`.execute(tx);
  return res.rows
    .filter((g) => g.created)
    .map((g) =>
      eventRow(ctx, "grant.created", `grant/${g.id}`, {
        grantId: g.id,
        entitlementId: g.entitlement_id,
        principalType: g.principal_type,
        principalId: g.principal_id,
        attrs: g.attrs,
      }),
    );
}
