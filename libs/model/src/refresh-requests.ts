import {
  type OperationName,
  type PageRequest,
  type RefreshIntent,
  type ServiceName,
} from "@grantline/contracts";
import { iamRefreshRequests } from "./aws/iam-refresh.ts";
import { WITH_TARGETS_PARAM } from "./aws/org-policies.ts";
import { SWEEP_CHILDREN_PARAM } from "./aws/organizations.ts";
import { firstPage } from "./aws/page-helpers.ts";
import {
  assignmentScope,
  groupMembershipsScope,
  identityStoreGroupsScope,
  identityStoreUsersScope,
} from "./ids.ts";

/** What every task of a refresh run shares, and the source's IAM choices its IAM refreshes follow. */
export interface RefreshBase {
  runId: string;
  sourceId: string;
  /** The source's `iam.onlyAttachedPolicies` (default true), for an account's GAAD chain. */
  iamOnlyAttachedPolicies?: boolean;
  /** The synced ARN of an IAM intent's role, user or group, when known (libs/model `iamRefreshRequests`). */
  iamArn?: string | null;
}

/**
 * libs/aws `BYPASS_CACHE_PARAM` (libs/model does not depend on libs/aws): the composite DescribePermissionSet
 * reads AWS and overwrites its Redis entry instead of answering from it, since the set is known to have changed.
 */
export const BYPASS_CACHE_PARAM = "BypassCache";

/**
 * The tasks of one targeted refresh: the full sync's own operations, params and scopes for the object the intent
 * names, so a targeted refresh writes the rows a full sync writes and its scope sweeps revoke what a full sync's
 * would. Single objects (a user, a group, an account, a permission set, a policy) are read with a Describe whose
 * mapper writes the row the list writes, in the list's scope, and deletes the object when it is gone.
 *
 * Two kinds need more than the intent: `membership` names its group only through the synced rows, and `source`
 * is a full run, not a task list. Both return no request here; libs/db `planRefresh` resolves them (and adds the
 * dependents only the database knows, such as the groups a deleted user was a member of).
 *
 * @example
 * refreshRequests({ kind: "group-members", identityStoreId: "d-1", groupId: "g-1" }, { runId, sourceId })
 * // → [identitystore.ListGroupMemberships { IdentityStoreId: "d-1", GroupId: "g-1" } in scope sso-members:g-1]
 */
export function refreshRequests(intent: RefreshIntent, base: RefreshBase): PageRequest[] {
  const req = <S extends ServiceName>(
    service: S,
    operation: OperationName<S>,
    params: Record<string, unknown>,
    scope: string | null = null,
  ): PageRequest[] => [firstPage(base, service, operation, params, scope, null)];
  switch (intent.kind) {
    case "assignments": {
      const { instanceArn: InstanceArn, accountId: AccountId, permissionSetArn: PermissionSetArn } = intent;
      return req(
        "sso-admin",
        "ListAccountAssignments",
        { InstanceArn, AccountId, PermissionSetArn },
        assignmentScope(AccountId, PermissionSetArn),
      );
    }
    case "permission-set-accounts":
      return req("sso-admin", "ListAccountsForProvisionedPermissionSet", {
        InstanceArn: intent.instanceArn,
        PermissionSetArn: intent.permissionSetArn,
      });
    case "permission-set":
      return req("sso-admin", "DescribePermissionSet", {
        InstanceArn: intent.instanceArn,
        PermissionSetArn: intent.permissionSetArn,
        [BYPASS_CACHE_PARAM]: true,
      });
    case "group-members":
    case "sso-group": {
      const { identityStoreId: IdentityStoreId, groupId: GroupId } = intent;
      return intent.kind === "group-members"
        ? req(
            "identitystore",
            "ListGroupMemberships",
            { IdentityStoreId, GroupId },
            groupMembershipsScope(GroupId),
          )
        : req(
            "identitystore",
            "DescribeGroup",
            { IdentityStoreId, GroupId },
            identityStoreGroupsScope(IdentityStoreId),
          );
    }
    case "sso-user": {
      const { identityStoreId: IdentityStoreId, userId: UserId } = intent;
      return req(
        "identitystore",
        "DescribeUser",
        { IdentityStoreId, UserId },
        identityStoreUsersScope(IdentityStoreId),
      );
    }
    case "account":
      return req("organizations", "DescribeAccount", { AccountId: intent.accountId });
    case "organization-tree":
      return req("organizations", "ListRoots", { [SWEEP_CHILDREN_PARAM]: true });
    case "org-policy":
      return req("organizations", "DescribePolicy", { PolicyId: intent.policyId });
    case "org-policy-targets":
      // The targets' scope names the policy's type, which only the policy tells: DescribePolicy adds the chain.
      return req("organizations", "DescribePolicy", {
        PolicyId: intent.policyId,
        [WITH_TARGETS_PARAM]: true,
      });
    case "iam-role":
    case "iam-user":
    case "iam-user-keys":
    case "iam-group":
    case "iam-policy":
    case "iam-account":
      return iamRefreshRequests(intent, {
        runId: base.runId,
        sourceId: base.sourceId,
        onlyAttachedPolicies: base.iamOnlyAttachedPolicies,
        arn: base.iamArn,
      });
    case "membership":
    case "source":
      return [];
  }
}
