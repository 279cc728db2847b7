import type { PageResult, ResultBatch } from "@grantline/contracts";
import { groupMemberEntitlementId, groupMembershipsScope } from "../ids.ts";
import { batchFor, child, grant, list, optStr, param, str } from "./page-helpers.ts";
import { principalAssignmentsRequest } from "./identity-center.ts";

export function mapListUsers(res: PageResult): ResultBatch {
  const storeId = param(res.request, "IdentityStoreId");
  const users = list(res.page, "Users");
  return batchFor(res, {
    children: users.flatMap((u) => principalAssignmentsRequest(res.request, "USER", str(u, "UserId")) ?? []),
    resources: users.map((u) => {
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
    }),
  });
}

export function mapListGroups(res: PageResult): ResultBatch {
  const IdentityStoreId = param(res.request, "IdentityStoreId");
  const groups = list(res.page, "Groups");
  return batchFor(res, {
    resources: groups.map((g) => ({
      type: "sso_group",
      id: str(g, "GroupId"),
      parentType: null,
      parentId: null,
      name: optStr(g, "DisplayName") ?? str(g, "GroupId"),
      attrs: { identityStoreId: IdentityStoreId, description: optStr(g, "Description") },
    })),
    entitlements: groups.map((g) => ({
      id: groupMemberEntitlementId(str(g, "GroupId")),
      resourceType: "sso_group",
      resourceId: str(g, "GroupId"),
      slug: "member",
      name: `Member of ${optStr(g, "DisplayName") ?? str(g, "GroupId")}`,
      attrs: {},
    })),
    children: groups.flatMap((g) => [
      child(
        res.request,
        "identitystore",
        "ListGroupMemberships",
        { IdentityStoreId, GroupId: str(g, "GroupId") },
        groupMembershipsScope(str(g, "GroupId")),
      ),
      ...[principalAssignmentsRequest(res.request, "GROUP", str(g, "GroupId"))].filter((r) => r !== null),
    ]),
  });
}

export function mapListGroupMemberships(res: PageResult): ResultBatch {
  const groupId = param(res.request, "GroupId");
  const ent = groupMemberEntitlementId(groupId);
  return batchFor(res, {
    grants: list(res.page, "GroupMemberships").flatMap((m) => {
      const member = (m.MemberId ?? {}) as Record<string, unknown>;
      const userId = optStr(member, "UserId");
      if (userId === null) return [];
      return [grant(ent, "sso_user", userId, false, { membershipId: optStr(m, "MembershipId") })];
    }),
  });
}
