import { sql, type Kysely } from "kysely";
import * as m0004 from "./0004-effective-grants-iam.ts";

// effective_grants as 0004 (same rows, same columns first) plus what a caller needs to judge a path without
// re-walking it: `grant_ids` (the grants on the path, the direct grant first, so their attrs — conditions,
// derivation — can be read), `conditional` (some grant on the path carries attrs.conditional = true),
// `derived_from` (the first attrs.derivedFrom on the path: a grant grantline derived, not one AWS lists) and
// `active` (false when the principal is a disabled Identity Center user, or the target's or the principal's
// account is suspended: AWS still lists those grants, but they cannot be used).
//
// The paths of two or more hops are no longer a recursive CTE evaluated in full by every query (416,218 rows on
// the large benchmark organization, 2–4 s per `grantline access` answer before its filter applied) but a table,
// `grant_chains`, recomputed per source when a run completes (libs/db `refreshGrantChains`, which holds the
// recursive query) and indexed by target and by principal; the third branch reads only the paths of the grants
// a query touches. Direct and one-hop rows stay plain joins over grants (a filter on the view reaches the grants
// indexes). `active` is evaluated per output row through two small partial indexes (suspended accounts,
// disabled users): an index probe per row returned, nothing per row scanned.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE INDEX resources_suspended_accounts ON resources (source_id, id)
      WHERE type = 'account' AND deleted_at IS NULL AND attrs @> '{"suspended": true}';
    CREATE INDEX resources_disabled_sso_users ON resources (source_id, id)
      WHERE type = 'sso_user' AND deleted_at IS NULL AND attrs @> '{"status": "DISABLED"}';
    CREATE TABLE grant_chains (
      source_id text NOT NULL,
      t_type text NOT NULL,
      t_id text NOT NULL,
      principal_type text NOT NULL,
      principal_id text NOT NULL,
      depth int NOT NULL,
      path text[] NOT NULL,
      grant_ids text[] NOT NULL,
      conditional boolean NOT NULL,
      derived_from text
    );
    CREATE INDEX grant_chains_target ON grant_chains (source_id, t_type, t_id);
    CREATE INDEX grant_chains_principal ON grant_chains (source_id, principal_id);
    DROP VIEW effective_grants;
    CREATE VIEW effective_grants AS
    SELECT r.source_id, r.entitlement_id, r.resource_type, r.resource_id, r.slug, r.principal_type, r.principal_id,
           r.via_type, r.via_id, r.grant_id, r.depth, r.path,
           NOT (
             (r.principal_type = 'sso_user' AND EXISTS (
               SELECT 1 FROM resources u
                WHERE u.source_id = r.source_id AND u.type = 'sso_user' AND u.id = r.principal_id
                  AND u.deleted_at IS NULL AND u.attrs @> '{"status": "DISABLED"}'))
             OR EXISTS (
               -- The account of an ARN is its 5th field (arn:aws:iam::<account>:…); an inline policy's id starts
               -- with its owner's ARN. Ids that are not ARNs (Identity Center ids) name no account.
               SELECT 1 FROM resources a
                WHERE a.source_id = r.source_id AND a.type = 'account' AND a.deleted_at IS NULL
                  AND a.attrs @> '{"suspended": true}'
                  AND a.id IN (CASE WHEN r.resource_type = 'account' THEN r.resource_id
                                    WHEN r.resource_id LIKE 'arn:%' THEN split_part(r.resource_id, ':', 5) END,
                               CASE WHEN r.principal_type = 'aws_account' THEN r.principal_id
                                    WHEN r.principal_id LIKE 'arn:%' THEN split_part(r.principal_id, ':', 5) END))
           ) AS active,
           r.conditional, r.derived_from, r.grant_ids
      FROM (
        SELECT g.source_id, g.entitlement_id, e.resource_type, e.resource_id, e.slug,
               g.principal_type, g.principal_id, NULL::text AS via_type, NULL::text AS via_id, g.id AS grant_id,
               0 AS depth, ARRAY[g.principal_type || '/' || g.principal_id] AS path,
               ARRAY[g.id] AS grant_ids, g.attrs @> '{"conditional": true}' AS conditional,
               g.attrs ->> 'derivedFrom' AS derived_from
          FROM grants g JOIN entitlements e ON e.source_id = g.source_id AND e.id = g.entitlement_id
         WHERE g.revoked_at IS NULL AND e.deleted_at IS NULL
        UNION ALL
        SELECT g.source_id, g.entitlement_id, e.resource_type, e.resource_id, e.slug,
               m.principal_type, m.principal_id, g.principal_type, g.principal_id, g.id,
               1, ARRAY[g.principal_type || '/' || g.principal_id, m.principal_type || '/' || m.principal_id],
               ARRAY[g.id, m.id], g.attrs @> '{"conditional": true}' OR m.attrs @> '{"conditional": true}',
               COALESCE(g.attrs ->> 'derivedFrom', m.attrs ->> 'derivedFrom')
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
               c.principal_type, c.principal_id, g.principal_type, g.principal_id, g.id, c.depth, c.path,
               ARRAY[g.id] || c.grant_ids, g.attrs @> '{"conditional": true}' OR c.conditional,
               COALESCE(g.attrs ->> 'derivedFrom', c.derived_from)
          FROM grants g
          JOIN entitlements e ON e.source_id = g.source_id AND e.id = g.entitlement_id
          JOIN grant_chains c ON c.source_id = g.source_id AND c.t_type = g.principal_type AND c.t_id = g.principal_id
         WHERE g.revoked_at IS NULL AND e.deleted_at IS NULL AND g.expandable
           AND NOT (e.resource_type || '/' || e.resource_id) = ANY (c.path)
      ) r;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // 0004's up drops the view and creates its own.
  await m0004.up(db);
  await sql`DROP TABLE grant_chains; DROP INDEX resources_suspended_accounts, resources_disabled_sso_users`.execute(
    db,
  );
}
