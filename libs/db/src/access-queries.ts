import { sql } from "kysely";
import type { Db } from "./create-db.ts";

/**
 * One way a principal reaches an account, in the columns of `effective_grants` (which `grantline access who
 * --json` prints as they are). `via_*` names the group or role it is reached through; null for a direct grant.
 */
export interface AccountAccess {
  principal_type: string;
  principal_id: string;
  entitlement_id: string;
  via_type: string | null;
  via_id: string | null;
  /** The principal's name as last synced; null when it is not (or no longer) a known resource. */
  principal_name: string | null;
}

/** One thing a principal reaches, in the columns of `effective_grants` (`grantline access of --json`). */
export interface PrincipalAccess {
  resource_type: string;
  resource_id: string;
  slug: string;
  via_type: string | null;
  via_id: string | null;
}

/** Who can reach the account, directly or through a group or role, in every source; ordered by principal. */
export async function accessToAccount(db: Db, accountId: string): Promise<AccountAccess[]> {
  const r = await sql<AccountAccess>`
    SELECT eg.principal_type, eg.principal_id, eg.entitlement_id, eg.via_type, eg.via_id, r.name AS principal_name
      FROM effective_grants eg LEFT JOIN resources r ON r.source_id = eg.source_id AND r.type = eg.principal_type AND r.id = eg.principal_id
     WHERE eg.resource_type = 'account' AND eg.resource_id = ${accountId}
     ORDER BY 1, 2, 3`.execute(db);
  return r.rows;
}

/** What a user, group or role can reach, directly or through a group or role, in every source. */
export async function accessOfPrincipal(db: Db, principalId: string): Promise<PrincipalAccess[]> {
  const r = await sql<PrincipalAccess>`
    SELECT eg.resource_type, eg.resource_id, eg.slug, eg.via_type, eg.via_id
      FROM effective_grants eg WHERE eg.principal_id = ${principalId} ORDER BY 1, 2, 3`.execute(db);
  return r.rows;
}
