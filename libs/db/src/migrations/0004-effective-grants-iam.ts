import { sql, type Kysely } from "kysely";

// effective_grants, now transitive: a grant to an expandable principal X (a group, a role) reaches whoever
// holds X's own entitlement — `member` of a group, `assignment` (may assume) of a role — and, when that holder
// is expandable too (a role trusted by a role…), whoever holds its entitlement, up to 5 hops. `path` lists the
// principals walked (`type/id`, the direct grantee first); a principal already on the path is not walked
// again (nor the entitlement's own resource: a role does not "reach" its own assignment), so role-trust
// cycles terminate. `via_*` is the direct grantee of the grant (as before: the group or
// role the principal reaches it through); `depth` is 0 for a direct grant, 1 for a group member, 2+ for chains.
// Direct grants and one hop are plain joins (a filter on the view is pushed into them, as before); only chains
// of 2+ hops come from the recursive CTE, which starts from expandable holders only (roles trusting roles).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP VIEW effective_grants;
    CREATE VIEW effective_grants AS
    WITH RECURSIVE chain AS (
      -- Who reaches expandable principal T in 2+ hops. Seeded only with expandable holders (a role trusted by a
      -- role, a group in a group): small, and independent of resources, so a filter on the view still reaches
      -- the grants table through the first two branches.
      SELECT m.source_id, me.resource_type AS t_type, me.resource_id AS t_id, m.principal_type, m.principal_id,
             m.expandable, 1 AS depth,
             ARRAY[me.resource_type || '/' || me.resource_id, m.principal_type || '/' || m.principal_id] AS path
        FROM grants m JOIN entitlements me ON me.source_id = m.source_id AND me.id = m.entitlement_id
       WHERE m.revoked_at IS NULL AND m.expandable AND me.deleted_at IS NULL AND me.slug IN ('member', 'assignment')  -- EXPANDING_SLUGS, @grantline/contracts
      UNION ALL
      SELECT c.source_id, c.t_type, c.t_id, m.principal_type, m.principal_id, m.expandable, c.depth + 1,
             c.path || (m.principal_type || '/' || m.principal_id)
        FROM chain c
        JOIN entitlements me ON me.source_id = c.source_id AND me.resource_type = c.principal_type
                            AND me.resource_id = c.principal_id AND me.slug IN ('member', 'assignment')  -- EXPANDING_SLUGS, @grantline/contracts
                            AND me.deleted_at IS NULL
        JOIN grants m ON m.source_id = c.source_id AND m.entitlement_id = me.id AND m.revoked_at IS NULL
       WHERE c.expandable AND c.depth < 5
         AND NOT (m.principal_type || '/' || m.principal_id) = ANY (c.path)
    )
    SELECT g.source_id, g.entitlement_id, e.resource_type, e.resource_id, e.slug,
           g.principal_type, g.principal_id, NULL::text AS via_type, NULL::text AS via_id, g.id AS grant_id,
           0 AS depth, ARRAY[g.principal_type || '/' || g.principal_id] AS path
      FROM grants g JOIN entitlements e ON e.source_id = g.source_id AND e.id = g.entitlement_id
     WHERE g.revoked_at IS NULL AND e.deleted_at IS NULL
    UNION ALL
    SELECT g.source_id, g.entitlement_id, e.resource_type, e.resource_id, e.slug,
           m.principal_type, m.principal_id, g.principal_type, g.principal_id, g.id,
           1, ARRAY[g.principal_type || '/' || g.principal_id, m.principal_type || '/' || m.principal_id]
      FROM grants g
      JOIN entitlements e ON e.source_id = g.source_id AND e.id = g.entitlement_id
      JOIN entitlements me ON me.source_id = g.source_id AND me.resource_type = g.principal_type
                          AND me.resource_id = g.principal_id AND me.slug IN ('member', 'assignment')  -- EXPANDING_SLUGS, @grantline/contracts
                          AND me.deleted_at IS NULL
      JOIN grants m ON m.source_id = g.source_id AND m.entitlement_id = me.id AND m.revoked_at IS NULL
     WHERE g.revoked_at IS NULL AND e.deleted_at IS NULL AND g.expandable
       AND NOT (m.principal_type = e.resource_type AND m.principal_id = e.resource_id)
    UNION ALL
    SELECT g.source_id, g.entitlement_id, e.resource_type, e.resource_id, e.slug,
           c.principal_type, c.principal_id, g.principal_type, g.principal_id, g.id, c.depth, c.path
      FROM grants g
      JOIN entitlements e ON e.source_id = g.source_id AND e.id = g.entitlement_id
      JOIN chain c ON c.source_id = g.source_id AND c.t_type = g.principal_type AND c.t_id = g.principal_id
     WHERE g.revoked_at IS NULL AND e.deleted_at IS NULL AND g.expandable AND c.depth >= 2
       AND NOT (e.resource_type || '/' || e.resource_id) = ANY (c.path);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP VIEW effective_grants;
    CREATE VIEW effective_grants AS
    SELECT g.source_id, g.entitlement_id, e.resource_type, e.resource_id, e.slug,
           g.principal_type, g.principal_id, NULL::text AS via_type, NULL::text AS via_id, g.id AS grant_id
      FROM grants g JOIN entitlements e ON e.source_id = g.source_id AND e.id = g.entitlement_id
     WHERE g.revoked_at IS NULL AND e.deleted_at IS NULL
    UNION ALL
    SELECT g.source_id, g.entitlement_id, e.resource_type, e.resource_id, e.slug,
           m.principal_type, m.principal_id, g.principal_type, g.principal_id, g.id
      FROM grants g
      JOIN entitlements e ON e.source_id = g.source_id AND e.id = g.entitlement_id
      JOIN entitlements me ON me.source_id = g.source_id AND me.resource_type = g.principal_type
                          AND me.resource_id = g.principal_id AND me.slug = 'member' AND me.deleted_at IS NULL  -- FixedEntitlementSlug.enum.member, @grantline/contracts
      JOIN grants m ON m.source_id = g.source_id AND m.entitlement_id = me.id AND m.revoked_at IS NULL
     WHERE g.revoked_at IS NULL AND e.deleted_at IS NULL AND g.expandable;
  `.execute(db);
}
