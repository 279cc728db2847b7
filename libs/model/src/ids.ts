import {
  ACCOUNT_PERMISSION_SET_ENTITLEMENT,
  type EntitlementSlug,
  type PrincipalType,
  type ResourceType,
} from "@grantline/contracts";

/*
 * Every id and mark-and-sweep scope the model writes, in one place. Ids are deterministic (the same AWS object
 * always gets the same id, so a run upserts rather than duplicates) and stored as they are built here: changing
 * one re-creates every row of its kind, with created/deleted events for each.
 */

/** entitlement id in baton's shape: `<resourceType>:<resourceId>:<slug>`. */
export function entitlementId(resourceType: ResourceType, resourceId: string, slug: EntitlementSlug): string {
  return `${resourceType}:${resourceId}:${slug}`;
}

/** grant id in baton's shape: `<entitlementId>:<principalType>:<principalId>`. */
export function grantId(entitlementId: string, principalType: PrincipalType, principalId: string): string {
  return `${entitlementId}:${principalType}:${principalId}`;
}

// Organizations policies (SCPs, RCPs)

/** The entitlement "this SCP/RCP is attached to", held by the roots, OUs and accounts it is attached to. */
export function orgPolicyAttachedEntitlementId(policyId: string): string {
  return entitlementId("org_policy", policyId, "attached");
}

/**
 * Policies of one type and their `attached` entitlements. Never swept by a chain (a policy is written by its own
 * DescribePolicy task, which ListPolicies' last page cannot wait for): only by the source-wide sweep. It is the
 * scope of the ListPolicies chain, so a denied ListPolicies keeps it, and with it every policy's targets.
 */
export function orgPoliciesScope(policyType: string): string {
  return `org-policies:${policyType}`;
}

/** Targets of one policy (its grants): swept when its ListTargetsForPolicy chain ends. Nested in `orgPoliciesScope`. */
export function orgPolicyTargetsScope(policyType: string, policyId: string): string {
  return `${orgPoliciesScope(policyType)}:${policyId}:targets`;
}

// Identity Center

/**
 * The entitlement "may use permission set P on account A", baton-aws's flat model. Its rows are derived in SQL
 * (libs/db) from the same `ACCOUNT_PERMISSION_SET_ENTITLEMENT` parts; the model builds the id for the grants.
 */
export function accountPermissionSetEntitlementId(accountId: string, permissionSetArn: string): string {
  return `${accountId}${ACCOUNT_PERMISSION_SET_ENTITLEMENT.idSeparator}${permissionSetArn}`;
}

/** Scope of one account × permission set pair's assignments: swept when its ListAccountAssignments chain ends. */
export function assignmentScope(accountId: string, permissionSetArn: string): string {
  return `sso-assign:${accountId}|${permissionSetArn}`;
}

/** Scope of one principal's assignments (the principal route): swept when its assignment chain ends. */
export function principalAssignmentScope(principalType: "USER" | "GROUP", principalId: string): string {
  return `sso-assign-principal:${principalType}:${principalId}`;
}

// Identity Store

export function groupMemberEntitlementId(groupId: string): string {
  return entitlementId("sso_group", groupId, "member");
}

/** Scope of one identity store's users. */
export function identityStoreUsersScope(identityStoreId: string): string {
  return `idstore-users:${identityStoreId}`;
}

/** Scope of one identity store's groups. */
export function identityStoreGroupsScope(identityStoreId: string): string {
  return `idstore-groups:${identityStoreId}`;
}

/** Scope of one group's memberships: swept when its ListGroupMemberships chain ends. */
export function groupMembershipsScope(groupId: string): string {
  return `sso-members:${groupId}`;
}

// IAM

/** The mark-and-sweep scope of one account's IAM rows (GAAD). */
export function iamScope(accountId: string): string {
  return `iam:${accountId}`;
}

/**
 * Access keys of one account: swept only by the source-wide sweep (see aws/map-access-keys.ts). Nested under `iamScope` so
 * that a denied GAAD keeps them too (kept scopes match by prefix).
 */
export function iamKeysScope(accountId: string): string {
  return `iam:${accountId}:keys`;
}

/** The account alias resource of one account. */
export function iamAliasScope(accountId: string): string {
  return `iam:${accountId}:alias`;
}

export function iamGroupMemberEntitlementId(groupArn: string): string {
  return entitlementId("iam_group", groupArn, "member");
}

export function iamRoleAssignmentEntitlementId(roleArn: string): string {
  return entitlementId("iam_role", roleArn, "assignment");
}

export function iamPolicyAttachedEntitlementId(policyArn: string): string {
  return entitlementId("iam_policy", policyArn, "attached");
}

/** An inline policy has no ARN of its own: its owner's ARN and its name identify it. */
export function inlinePolicyId(ownerArn: string, policyName: string): string {
  return `${ownerArn}::inline::${policyName}`;
}

export function inlinePolicyAttachedEntitlementId(inlineId: string): string {
  return entitlementId("inline_policy", inlineId, "attached");
}

// diag

/** The one scope of a diag source's page chain. */
export function diagScope(sourceId: string): string {
  return `diag:${sourceId}`;
}
