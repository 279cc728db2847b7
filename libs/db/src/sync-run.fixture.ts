import { randomUUID } from "node:crypto";
import {
  createSubjects,
  pageRequest,
  type Entitlement,
  type EventType,
  type Grant,
  type PageRequest,
  type Resource,
} from "@grantline/contracts";
import type { Db } from "./create-db.ts";
import { applyBatch, outboxMessages, startRun } from "./index.ts";

export const subjects = createSubjects("t");

/** What one task of a hand-built run writes: its rows, in `scope`, and whether it closes the scope. */
export interface TaskRows {
  scope: string;
  scopeComplete?: boolean;
  resources?: Resource[];
  entitlements?: Entitlement[];
  grants?: Grant[];
}

/** A first-page task of the built-in diag operation: hand-built runs settle such tasks with their own batches. */
export function diagRequest(
  runId: string,
  sourceId: string,
  params: Record<string, unknown> = {},
  scope: string | null = null,
): PageRequest {
  return pageRequest({
    runId,
    sourceId,
    service: "diag",
    operation: "Pages",
    params,
    pageToken: null,
    accountId: null,
    scope,
    pageIndex: 0,
  });
}

/**
 * Runs a sync of `sourceId` through the real machinery — `startRun`, one root task per entry, `applyBatch` for
 * each — so the run finishes as a writer would finish it (derivations, sweep, stats, events). Returns its id.
 */
export async function syncRun(db: Db, sourceId: string, tasks: TaskRows[]): Promise<string> {
  const runId = randomUUID();
  const roots = tasks.map((t, i) => diagRequest(runId, sourceId, { i }, t.scope));
  await startRun(db, { sourceId, runId, roots, subjects });
  for (const [i, t] of tasks.entries()) {
    const r = await applyBatch(db, subjects, {
      v: 1,
      taskId: roots[i]!.taskId,
      runId,
      sourceId,
      scope: t.scope,
      resources: t.resources ?? [],
      entitlements: t.entitlements ?? [],
      grants: t.grants ?? [],
      children: [],
      scopeComplete: t.scopeComplete ?? true,
      keepScopes: [],
      stats: { awsCalls: 1, throttled: 0 },
      warnings: [],
    });
    if (!r.applied) throw new Error(`batch ${i} of run ${runId} was not applied`);
  }
  return runId;
}

/** The events of `type` that run `runId` put in the outbox, as their `data`. */
export async function runEvents(
  db: Db,
  sourceId: string,
  runId: string,
  type: EventType,
): Promise<Array<Record<string, unknown>>> {
  const rows = await outboxMessages(db, subjects.event(sourceId, type));
  return rows
    .map((r) => JSON.parse(r.payload) as { grantlinerunid: string; data: Record<string, unknown> })
    .filter((e) => e.grantlinerunid === runId)
    .map((e) => e.data);
}

/** Ids of the live grants of `sourceId` in `scope`, sorted. */
export async function liveGrantIds(db: Db, sourceId: string, scope: string): Promise<string[]> {
  const rows = await db
    .selectFrom("grants")
    .select("id")
    .where("source_id", "=", sourceId)
    .where("scope", "=", scope)
    .where("revoked_at", "is", null)
    .orderBy("id")
    .execute();
  return rows.map((r) => r.id);
}

export const resource = (
  type: Resource["type"],
  id: string,
  attrs: Record<string, unknown> = {},
  more: Partial<Resource> = {},
): Resource => ({ type, id, parentType: null, parentId: null, name: id, attrs, ...more });

export const entitlement = (
  resourceType: Entitlement["resourceType"],
  resourceId: string,
  slug: Entitlement["slug"],
  more: Partial<Entitlement> = {},
): Entitlement => ({
  id: `${resourceType}:${resourceId}:${slug}`,
  resourceType,
  resourceId,
  slug,
  name: slug,
  attrs: {},
  ...more,
});

export const grant = (
  entitlementId: string,
  principalType: Grant["principalType"],
  principalId: string,
  attrs: Record<string, unknown> = {},
): Grant => ({
  id: `${entitlementId}:${principalType}:${principalId}`,
  entitlementId,
  principalType,
  principalId,
  expandable: principalType === "sso_group" || principalType === "iam_group" || principalType === "iam_role",
  attrs,
});
