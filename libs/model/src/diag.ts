import {
  PermanentError,
  pageRequest,
  type PageRequest,
  type PageResult,
  type ResultBatch,
} from "@grantline/contracts";
import { diagScope } from "./ids.ts";

/**
 * The `diag` service: a synthetic page chain that exercises scheduler → fetcher → mapper → writer without AWS,
 * so an operator can prove a deployment end to end (`grantline sync <diag-source>`), and so can the tests.
 * Page i of n carries items `item-i-0..k`; `failUntilDelivery` makes the fetcher fail retryably until the
 * message's delivery count reaches it.
 */
export interface DiagPagesParams {
  pages: number;
  itemsPerPage: number;
  failUntilDelivery: number;
}

export function diagParams(p: Record<string, unknown>): DiagPagesParams {
  const num = (k: string, d: number) => (typeof p[k] === "number" ? (p[k] as number) : d);
  return {
    pages: num("pages", 3),
    itemsPerPage: num("itemsPerPage", 2),
    failUntilDelivery: num("failUntilDelivery", 0),
  };
}

export function diagRoot(runId: string, sourceId: string, params: DiagPagesParams): PageRequest {
  return pageRequest({
    runId,
    sourceId,
    service: "diag",
    operation: "Pages",
    params: { ...params },
    pageToken: null,
    accountId: null,
    scope: diagScope(sourceId),
    pageIndex: 0,
  });
}

/** What the "API" returns for a page: the fetcher's side of the diag service. */
export function diagPage(r: PageRequest): Record<string, unknown> {
  const p = diagParams(r.params);
  const index = r.pageToken === null ? 0 : Number(r.pageToken);
  const items = Array.from({ length: p.itemsPerPage }, (_, i) => ({
    Id: `item-${index}-${i}`,
    Name: `Item ${index}.${i}`,
  }));
  return { Items: items, NextToken: index + 1 < p.pages ? String(index + 1) : null };
}

/** The mapper's side: items become resources, a next token becomes the one child task. */
export function mapDiagPage(res: PageResult): ResultBatch {
  const r = res.request;
  const items = res.page.Items;
  if (!Array.isArray(items)) throw new PermanentError("unreadable-page", "diag page has no Items array");
  const next = typeof res.page.NextToken === "string" ? res.page.NextToken : null;
  return {
    v: 1,
    taskId: r.taskId,
    runId: r.runId,
    sourceId: r.sourceId,
    scope: r.scope,
    resources: items.map((raw) => {
      const it = raw as { Id?: unknown; Name?: unknown };
      if (typeof it.Id !== "string") throw new PermanentError("unreadable-page", "diag item without Id");
      return {
        type: "diag_item",
        id: it.Id,
        parentType: null,
        parentId: null,
        name: String(it.Name ?? it.Id),
        attrs: {},
      };
    }),
    entitlements: [],
    grants: [],
    children: next === null ? [] : [pageRequest({ ...r, pageToken: next, pageIndex: r.pageIndex + 1 })],
    scopeComplete: next === null,
    warnings: res.warnings,
    keepScopes: [],
    stats: res.stats,
  };
}
