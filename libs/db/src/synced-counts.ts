import { sql } from "kysely";
import type { Db } from "./create-db.ts";

/** What is live in Postgres, over every source. */
export interface SyncedCounts {
  /** Live resources per type (`account`, `sso_user`…). */
  resources: Record<string, number>;
  entitlements: number;
  grants: number;
  /** Rows of `effective_grants`: grants with groups (and role chains) expanded to whoever they reach. */
  effectiveGrants: number;
}

/** Counts of live synced rows, for a summary after a sync (the demo prints it). */
export async function syncedCounts(db: Db): Promise<SyncedCounts> {
  const r = await sql<{ kind: string; type: string | null; n: number }>`
    SELECT 'resources' AS kind, type, count(*)::int AS n FROM resources WHERE deleted_at IS NULL GROUP BY type
    UNION ALL SELECT 'entitlements', NULL, count(*)::int FROM entitlements WHERE deleted_at IS NULL
    UNION ALL SELECT 'grants', NULL, count(*)::int FROM grants WHERE revoked_at IS NULL
    UNION ALL SELECT 'effective_grants', NULL, count(*)::int FROM effective_grants`.execute(db);
  const counts: SyncedCounts = { resources: {}, entitlements: 0, grants: 0, effectiveGrants: 0 };
  for (const row of r.rows) {
    if (row.kind === "resources" && row.type !== null) counts.resources[row.type] = row.n;
    else if (row.kind === "entitlements") counts.entitlements = row.n;
    else if (row.kind === "grants") counts.grants = row.n;
    else if (row.kind === "effective_grants") counts.effectiveGrants = row.n;
  }
  return counts;
}
