import { sql, type Kysely } from "kysely";
import * as m0006 from "./0006-effective-grants-exact.ts";

// The 2+-hop paths of effective_grants become a table, `grant_chains`, refreshed per source when a run
// completes (libs/db refreshGrantChains), instead of a recursive CTE the view evaluated in full on every query:
// on the large benchmark organization that CTE is 416,218 rows (Identity Center groups' members reaching the
// reserved roles their groups hold) and every `grantline access` answer took 2–4 s before its filter applied.
// Indexed by target and by principal, the view's third branch now reads only the paths of the grants a query
// touches. The rows are the CTE's (0006) at depth >= 2; the view's columns and rows are unchanged as of the
// last completed run (a run in progress changes direct and one-hop rows at once, longer paths when it ends).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
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
  await m0006.createView(db);
  await sql`DROP TABLE grant_chains`.execute(db);
}
