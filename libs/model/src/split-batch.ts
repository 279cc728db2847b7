import type { ResultBatch } from "@grantline/contracts";

/** Rows per batch the mapper publishes when a page maps to more. @default 5000 */
export const DEFAULT_MAX_BATCH_ROWS = 5000;

/**
 * Splits a batch with more than `maxRows` rows into parts of at most `maxRows` (resources, then entitlements,
 * then grants, in order). Parts before the last carry rows only; the last carries the remaining rows and
 * everything that concludes the page — children, the scope sweep, kept scopes, object sweeps, the feed page,
 * warnings, stats — and the writer settles the task with it only once every earlier part is applied. So a page
 * of any size reaches the writer in batches of bounded size (a 30,000-grant batch of 9 MB exhausted the
 * writer's heap), and the page's effect is the same as one batch's.
 */
export function splitBatch(batch: ResultBatch, maxRows = DEFAULT_MAX_BATCH_ROWS): ResultBatch[] {
  const rows = batch.resources.length + batch.entitlements.length + batch.grants.length;
  if (rows <= maxRows) return [batch];
  const count = Math.ceil(rows / maxRows);
  const part = (index: number): ResultBatch => {
    const from = index * maxRows;
    const to = from + maxRows;
    const slice = <T>(list: T[], offset: number): T[] =>
      list.slice(Math.max(0, from - offset), Math.max(0, to - offset));
    const r = batch.resources.length;
    const e = batch.entitlements.length;
    const rowsOnly = {
      resources: slice(batch.resources, 0),
      entitlements: slice(batch.entitlements, r),
      grants: slice(batch.grants, r + e),
      part: { index, count },
    };
    if (index === count - 1) return { ...batch, ...rowsOnly };
    return {
      v: 1,
      taskId: batch.taskId,
      runId: batch.runId,
      sourceId: batch.sourceId,
      scope: batch.scope,
      ...rowsOnly,
      children: [],
      scopeComplete: false,
      keepScopes: [],
      warnings: [],
      stats: { awsCalls: 0, throttled: 0 },
    };
  };
  return Array.from({ length: count }, (_, i) => part(i));
}
