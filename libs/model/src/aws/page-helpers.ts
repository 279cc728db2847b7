import {
  PermanentError,
  pageRequest,
  type Entitlement,
  type Grant,
  type ObjectSweep,
  type OperationName,
  type PageRequest,
  type PageResult,
  type Resource,
  type PrincipalType,
  type ResultBatch,
  type ServiceName,
} from "@grantline/contracts";
import { grantId } from "../ids.ts";

/** Reads a list member of a page; a missing list is an empty page, a non-array is a page we cannot read. */
export function list<T = Record<string, unknown>>(page: Record<string, unknown>, key: string): T[] {
  const v = page[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new PermanentError("unreadable-page", `${key} is not a list`);
  return v as T[];
}

export function str(o: Record<string, unknown> | undefined, key: string): string {
  const v = o?.[key];
  if (typeof v !== "string" || v === "") throw new PermanentError("unreadable-page", `missing ${key}`);
  return v;
}

export function optStr(o: Record<string, unknown> | undefined, key: string): string | null {
  const v = o?.[key];
  return typeof v === "string" ? v : null;
}

export function param(r: PageRequest, key: string): string {
  const v = r.params[key];
  if (typeof v !== "string" || v === "")
    throw new PermanentError("bad-request", `${r.operation} needs param ${key}`);
  return v;
}

/** The token for the next page: JSON services' NextToken, or IAM's Marker when IsTruncated. */
export function nextToken(page: Record<string, unknown>): string | null {
  if (typeof page.NextToken === "string" && page.NextToken !== "") return page.NextToken;
  if (page.IsTruncated === true && typeof page.Marker === "string") return page.Marker;
  return null;
}

/** The first page of an operation, for a run of a source; the catalog types `operation` by `service`. */
export function firstPage<S extends ServiceName>(
  run: Pick<PageRequest, "runId" | "sourceId">,
  service: S,
  operation: OperationName<S>,
  params: Record<string, unknown>,
  scope: string | null,
  accountId: string | null,
): PageRequest {
  return pageRequest({
    runId: run.runId,
    sourceId: run.sourceId,
    service,
    operation,
    params,
    pageToken: null,
    accountId,
    scope,
    pageIndex: 0,
  });
}

/** A first-page child request, in the parent's account unless told otherwise. */
export function child<S extends ServiceName>(
  parent: Pick<PageRequest, "runId" | "sourceId" | "accountId">,
  service: S,
  operation: OperationName<S>,
  params: Record<string, unknown>,
  scope: string | null,
  accountId: string | null = parent.accountId,
): PageRequest {
  return firstPage(parent, service, operation, params, scope, accountId);
}

export interface BatchParts {
  resources?: Resource[];
  entitlements?: Entitlement[];
  grants?: Grant[];
  children?: PageRequest[];
  warnings?: string[];
}

/**
 * Assembles a batch: adds the next page of the same chain when the page has a token and closes the scope
 * on the chain's last page.
 */
export function batchFor(res: PageResult, parts: BatchParts): ResultBatch {
  const r = res.request;
  const token = nextToken(res.page);
  const next = token === null ? [] : [pageRequest({ ...r, pageToken: token, pageIndex: r.pageIndex + 1 })];
  return {
    v: 1,
    taskId: r.taskId,
    runId: r.runId,
    sourceId: r.sourceId,
    scope: r.scope,
    resources: parts.resources ?? [],
    entitlements: parts.entitlements ?? [],
    grants: parts.grants ?? [],
    children: [...next, ...(parts.children ?? [])],
    scopeComplete: token === null,
    keepScopes: [],
    warnings: [...res.warnings, ...(parts.warnings ?? [])],
    stats: res.stats,
  };
}

/** A denied page: nothing is learned, and whatever the scope held is kept rather than swept. */
export function skippedBatch(res: PageResult): ResultBatch {
  const r = res.request;
  return {
    v: 1,
    taskId: r.taskId,
    runId: r.runId,
    sourceId: r.sourceId,
    scope: r.scope,
    resources: [],
    entitlements: [],
    grants: [],
    children: [],
    scopeComplete: false,
    keepScopes: r.scope === null ? [] : [r.scope],
    stats: res.stats,
    warnings: res.warnings.length
      ? res.warnings
      : [`${r.service}.${r.operation} skipped: ${res.skipped ?? "denied"}`],
  };
}

/**
 * A single-object page whose object is gone (AWS answered NotFound): nothing to write, and the object's rows are
 * deleted by `objectSweeps` (only rows this run did not stamp go, so a redelivery or a later page is harmless).
 * Warnings say what vanished.
 */
export function vanishedBatch(res: PageResult, objectSweeps: ObjectSweep[]): ResultBatch {
  return { ...skippedBatch(res), keepScopes: [], objectSweeps };
}

/** A grant row; its id is built from what it grants (`grantId`). */
export function grant(
  entitlementId: string,
  principalType: PrincipalType,
  principalId: string,
  expandable: boolean,
  attrs: Record<string, unknown> = {},
): Grant {
  return {
    id: grantId(entitlementId, principalType, principalId),
    entitlementId,
    principalType,
    principalId,
    expandable,
    attrs,
  };
}
