import { pageRequest, type PageRequest, type PageResult, type ServiceName } from "@grantline/contracts";

/** Builds the page requests of test run `runId` of source "acme", as the mappers receive them. */
export const testRequests =
  (runId: string) =>
  (
    service: ServiceName,
    operation: string,
    params: Record<string, unknown>,
    o: Partial<Pick<PageRequest, "accountId" | "scope" | "pageToken" | "pageIndex">> = {},
  ): PageRequest =>
    pageRequest({
      runId,
      sourceId: "acme",
      service,
      operation,
      params,
      pageToken: o.pageToken ?? null,
      accountId: o.accountId ?? null,
      scope: o.scope ?? null,
      pageIndex: o.pageIndex ?? 0,
    });

/** The fetcher's answer to `request`: `page`, fetched without warnings. */
export function pageResult(request: PageRequest, page: Record<string, unknown>): PageResult {
  return {
    v: 1,
    request,
    page,
    fetchedAt: "2026-01-01T00:00:00.000Z",
    warnings: [],
    skipped: null,
    stats: { awsCalls: 1, throttled: 0 },
  };
}
