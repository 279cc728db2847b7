import { pageRequest, type PageRequest } from "@grantline/contracts";
import { diagRoot } from "./diag.ts";

export interface RootSource {
  id: string;
  kind: "aws" | "diag";
  diag: { pages: number; itemsPerPage: number; failUntilDelivery: number };
}

/** The first tasks of a full run of `source`; every other task descends from them. */
export function rootRequests(source: RootSource, runId: string): PageRequest[] {
  if (source.kind === "diag") return [diagRoot(runId, source.id, source.diag)];
  const root = (service: PageRequest["service"], operation: string): PageRequest =>
    pageRequest({
      runId,
      sourceId: source.id,
      service,
      operation,
      params: {},
      pageToken: null,
      accountId: null,
      scope: null,
      pageIndex: 0,
    });
  return [
    root("organizations", "DescribeOrganization"),
    root("organizations", "ListRoots"),
    root("organizations", "ListAccounts"),
    root("sso-admin", "ListInstances"),
  ];
}
