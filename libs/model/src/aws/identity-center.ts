import type { Grant, PageRequest, PageResult, ResultBatch } from "@grantline/contracts";
import {
  accountPermissionSetEntitlementId,
  assignmentScope,
  identityStoreGroupsScope,
  identityStoreUsersScope,
  principalAssignmentScope,
} from "../ids.ts";
import { batchFor, child, grant, list, optStr, param, str, vanishedBatch } from "./page-helpers.ts";

/**
 * How a run lists account assignments. "pairs": ListAccountAssignments per provisioned account × permission
 * set (discovered per set). "principals": ListAccountAssignmentsForPrincipal per user and group (no pair
 * discovery). The scheduler picks one per run (`chooseAssignmentRoute`); it travels as a request parameter
 * that the SDK ignores, because it is not a member of the AWS input shape.
 */
export type AssignmentRoute = "pairs" | "principals";
export const ROUTE_PARAM = "AssignmentRoute";

export function routeOf(req: PageResult["request"]): AssignmentRoute {
  return req.params[ROUTE_PARAM] === "principals" ? "principals" : "pairs";
}

/** The route's parameter for child requests: nothing for "pairs", so its requests (and task ids) stay as they were. */
function routeParams(route: AssignmentRoute, InstanceArn: string): Record<string, unknown> {
  return route === "principals" ? { [ROUTE_PARAM]: route, InstanceArn } : {};
}

/**
 * One Identity Center instance per organization. From it hang the permission sets (and through them the
 * provisioned pairs and their assignments) and the identity store's users and groups.
 */
export function mapListInstances(res: PageResult): ResultBatch {
  const instances = list(res.page, "Instances");
  return batchFor(res, {
    resources: instances.map((i) => ({
      type: "sso_instance",
      id: str(i, "InstanceArn"),
      parentType: null,
      parentId: null,
      name: optStr(i, "Name") ?? str(i, "InstanceArn"),
      attrs: {
        identityStoreId: str(i, "IdentityStoreId"),
        ownerAccountId: optStr(i, "OwnerAccountId"),
        status: optStr(i, "Status"),
      },
    })),
    children: instances.flatMap((i) => {
      const InstanceArn = str(i, "InstanceArn");
      const IdentityStoreId = str(i, "IdentityStoreId");
      const route = routeParams(routeOf(res.request), InstanceArn);
      return [
        child(res.request, "sso-admin", "ListPermissionSets", { InstanceArn, ...route }, null),
        child(
          res.request,
          "identitystore",
          "ListUsers",
          { IdentityStoreId, ...route },
          identityStoreUsersScope(IdentityStoreId),
        ),
        child(
          res.request,
          "identitystore",
          "ListGroups",
          { IdentityStoreId, ...route },
          identityStoreGroupsScope(IdentityStoreId),
        ),
      ];
    }),
  });
}

/**
 * Per permission set: its details (one composite task the fetcher answers from its cache when it can) and the
 * accounts it is provisioned to. Discovering pairs per permission set costs one call per set instead of one
 * per account (ListPermissionSetsProvisionedToAccount), the cheaper route whenever sets < accounts.
 */
export function mapListPermissionSets(res: PageResult): ResultBatch {
  const InstanceArn = param(res.request, "InstanceArn");
  const arns = list<string>(res.page, "PermissionSets");
  // The principal route reads assignments per user and group: no pair discovery needed.
  const pairs = routeOf(res.request) === "pairs";
  return batchFor(res, {
    children: arns.flatMap((PermissionSetArn) => [
      child(res.request, "sso-admin", "DescribePermissionSet", { InstanceArn, PermissionSetArn }, null),
      ...(pairs
        ? [
            child(
              res.request,
              "sso-admin",
              "ListAccountsForProvisionedPermissionSet",
              { InstanceArn, PermissionSetArn },
              null,
            ),
          ]
        : []),
    ]),
  });
}

export function mapDescribePermissionSet(res: PageResult): ResultBatch {
  const InstanceArn = param(res.request, "InstanceArn");
  const ps = res.page.PermissionSet as Record<string, unknown> | undefined;
  const arn = str(ps, "PermissionSetArn");
  const managed = list(res.page, "ManagedPolicies").map((p) => str(p, "Arn"));
  const customer = list(res.page, "CustomerManagedPolicyReferences").map((p) => ({
    name: str(p, "Name"),
    path: optStr(p, "Path") ?? "/",
  }));
  const inline = optStr(res.page, "InlinePolicy");
  const boundary = res.page.PermissionsBoundary as Record<string, unknown> | null | undefined;
  return batchFor(res, {
    resources: [
      {
        type: "permission_set",
        id: arn,
        parentType: "sso_instance",
        parentId: InstanceArn,
        name: str(ps, "Name"),
        attrs: {
          description: optStr(ps, "Description"),
          sessionDuration: optStr(ps, "SessionDuration"),
          relayState: optStr(ps, "RelayState"),
          createdDate: optStr(ps, "CreatedDate"),
          managedPolicies: managed.sort(),
          customerManagedPolicies: customer.sort((a, b) =>
            `${a.path}${a.name}`.localeCompare(`${b.path}${b.name}`),
          ),
          inlinePolicy: inline === "" ? null : inline,
          permissionsBoundary: permissionSetBoundary(boundary),
        },
      },
    ],
  });
}

/** A permission set deleted since it was listed or changed: it goes (its pairs' entitlements go at the run's end). */
export function mapVanishedPermissionSet(res: PageResult): ResultBatch {
  return vanishedBatch(res, [
    { kind: "resource", type: "permission_set", id: param(res.request, "PermissionSetArn") },
  ]);
}

/**
 * A permission set's boundary: an AWS-managed policy ARN, or a customer-managed policy named by name and path
 * (resolved in each account it is provisioned to, where a policy of that name must exist); null when it has none.
 */
function permissionSetBoundary(
  b: Record<string, unknown> | null | undefined,
): { managedPolicyArn: string } | { customerManagedPolicy: { name: string; path: string } } | null {
  const arn = optStr(b ?? undefined, "ManagedPolicyArn");
  if (arn) return { managedPolicyArn: arn };
  const ref = b?.CustomerManagedPolicyReference as Record<string, unknown> | undefined;
  if (ref) return { customerManagedPolicy: { name: str(ref, "Name"), path: optStr(ref, "Path") ?? "/" } };
  return null;
}

/**
 * A permission set's accounts. The fetcher reads each account's assignments of the set with the page
 * (`AccountAssignmentsByAccount`): those pairs are written here, each grant in its pair's scope, and their scopes
 * swept as the pair's own last page would. A pair it could not read whole (denied, more than a page), or a page
 * from a fetcher that does not read them, gets the pair's ListAccountAssignments task as before.
 */
export function mapListAccountsForProvisionedPermissionSet(res: PageResult): ResultBatch {
  const InstanceArn = param(res.request, "InstanceArn");
  const PermissionSetArn = param(res.request, "PermissionSetArn");
  const accounts = list<string>(res.page, "AccountIds");
  const read = (res.page.AccountAssignmentsByAccount ?? {}) as Record<string, unknown>;
  const whole = accounts.filter((a) => Array.isArray(read[a]));
  const grants = whole.flatMap((AccountId) => {
    const scope = assignmentScope(AccountId, PermissionSetArn);
    return list(read, AccountId).map((a) => ({
      ...assignmentGrant(AccountId, PermissionSetArn, str(a, "PrincipalType"), str(a, "PrincipalId")),
      scope,
    }));
  });
  const batch = batchFor(res, {
    grants,
    children: accounts
      .filter((a) => !Array.isArray(read[a]))
      .map((AccountId) =>
        child(
          res.request,
          "sso-admin",
          "ListAccountAssignments",
          { InstanceArn, AccountId, PermissionSetArn },
          assignmentScope(AccountId, PermissionSetArn),
        ),
      ),
  });
  const sweepScopes = [...new Set(whole.map((a) => assignmentScope(a, PermissionSetArn)))];
  return sweepScopes.length > 0 ? { ...batch, sweepScopes } : batch;
}

/** One assignment as a grant; both routes produce the same grant for the same assignment. */
function assignmentGrant(
  accountId: string,
  psArn: string,
  principalType: string,
  principalId: string,
): Grant {
  const ent = accountPermissionSetEntitlementId(accountId, psArn);
  const type = principalType === "GROUP" ? "sso_group" : "sso_user";
  // A group's grant reaches its members: effective_grants expands it through the group's `member` grants.
  return grant(ent, type, principalId, type === "sso_group", { accountId, permissionSetArn: psArn });
}

export function mapListAccountAssignments(res: PageResult): ResultBatch {
  const accountId = param(res.request, "AccountId");
  const psArn = param(res.request, "PermissionSetArn");
  const grants = list(res.page, "AccountAssignments").map((a) =>
    assignmentGrant(accountId, psArn, str(a, "PrincipalType"), str(a, "PrincipalId")),
  );
  return batchFor(res, { grants });
}

export function mapListAccountAssignmentsForPrincipal(res: PageResult): ResultBatch {
  const grants = list(res.page, "AccountAssignments").map((a) =>
    assignmentGrant(
      str(a, "AccountId"),
      str(a, "PermissionSetArn"),
      str(a, "PrincipalType"),
      str(a, "PrincipalId"),
    ),
  );
  return batchFor(res, { grants });
}

/** The principal route's child request for one user or group (identity store pages call this). */
export function principalAssignmentsRequest(
  parent: PageResult["request"],
  principalType: "USER" | "GROUP",
  principalId: string,
): PageRequest | null {
  if (routeOf(parent) !== "principals") return null;
  return child(
    parent,
    "sso-admin",
    "ListAccountAssignmentsForPrincipal",
    { InstanceArn: param(parent, "InstanceArn"), PrincipalType: principalType, PrincipalId: principalId },
    principalAssignmentScope(principalType, principalId),
  );
}

export interface AssignmentCounts {
  /** Users and groups the source had after its last run. */
  principals: number;
  /** Provisioned account × permission set pairs, from the latest run that listed them; null if none has. */
  pairs: number | null;
}

/**
 * The route with fewer AWS calls: one per principal or one per provisioned pair (pages beyond the first are
 * rare on both). Without a pair count (a first run) it is "pairs", which also discovers that count.
 */
export function chooseAssignmentRoute(
  configured: "auto" | AssignmentRoute,
  counts: AssignmentCounts | null,
): AssignmentRoute {
  if (configured !== "auto") return configured;
  if (!counts || counts.pairs === null) return "pairs";
  return counts.principals < counts.pairs ? "principals" : "pairs";
}
