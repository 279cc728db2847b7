import { sql, type Kysely } from "kysely";

// "Who can reach X" in one query: direct grants plus grants held through group membership. A group's
// membership is itself a grant on the group's `member` entitlement (`<type>:<groupId>:member`).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
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

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP VIEW effective_grants`.execute(db);
}
