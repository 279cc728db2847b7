import { sql, type Transaction } from "kysely";
import type { Database } from "./database.ts";
import type { EventCounts } from "./event-counts.ts";
import { eventRow, insertEvents, type EventContext, type OutboxRow } from "./outbox-rows.ts";

/**
 * Mark-and-sweep: rows of `scope` (or of the whole source when `scope` is null) that this run did not stamp
 * are revoked/deleted, each with its event. Running it twice is harmless — the second finds nothing.
 *
 * AWS-managed policies are kept: GAAD lists only the policies an account attaches, so one no account attaches
 * any more goes unseen, yet AWS still has it (and any account may attach it again). Their attachment grants are
 * per account and swept as usual.
 */
async function sweep(
  tx: Transaction<Database>,
  ctx: EventContext,
  scope: string | null,
): Promise<EventCounts> {
  const inScope = scope === null ? sql`TRUE` : sql`scope = ${scope}`;
  const grants = await sql<{
    id: string;
    entitlement_id: string;
    principal_type: string;
    principal_id: string;
    attrs: Record<string, unknown>;
  }>`
    UPDATE grants SET revoked_at = now()
     WHERE source_id = ${ctx.sourceId} AND ${inScope} AND revoked_at IS NULL AND last_seen_run <> ${ctx.runId}
    RETURNING id, entitlement_id, principal_type, principal_id, attrs`.execute(tx);
  const resources = await sql<{
    type: string;
    id: string;
    name: string;
    parent_type: string | null;
    parent_id: string | null;
  }>`
    UPDATE resources SET deleted_at = now()
     WHERE source_id = ${ctx.sourceId} AND ${inScope} AND deleted_at IS NULL AND last_seen_run <> ${ctx.runId}
       AND NOT (type = 'iam_policy' AND attrs @> '{"awsManaged": true}')
    RETURNING type, id, name, parent_type, parent_id`.execute(tx);
  await sql`
    UPDATE entitlements e SET deleted_at = now()
     WHERE source_id = ${ctx.sourceId} AND ${inScope} AND deleted_at IS NULL AND last_seen_run <> ${ctx.runId}
       AND NOT (resource_type = 'iam_policy' AND EXISTS (
         SELECT 1 FROM resources r WHERE r.source_id = e.source_id AND r.type = 'iam_policy' AND r.id = e.resource_id
            AND r.attrs @> '{"awsManaged": true}'))`.execute(tx);
  const rows: OutboxRow[] = [
    ...grants.rows.map((g) =>
      eventRow(ctx, "grant.revoked", `grant/${g.id}`, {
        grantId: g.id,
        entitlementId: g.entitlement_id,
        principalType: g.principal_type,
        principalId: g.principal_id,
        attrs: g.attrs,
      }),
    ),
    ...resources.rows.map((r) =>
      eventRow(ctx, "resource.deleted", `resource/${r.type}/${r.id}`, {
        resourceType: r.type,
        resourceId: r.id,
        name: r.name,
        parentType: r.parent_type,
        parentId: r.parent_id,
      }),
    ),
  ];
  return insertEvents(tx, rows);
}

export function sweepScope(
  tx: Transaction<Database>,
  ctx: EventContext,
  scope: string,
): Promise<EventCounts> {
  return sweep(tx, ctx, scope);
}

export function sweepSource(tx: Transaction<Database>, ctx: EventContext): Promise<EventCounts> {
  return sweep(tx, ctx, null);
}

/**
 * Stamps a scope's live rows as seen by this run without looking at them: used when the run was denied the
 * scope, so neither the scope sweep nor the source-wide sweep mistakes "could not see" for "gone".
 */
export async function keepScope(tx: Transaction<Database>, ctx: EventContext, scope: string): Promise<void> {
  for (const table of ["grants", "resources", "entitlements"] as const) {
    await sql`UPDATE ${sql.table(table)} SET last_seen_run = ${ctx.runId}::uuid
               WHERE source_id = ${ctx.sourceId} AND scope LIKE ${scope.replace(/[\\%_]/g, "\\$&") + "%"}`.execute(
      tx,
    );
  }
}
