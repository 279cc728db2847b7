import type { Entitlement, Grant, PageResult, Resource, ResultBatch } from "@grantline/contracts";
import { groupMemberEntitlementId, groupMembershipsScope } from "../ids.ts";
import { batchFor, child, grant, list, optStr, param, str, vanishedBatch } from "./page-helpers.ts";
import { principalAssignmentsRequest } from "./identity-center.ts";

/** One user as ListUsers and DescribeUser both answer it: the same row whichever read it. */
function userResource(storeId: string, u: Record<string, unknown>): Resource {
  const userName = str(u, "UserName");
  const emails = list(u, "Emails")
    .map((e) => optStr(e, "Value"))
    .filter((e): e is string => e !== null);
  const name = (u.Name ?? {}) as Record<string, unknown>;
  return {
    type: "sso_user",
    id: str(u, "UserId"),
    parentType: null,
    parentId: null,
    name: userName,
    attrs: {
      identityStoreId: storeId,
      displayName: optStr(u, "DisplayName"),
      givenName: optStr(name, "GivenName"),
      familyName: optStr(name, "FamilyName"),
      // As baton-aws does: a user name that looks like an address counts as one.
      emails: [...new Set([...(userName.includes("@") ? [userName] : []), ...emails])],
      // ENABLED | DISABLED; null when Identity Store does not say (it answers it since late 2025).
      status: optStr(u, "UserStatus"),
    },
  };
}

export function mapListUsers(res: PageResult): ResultBatch {
  const storeId = param(res.request, "IdentityStoreId");
  const users = list(res.page, "Users");
  return batchFor(res, {
    children: users.flatMap((u) => principalAssignmentsRequest(res.request, "USER", str(u, "UserId")) ?? []),
    resources: users.map((u) => userResource(storeId, u)),
  });
}

/** One group and its `member` entitlement, as ListGroups and DescribeGroup both answer it. */
function groupRows(
  storeId: string,
  g: Record<string, unknown>,
): { resource: Resource; entitlement: Entitlement } {
  const id = str(g, "GroupId");
  const name = optStr(g, "DisplayName") ?? id;
  return {
    resource: {
      type: "sso_group",
      id,
      parentType: null,
      parentId: null,
      name,
      attrs: { identityStoreId: storeId, description: optStr(g, "Description") },
    },
    entitlement: {
      id: groupMemberEntitlementId(id),
      resourceType: "sso_group",
      resourceId: id,
      slug: "member",
      name: `Member of ${name}`,
      attrs: {},
    },
  };
}

/**
 * A page of groups. The fetcher reads each group's members with the page (`GroupMemberships` on the group):
 * those are written here, each grant in its group's membership scope, and the scopes swept as the group's own
 * last memberships page would. A group it could not read whole (denied, more than a page of members), or a
 * page from a fetcher that does not read them, gets the group's ListGroupMemberships task as before.
 */
export function mapListGroups(res: PageResult): ResultBatch {
  const IdentityStoreId = param(res.request, "IdentityStoreId");
  const groups = list(res.page, "Groups");
  const rows = groups.map((g) => groupRows(IdentityStoreId, g));
  const read = groups.filter((g) => Array.isArray(g.GroupMemberships));
  const batch = batchFor(res, {
    resources: rows.map((r) => r.resource),
    entitlements: rows.map((r) => r.entitlement),
    grants: read.flatMap((g) => {
      const GroupId = str(g, "GroupId");
      const scope = groupMembershipsScope(GroupId);
      return memberGrants(GroupId, list(g, "GroupMemberships")).map((m) => ({ ...m, scope }));
    }),
    children: groups.flatMap((g) => [
      ...(Array.isArray(g.GroupMemberships)
        ? []
        : [
            child(
              res.request,
              "identitystore",
              "ListGroupMemberships",
              { IdentityStoreId, GroupId: str(g, "GroupId") },
              groupMembershipsScope(str(g, "GroupId")),
            ),
          ]),
      ...[principalAssignmentsRequest(res.request, "GROUP", str(g, "GroupId"))].filter((r) => r !== null),
    ]),
  });
  const sweepScopes = [...new Set(read.map((g) => groupMembershipsScope(str(g, "GroupId"))))];
  return sweepScopes.length > 0 ? { ...batch, sweepScopes } : batch;
}

/*
 * Targeted refreshes of one user or group (libs/model refreshRequests). The row is the one ListUsers/ListGroups
 * write, in their scope (`idstore-users:<store>` / `idstore-groups:<store>`), so a full sync's sweep still owns
 * it; the page never closes that scope (it saw one row of it). An object that is gone (NotFound) is deleted with
 * what hangs on it: its grants (a user's memberships and assignments; a group's assignments) and, for a group,
 * its `member` entitlement and the grants on it.
 */

export function mapDescribeUser(res: PageResult): ResultBatch {
  const storeId = param(res.request, "IdentityStoreId");
  return { ...batchFor(res, { resources: [userResource(storeId, res.page)] }), scopeComplete: false };
}

export function mapDescribeGroup(res: PageResult): ResultBatch {
  const rows = groupRows(param(res.request, "IdentityStoreId"), res.page);
  return {
    ...batchFor(res, { resources: [rows.resource], entitlements: [rows.entitlement] }),
    scopeComplete: false,
  };
}

export function mapVanishedUser(res: PageResult): ResultBatch {
  const id = param(res.request, "UserId");
  return vanishedBatch(res, [
    { kind: "resource", type: "sso_user", id },
    { kind: "held-by", principalType: "sso_user", principalId: id, scope: null },
  ]);
}

export function mapVanishedGroup(res: PageResult): ResultBatch {
  const id = param(res.request, "GroupId");
  return vanishedBatch(res, [
    { kind: "resource", type: "sso_group", id },
    { kind: "held-by", principalType: "sso_group", principalId: id, scope: null },
  ]);
}

/** A group's memberships as `member` grants; the same grants whichever page read them. */
function memberGrants(groupId: string, memberships: Array<Record<string, unknown>>): Grant[] {
  const ent = groupMemberEntitlementId(groupId);
  return memberships.flatMap((m) => {
    const member = (m.MemberId ?? {}) as Record<string, unknown>;
    const userId = optStr(member, "UserId");
    if (userId === null) return [];
    return [grant(ent, "sso_user", userId, false, { membershipId: optStr(m, "MembershipId") })];
  });
}

export function mapListGroupMemberships(res: PageResult): ResultBatch {
  const groupId = param(res.request, "GroupId");
  return batchFor(res, { grants: memberGrants(groupId, list(res.page, "GroupMemberships")) });
}
