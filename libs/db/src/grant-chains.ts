import { sql } from "kysely";
import type { Kysely } from "kysely";
import type { Database } from "./database.ts";

/**
 * Recomputes one source's 2+-hop paths (`grant_chains`, migration 0006) from its live grants: who reaches an
 * expandable principal T (a role, a group) through a chain of `member` / `assignment` grants of two or more
 * hops, with the principals and grants walked, up to 5 hops, cycles cut. effective_grants joins these rows to
 * the grants held by T. Called when a run completes, inside its transaction (after the derivations and the sweep
 * have settled the grants), so the view's longer paths are those of the last completed run. Returns the rows.
 */
export async function refreshGrantChains(db: Kysely<Database>, sourceId: string): Promise<number> {
  await sql`DELETE FROM grant_chains WHERE source_id = ${sourceId}`.execute(db);
  const r = await sql`
    INSERT INTO grant_chains (source_id, t_type, t_id, principal_type, principal_id, depth, path, grant_ids,
                              conditional, derived_from)
    WITH RECURSIVE chain AS (
      -- As 0004: who reaches expandable principal T in 2+ hops, with the grants walked (T's holder first).
      SELECT m.source_id, me.resource_type AS t_type, me.resource_id AS t_id, m.principal_type, m.principal_id,
             m.expandable, 1 AS depth,
             ARRAY[me.resource_type || '/' || me.resource_id, m.principal_type || '/' || m.principal_id] AS path,
             ARRAY[m.id] AS grant_ids, m.attrs @> '{"conditional": true}' AS conditional,
             m.attrs ->> 'derivedFrom' AS derived_from
        FROM grants m JOIN entitlements me ON me.source_id = m.source_id AND me.id = m.entitlement_id
       WHERE m.source_id = ${sourceId} AND m.revoked_at IS NULL AND m.expandable AND me.deleted_at IS NULL AND me.slug IN ('member', 'assignment')  -- EXPANDING_SLUGS, @grantline/contracts
      UNION ALL
      SELECT c.source_id, c.t_type, c.t_id, m.principal_type, m.principal_id, m.expandable, c.depth + 1,
             c.path || (m.principal_type || '/' || m.principal_id), c.grant_ids || m.id,
             c.conditional OR m.attrs @> '{"conditional": true}', COALESCE(c.derived_from, m.attrs ->> 'derivedFrom')
        FROM chain c
        JOIN entitlements me ON me.source_id = c.source_id AND me.resource_type = c.principal_type
                            AND me.resource_id = c.principal_id AND me.slug IN ('member', 'assignment')  -- EXPANDING_SLUGS, @grantline/contracts
                            AND me.deleted_at IS NULL
        JOIN grants m ON m.source_id = c.source_id AND m.entitlement_id = me.id AND m.revoked_at IS NULL
       WHERE c.expandable AND c.depth < 5
         AND NOT (m.principal_type || '/' || m.principal_id) = ANY (c.path)
    )
    SELECT source_id, t_type, t_id, principal_type, principal_id, depth, path, grant_ids, conditional, derived_from
      FROM chain WHERE depth >= 2`.execute(db);
  return Number(r.numAffectedRows ?? 0);
}
