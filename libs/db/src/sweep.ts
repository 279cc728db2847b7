import { sql, type Transaction } from "kysely";
import type { Database } from "./database.ts";
import { eventRow, insertOutbox, type EventContext, type OutboxRow } from "./outbox-rows.ts";

interface SweepResult {
  revoked: number;
  deleted: number;
}

/**
 * Mark-and-sweep: rows of `scope` (or of the whole source when `scope` is null) that this run did not stamp
 * are revoked/deleted, each with its event. Running it twice is harmless — the second finds nothing.
 */
async function sweep(
  tx: Transaction<Database>,
  ctx: EventContext,
  scope: string | null,
): Promise<SweepResult> {
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
    RETURNING type, id, name, parent_type, parent_id`.execute(tx);
  await sql`
    UPDATE entitlements SET deleted_at = now()
     WHERE source_id = ${ctx.sourceId} AND ${inScope} AND deleted_at IS NULL AND last_seen_run <> ${ctx.runId}`.execute(
    tx,
  );
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
  await insertOutbox(tx, rows);
  return { revoked: grants.rows.length, deleted: resources.rows.length };
}

export function sweepScope(
  tx: Transaction<Database>,
  ctx: EventContext,
  scope: string,
): Promise<SweepResult> {
  return sweep(tx, ctx, scope);
}

export function sweepSource(tx: Transaction<Database>, ctx: EventContext): Promise<SweepResult> {
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
