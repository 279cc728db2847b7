import type { ProvisioningRequestSummary } from "@grantline/contracts";
import type { Db } from "../create-db.ts";
import { loadHolders, summaryOf } from "./provisioning-records.ts";

const LIVE = ["accepted", "executing", "active"];

/**
 * `grantline grants`: the requests still in force (accepted, executing, active) with each grant's holders and
 * expiries, soonest expiry first; `all` adds ended ones, newest first.
 */
export async function listGrantRequests(
  db: Db,
  o: { sourceId?: string; all?: boolean; limit?: number } = {},
): Promise<ProvisioningRequestSummary[]> {
  let q = db
    .selectFrom("provisioning_requests")
    .selectAll()
    .limit(o.limit ?? 200);
  if (o.sourceId !== undefined) q = q.where("source_id", "=", o.sourceId);
  q = o.all
    ? q.orderBy("created_at", "desc").orderBy("id")
    : q
        .where("state", "in", LIVE)
        .orderBy("expires_at", (ob) => ob.asc().nullsLast())
        .orderBy("id");
  const rows = await q.execute();
  const holders = new Map<string, Awaited<ReturnType<typeof loadHolders>>>();
  for (const r of rows)
    if (!holders.has(r.grant_key)) holders.set(r.grant_key, await loadHolders(db, r.grant_key));
  return rows.map((r) => summaryOf(r, holders.get(r.grant_key) ?? []));
}
