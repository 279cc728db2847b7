import { sql, type RawBuilder, type Transaction } from "kysely";
import type { ObjectSweep } from "@grantline/contracts";
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
  where: SweepSelector,
): Promise<EventCounts> {
  // One statement, one round trip and one plan for the three tables (a scope sweep follows most assignment
  // pages). The grants and resources CTEs run as the SELECT reads them, in that order, and the entitlements one
  // after: the order of the three statements this replaced. No selector reads what another CTE changes.
  const swept = await sql<{ grants: SweptGrant[]; resources: SweptResource[] }>`
    WITH swept_grants AS (
      UPDATE grants SET revoked_at = now()
       WHERE source_id = ${ctx.sourceId} AND ${where.grants} AND revoked_at IS NULL AND last_seen_run <> ${ctx.runId}
      RETURNING id, entitlement_id, principal_type, principal_id, attrs
    ), swept_resources AS (
      UPDATE resources SET deleted_at = now()
       WHERE source_id = ${ctx.sourceId} AND ${where.resources} AND deleted_at IS NULL AND last_seen_run <> ${ctx.runId}
         AND NOT (type = 'iam_policy' AND attrs @> '{"awsManaged": true}')
      RETURNING type, id, name, parent_type, parent_id
    ), swept_entitlements AS (
      UPDATE entitlements e SET deleted_at = now()
       WHERE source_id = ${ctx.sourceId} AND ${where.entitlements} AND deleted_at IS NULL AND last_seen_run <> ${ctx.runId}
         AND NOT (resource_type = 'iam_policy' AND EXISTS (
           SELECT 1 FROM resources r WHERE r.source_id = e.source_id AND r.type = 'iam_policy' AND r.id = e.resource_id
              AND r.attrs @> '{"awsManaged": true}'))
    )
    SELECT (SELECT coalesce(json_agg(g), '[]') FROM swept_grants g) AS grants,
           (SELECT coalesce(json_agg(r), '[]') FROM swept_resources r) AS resources`.execute(tx);
  const { grants = [], resources = [] } = swept.rows[0] ?? {};
  const rows: OutboxRow[] = [
    ...grants.map((g) =>
      eventRow(ctx, "grant.revoked", `grant/${g.id}`, {
        grantId: g.id,
        entitlementId: g.entitlement_id,
        principalType: g.principal_type,
        principalId: g.principal_id,
        attrs: g.attrs,
      }),
    ),
    ...resources.map((r) =>
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

interface SweptGrant {
  id: string;
  entitlement_id: string;
  principal_type: string;
  principal_id: string;
  attrs: Record<string, unknown>;
}

interface SweptResource {
  type: string;
  id: string;
  name: string;
  parent_type: string | null;
  parent_id: string | null;
}

/** Which rows of each table a sweep looks at (each a condition on that table's own columns). */
interface SweepSelector {
  grants: RawBuilder<unknown>;
  resources: RawBuilder<unknown>;
  entitlements: RawBuilder<unknown>;
}

const everywhere = (c: RawBuilder<unknown>): SweepSelector => ({ grants: c, resources: c, entitlements: c });

/**
 * Rows a run still running stamped are not swept when `spareRunning`: the deriver sweeps the derived scopes
 * while refresh runs write beside it, and a row one of them wrote after the derivation read is not stale (that
 * run's end owes another derivation, which sees it).
 */
const notRunning = sql`NOT EXISTS (SELECT 1 FROM runs WHERE runs.id = last_seen_run AND runs.status = 'running')`;

export function sweepScope(
  tx: Transaction<Database>,
  ctx: EventContext,
  scope: string,
  opts: { spareRunning?: boolean } = {},
): Promise<EventCounts> {
  const c = sql`scope = ${scope}`;
  return sweep(tx, ctx, everywhere(opts.spareRunning ? sql`${c} AND ${notRunning}` : c));
}

/** Several scopes' sweeps in one statement (a page that read many scopes whole: `ResultBatch.sweepScopes`). */
export function sweepScopes(
  tx: Transaction<Database>,
  ctx: EventContext,
  scopes: string[],
): Promise<EventCounts> {
  return sweep(tx, ctx, everywhere(sql`scope = ANY (${scopes}::text[])`));
}

export function sweepSource(tx: Transaction<Database>, ctx: EventContext): Promise<EventCounts> {
  return sweep(tx, ctx, everywhere(sql`TRUE`));
}

/**
 * Grants this run did not stamp that sit on an entitlement of `scope` already deleted: the deriver, after the
 * derived entitlements were swept (a deleted permission set's or account's pairs); never those a running run
 * stamped (see `notRunning`).
 */
export function sweepGrantsOnDeletedEntitlements(
  tx: Transaction<Database>,
  ctx: EventContext,
  scope: string,
): Promise<EventCounts> {
  const none = sql`FALSE`;
  return sweep(tx, ctx, {
    resources: none,
    entitlements: none,
    grants: sql`entitlement_id IN (SELECT e.id FROM entitlements e WHERE e.source_id = ${ctx.sourceId}
                                     AND e.scope = ${scope} AND e.deleted_at IS NOT NULL) AND ${notRunning}`,
  });
}

/**
 * A targeted refresh's sweep of one object (libs/contracts `ObjectSweep`), whatever scope its rows are in: the
 * rows it selects that this run did not stamp are revoked/deleted with their events, as a scope sweep does (and
 * AWS-managed policies are kept, as there). A resource goes with its entitlements and the grants on them; the
 * grants a principal holds go within a scope or in all of them; a parent's children of one type go (but
 * `except`) with their entitlements and the grants on those.
 */
export function sweepObject(
  tx: Transaction<Database>,
  ctx: EventContext,
  o: ObjectSweep,
): Promise<EventCounts> {
  const none = sql`FALSE`;
  switch (o.kind) {
    case "resource":
      return sweep(tx, ctx, {
        resources: sql`type = ${o.type} AND id = ${o.id}`,
        entitlements: sql`resource_type = ${o.type} AND resource_id = ${o.id}`,
        grants: sql`entitlement_id IN (SELECT e.id FROM entitlements e WHERE e.source_id = ${ctx.sourceId}
                                         AND e.resource_type = ${o.type} AND e.resource_id = ${o.id})`,
      });
    case "held-by":
      return sweep(tx, ctx, {
        resources: none,
        entitlements: none,
        grants: sql`principal_type = ${o.principalType} AND principal_id = ${o.principalId}
                    AND ${o.scope === null ? sql`TRUE` : sql`scope = ${o.scope}`}
                    AND ${
                      o.resourceTypes === undefined
                        ? sql`TRUE`
                        : sql`entitlement_id LIKE ANY (${o.resourceTypes.map((t) => `${t.replace(/_/g, "\\_")}:%`)}::text[])`
                    }`,
      });
    case "scope": {
      const within = sql`(scope = ${o.scope} OR scope LIKE ${o.scope.replace(/[\\%_]/g, "\\$&") + ":%"})`;
      return sweep(tx, ctx, { resources: within, entitlements: within, grants: within });
    }
    case "children": {
      const ids = sql`(SELECT r.id FROM resources r
                        WHERE r.source_id = ${ctx.sourceId} AND r.type = ${o.type} AND r.parent_type = ${o.parentType}
                          AND r.parent_id = ${o.parentId} AND NOT (r.id = ANY (${o.except}::text[])))`;
      return sweep(tx, ctx, {
        resources: sql`type = ${o.type} AND id IN ${ids}`,
        entitlements: sql`resource_type = ${o.type} AND resource_id IN ${ids}`,
        grants: sql`entitlement_id IN (SELECT e.id FROM entitlements e WHERE e.source_id = ${ctx.sourceId}
                                         AND e.resource_type = ${o.type} AND e.resource_id IN ${ids})`,
      });
    }
  }
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
