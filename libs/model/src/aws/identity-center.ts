import type { Grant, PageResult, ResultBatch } from "@grantline/contracts";
import { batchFor, child, grantId, list, optStr, param, str } from "./page-helpers.ts";

/** The entitlement "may use permission set P on account A", baton-aws's flat model. */
export function accountPermissionSetEntitlementId(accountId: string, permissionSetArn: string): string {
  return `${accountId}|${permissionSetArn}`;
}

/** Scope of one account × permission set pair's assignments: swept when its ListAccountAssignments chain ends. */
export function assignmentScope(accountId: string, permissionSetArn: string): string {
  return `sso-assign:${accountId}|${permissionSetArn}`;
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
      return [
        child(res.request, "sso-admin", "ListPermissionSets", { InstanceArn }, null),
        child(
          res.request,
          "identitystore",
          "ListUsers",
          { IdentityStoreId },
          `idstore-users:${IdentityStoreId}`,
        ),
        child(
          res.request,
          "identitystore",
          "ListGroups",
          { IdentityStoreId },
          `idstore-groups:${IdentityStoreId}`,
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
  return batchFor(res, {
    children: arns.flatMap((PermissionSetArn) => [
      child(res.request, "sso-admin", "DescribePermissionSet", { InstanceArn, PermissionSetArn }, null),
      child(
        res.request,
        "sso-admin",
        "ListAccountsForProvisionedPermissionSet",
        { InstanceArn, PermissionSetArn },
        null,
      ),
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
        },
      },
    ],
  });
}

export function mapListAccountsForProvisionedPermissionSet(res: PageResult): ResultBatch {
  const InstanceArn = param(res.request, "InstanceArn");
  const PermissionSetArn = param(res.request, "PermissionSetArn");
  const accounts = list<string>(res.page, "AccountIds");
  return batchFor(res, {
    children: accounts.map((AccountId) =>
      child(
        res.request,
        "sso-admin",
        "ListAccountAssignments",
        { InstanceArn, AccountId, PermissionSetArn },
        assignmentScope(AccountId, PermissionSetArn),
      ),
    ),
  });
}

export function mapListAccountAssignments(res: PageResult): ResultBatch {
  const accountId = param(res.request, "AccountId");
  const psArn = param(res.request, "PermissionSetArn");
  const ent = accountPermissionSetEntitlementId(accountId, psArn);
  const grants: Grant[] = list(res.page, "AccountAssignments").map((a) => {
    const type = str(a, "PrincipalType") === "GROUP" ? "sso_group" : "sso_user";
    const principalId = str(a, "PrincipalId");
    return {
      id: grantId(ent, type, principalId),
      entitlementId: ent,
      principalType: type,
      principalId,
      // A group's grant reaches its members: effective_grants expands it through the group's `member` grants.
      expandable: type === "sso_group",
      attrs: { accountId, permissionSetArn: psArn },
    };
  });
  return batchFor(res, { grants });
}
