import { sql, type Transaction } from "kysely";
import type { Resource } from "@grantline/contracts";
import type { Database } from "./database.ts";
import type { EventContext } from "./outbox-rows.ts";
import { dedupe } from "./upsert-grants.ts";

/**
 * Stores the external-id values of the batch's resources that carry them (roles: `Resource.trustExternalIds`),
 * in the transaction that upserts their rows: each such resource's set is replaced by the one it carries now, so
 * an id taken out of a trust policy is deleted with that change. No event: events carry the fingerprints in the
 * role's attrs only. A role swept later loses its values too (migration 0013's trigger).
 */
export async function storeTrustExternalIds(
  tx: Transaction<Database>,
  ctx: EventContext,
  resources: Resource[],
): Promise<void> {
  // The same row upsertResources kept for a resource listed twice.
  const owners = dedupe(
    resources.filter((r) => r.trustExternalIds !== undefined),
    (r) => `${r.type}\u0000${r.id}`,
  );
  if (owners.length === 0) return;
  const rows = owners.flatMap((r) =>
    dedupe(r.trustExternalIds ?? [], (x) => x.fingerprint).map((x) => ({ type: r.type, id: r.id, ...x })),
  );
  const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((x) => x[k]);
  await sql`
    DELETE FROM trust_external_ids t
     USING unnest(${owners.map((r) => r.type)}::text[], ${owners.map((r) => r.id)}::text[]) AS o(type, id)
     WHERE t.source_id = ${ctx.sourceId} AND t.resource_type = o.type AND t.resource_id = o.id
       AND (t.resource_type, t.resource_id, t.fingerprint) NOT IN (
         SELECT * FROM unnest(${col("type")}::text[], ${col("id")}::text[], ${col("fingerprint")}::text[]))`.execute(
    tx,
  );
  if (rows.length === 0) return;
  await sql`
    INSERT INTO trust_external_ids AS t
           (source_id, resource_type, resource_id, fingerprint, value, first_seen_run, last_seen_run)
    SELECT ${ctx.sourceId}, type, id, fingerprint, value, ${ctx.runId}::uuid, ${ctx.runId}::uuid
      FROM unnest(${col("type")}::text[], ${col("id")}::text[], ${col("fingerprint")}::text[], ${col("value")}::text[])
        AS i(type, id, fingerprint, value)
    ON CONFLICT (source_id, resource_type, resource_id, fingerprint) DO UPDATE SET
      value = EXCLUDED.value, last_seen_run = EXCLUDED.last_seen_run,
      updated_at = CASE WHEN t.value IS DISTINCT FROM EXCLUDED.value THEN now() ELSE t.updated_at END`.execute(
    tx,
  );
}
