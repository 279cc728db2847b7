import { pageRequest, type OperationName, type PageRequest, type ServiceName } from "@grantline/contracts";
import { diagRoot } from "./diag.ts";
import { ROUTE_PARAM, type AssignmentRoute } from "./aws/identity-center.ts";

export interface RootSource {
  id: string;
  kind: "aws" | "diag";
  diag: { pages: number; itemsPerPage: number; failUntilDelivery: number };
  /** IAM: the caller's account when enabled, and every ACTIVE member account when also `crossAccount`. */
  iam?: { enabled: boolean; crossAccount: boolean; roleName: string; onlyAttachedPolicies: boolean };
}

/** Choices made per run by the scheduler. */
export interface RunPlan {
  /** @default "pairs" */
  assignmentRoute?: AssignmentRoute;
}

/** The first tasks of a full run of `source`; every other task descends from them. */
export function rootRequests(source: RootSource, runId: string, plan: RunPlan = {}): PageRequest[] {
  if (source.kind === "diag") return [diagRoot(runId, source.id, source.diag)];
  const root = <S extends ServiceName>(
    service: S,
    operation: OperationName<S>,
    params: Record<string, unknown> = {},
  ): PageRequest =>
    pageRequest({
      runId,
      sourceId: source.id,
      service,
      operation,
      params,
      pageToken: null,
      accountId: null,
      scope: null,
      pageIndex: 0,
    });
  const iam = source.iam?.enabled ? source.iam : null;
  const onlyAttachedPolicies = iam?.onlyAttachedPolicies ?? true;
  return [
    root("organizations", "DescribeOrganization"),
    root("organizations", "ListRoots"),
    // Cross-account IAM: every ACTIVE account's ListParents task also starts that account's IAM chain.
    root(
      "organizations",
      "ListAccounts",
      iam?.crossAccount ? { iamCrossAccount: true, iamOnlyAttachedPolicies: onlyAttachedPolicies } : {},
    ),
    root(
      "sso-admin",
      "ListInstances",
      plan.assignmentRoute === "principals" ? { [ROUTE_PARAM]: "principals" } : {},
    ),
    // The caller's own account: GetCallerIdentity tells which it is.
    ...(iam ? [root("sts", "GetCallerIdentity", { onlyAttachedPolicies })] : []),
  ];
}
