import type { ScimCall } from "./scim-events.ts";
import type { Store } from "./store.ts";

/** The CloudTrail call an admin mutation stands for: what AWS records when that call fails. */
export interface MutationCall {
  eventSource: string;
  eventName: string;
  /** The account whose trail records it (IAM: the account changed; the rest: the management account). */
  accountId: string;
  requestParameters: Record<string, unknown>;
}
type P = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === "string" ? v : "");
const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

const IAM: Record<string, (p: P) => { eventName: string; requestParameters: P }> = {
  createIamUser: (p) => ({ eventName: "CreateUser", requestParameters: { userName: p["userName"] } }),
  deleteIamUser: (p) => ({ eventName: "DeleteUser", requestParameters: { userName: p["userName"] } }),
  createIamGroup: (p) => ({ eventName: "CreateGroup", requestParameters: { groupName: p["groupName"] } }),
  deleteIamGroup: (p) => ({ eventName: "DeleteGroup", requestParameters: { groupName: p["groupName"] } }),
  addIamUserToGroup: (p) => ({
    eventName: "AddUserToGroup",
    requestParameters: { groupName: p["groupName"], userName: p["userName"] },
  }),
  removeIamUserFromGroup: (p) => ({
    eventName: "RemoveUserFromGroup",
    requestParameters: { groupName: p["groupName"], userName: p["userName"] },
  }),
  createIamRole: (p) => ({
    eventName: "CreateRole",
    requestParameters: { roleName: p["roleName"], assumeRolePolicyDocument: p["trustPolicy"] },
  }),
  deleteIamRole: (p) => ({ eventName: "DeleteRole", requestParameters: { roleName: p["roleName"] } }),
  updateAssumeRolePolicy: (p) => ({
    eventName: "UpdateAssumeRolePolicy",
    requestParameters: { roleName: p["roleName"], policyDocument: p["document"] ?? p["trustPolicy"] },
  }),
  attachPolicy: (p) => ({
    eventName: `Attach${cap(str(p["principalType"]))}Policy`,
    requestParameters: { [`${str(p["principalType"])}Name`]: p["principalName"], policyArn: p["policyArn"] },
  }),
  detachPolicy: (p) => ({
    eventName: `Detach${cap(str(p["principalType"]))}Policy`,
    requestParameters: { [`${str(p["principalType"])}Name`]: p["principalName"], policyArn: p["policyArn"] },
  }),
  putInlinePolicy: (p) => ({
    eventName: `Put${cap(str(p["principalType"]))}Policy`,
    requestParameters: {
      [`${str(p["principalType"])}Name`]: p["principalName"],
      policyName: p["policyName"],
      policyDocument: p["document"],
    },
  }),
  deleteInlinePolicy: (p) => ({
    eventName: `Delete${cap(str(p["principalType"]))}Policy`,
    requestParameters: {
      [`${str(p["principalType"])}Name`]: p["principalName"],
      policyName: p["policyName"],
    },
  }),
  putPermissionsBoundary: (p) => ({
    eventName: `Put${cap(str(p["principal"]))}PermissionsBoundary`,
    requestParameters: { [`${str(p["principal"])}Name`]: p["name"], permissionsBoundary: p["policyArn"] },
  }),
  deletePermissionsBoundary: (p) => ({
    eventName: `Delete${cap(str(p["principal"]))}PermissionsBoundary`,
    requestParameters: { [`${str(p["principal"])}Name`]: p["name"] },
  }),
  createAccessKey: (p) => ({ eventName: "CreateAccessKey", requestParameters: { userName: p["userName"] } }),
  updateAccessKey: (p) => ({
    eventName: "UpdateAccessKey",
    requestParameters: { accessKeyId: p["accessKeyId"], status: p["status"] },
  }),
  deleteAccessKey: (p) => ({
    eventName: "DeleteAccessKey",
    requestParameters: { accessKeyId: p["accessKeyId"] },
  }),
};

const ORGANIZATIONS: Record<string, (p: P) => { eventName: string; requestParameters: P }> = {
  createAccount: (p) => ({
    eventName: "CreateAccount",
    requestParameters: { accountName: p["name"], email: p["email"] },
  }),
  removeAccount: (p) => ({
    eventName: "RemoveAccountFromOrganization",
    requestParameters: { accountId: p["accountId"] },
  }),
  setAccountStatus: (p) => ({
    eventName: p["status"] === "ACTIVE" ? "UpdateAccount" : "CloseAccount",
    requestParameters: { accountId: p["accountId"] },
  }),
  createOrgPolicy: (p) => ({
    eventName: "CreatePolicy",
    requestParameters: {
      name: p["name"],
      type: p["type"] ?? "SERVICE_CONTROL_POLICY",
      content: p["content"],
    },
  }),
  attachOrgPolicy: (p) => ({
    eventName: "AttachPolicy",
    requestParameters: { policyId: p["policyId"], targetId: p["targetId"] },
  }),
  detachOrgPolicy: (p) => ({
    eventName: "DetachPolicy",
    requestParameters: { policyId: p["policyId"], targetId: p["targetId"] },
  }),
};

const SSO: Record<string, (p: P) => { eventName: string; requestParameters: P }> = {
  createPermissionSet: (p) => ({ eventName: "CreatePermissionSet", requestParameters: { name: p["name"] } }),
  deletePermissionSet: (p) => ({
    eventName: "DeletePermissionSet",
    requestParameters: { permissionSetArn: p["permissionSetArn"] },
  }),
  provisionPermissionSet: (p) => ({
    eventName: "ProvisionPermissionSet",
    requestParameters: {
      permissionSetArn: p["permissionSetArn"],
      targetId: p["accountId"],
      targetType: "AWS_ACCOUNT",
    },
  }),
  putPermissionSetBoundary: (p) => ({
    eventName: "PutPermissionsBoundaryToPermissionSet",
    requestParameters: { permissionSetArn: p["permissionSetArn"], permissionsBoundary: p["boundary"] },
  }),
  deletePermissionSetBoundary: (p) => ({
    eventName: "DeletePermissionsBoundaryFromPermissionSet",
    requestParameters: { permissionSetArn: p["permissionSetArn"] },
  }),
  createAccountAssignment: (p) => ({
    eventName: "CreateAccountAssignment",
    requestParameters: assignment(p),
  }),
  deleteAccountAssignment: (p) => ({
    eventName: "DeleteAccountAssignment",
    requestParameters: assignment(p),
  }),
};
function assignment(p: P): P {
  return {
    targetId: p["accountId"],
    targetType: "AWS_ACCOUNT",
    permissionSetArn: p["permissionSetArn"],
    principalType: p["principalType"],
    principalId: p["principalId"],
  };
}

const IDENTITY_STORE: Record<string, (p: P) => { eventName: string; requestParameters: P; scim: ScimCall }> =
  {
    createIdentityStoreUser: () => ({
      eventName: "CreateUser",
      requestParameters: {},
      scim: { kind: "createUser" },
    }),
    deleteIdentityStoreUser: (p) => ({
      eventName: "DeleteUser",
      requestParameters: { userId: p["userId"] },
      scim: { kind: "deleteUser", userId: str(p["userId"]) },
    }),
    disableIdentityStoreUser: (p) => userStatus(p, false),
    enableIdentityStoreUser: (p) => userStatus(p, true),
    createIdentityStoreGroup: () => ({
      eventName: "CreateGroup",
      requestParameters: {},
      scim: { kind: "createGroup" },
    }),
    deleteIdentityStoreGroup: (p) => ({
      eventName: "DeleteGroup",
      requestParameters: { groupId: p["groupId"] },
      scim: { kind: "deleteGroup", groupId: str(p["groupId"]) },
    }),
    addGroupMembership: (p) => ({
      eventName: "CreateGroupMembership",
      requestParameters: { groupId: p["groupId"], memberId: { userId: p["userId"] } },
      scim: { kind: "patchGroupMembers", groupId: str(p["groupId"]), op: "add", userIds: [str(p["userId"])] },
    }),
    removeGroupMembership: (p) => ({
      eventName: "DeleteGroupMembership",
      requestParameters: { membershipId: p["membershipId"] },
      scim: {
        kind: "patchGroupMembers",
        groupId: str(p["groupId"]),
        op: "remove",
        userIds: [str(p["userId"])],
      },
    }),
  };
function userStatus(p: P, active: boolean): { eventName: string; requestParameters: P; scim: ScimCall } {
  return {
    eventName: "UpdateUser",
    requestParameters: {
      userId: p["userId"],
      operations: [{ attributePath: "userStatus", attributeValue: active ? "ENABLED" : "DISABLED" }],
    },
    scim: { kind: "patchUser", userId: str(p["userId"]), active },
  };
}

/**
 * The call behind a mutation (undefined for a SCIM one: see `scimCallOf`). A failing mutation is recorded with it,
 * as AWS records a failed call.
 */
export function mutationCall(store: Store, name: string, p: P): MutationCall | undefined {
  const mg = store.mgmt();
  const iam = IAM[name];
  if (iam) return { eventSource: "iam.amazonaws.com", accountId: str(p["accountId"]), ...iam(p) };
  const org = ORGANIZATIONS[name];
  if (org) return { eventSource: "organizations.amazonaws.com", accountId: mg, ...org(p) };
  const ic = store.ic;
  const sso = SSO[name];
  if (sso) {
    const c = sso(p);
    return {
      eventSource: "sso.amazonaws.com",
      accountId: mg,
      eventName: c.eventName,
      requestParameters: { instanceArn: ic?.instanceArn, ...c.requestParameters },
    };
  }
  const ids = IDENTITY_STORE[name];
  if (ids) {
    const c = ids(p);
    return {
      eventSource: "identitystore.amazonaws.com",
      accountId: mg,
      eventName: c.eventName,
      requestParameters: { identityStoreId: ic?.identityStoreId, ...c.requestParameters },
    };
  }
  return undefined;
}
/** The SCIM call behind an Identity Store mutation made `via: "scim"`. */
export function scimCallOf(name: string, p: P): ScimCall | undefined {
  return IDENTITY_STORE[name]?.(p).scim;
}
