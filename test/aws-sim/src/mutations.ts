import { AwsError, isAwsError } from "./aws-error.ts";
import { mutationCall, scimCallOf } from "./mutation-events.ts";
import type { AccountDoc, OrgPolicyType, PermissionSetBoundary } from "./org-document.ts";
import { scimEvent } from "./scim-events.ts";
import type { Store } from "./store.ts";

type PrincipalType = "user" | "group" | "role";
type AccountStatus = AccountDoc["status"];
interface Assignment {
  accountId: string;
  permissionSetArn: string;
  principalType: "USER" | "GROUP";
  principalId: string;
}

/**
 * Typed helpers mirroring the admin API (`POST /_sim/mutate/<name>` with the argument as JSON body).
 * Every mutation appends a CloudTrail record (actor = the account's root, invokedBy aws-sim-admin).
 */
export function createMutations(store: Store) {
  const assignment = (kind: "create" | "delete", a: Assignment) => {
    const op = store.ssoAdmin.startAssignmentOp(
      null,
      kind,
      {
        accountId: a.accountId,
        permissionSetArn: a.permissionSetArn,
        principalType: a.principalType,
        principalId: a.principalId,
      },
      true,
    );
    if (op.status === "FAILED") throw new AwsError("ValidationException", op.failureReason ?? "failed", 400);
    return { requestId: op.requestId, status: op.status };
  };
  return detached(store, {
    // Identity Store
    createIdentityStoreUser: (p: {
      userName: string;
      displayName: string;
      givenName: string;
      familyName: string;
      email?: string;
    }) => store.identityStore.createIdentityStoreUser(null, p),
    deleteIdentityStoreUser: (p: { userId: string }) =>
      store.identityStore.deleteIdentityStoreUser(null, p.userId),
    disableIdentityStoreUser: (p: { userId: string }) =>
      store.identityStore.setUserActive(null, p.userId, false),
    enableIdentityStoreUser: (p: { userId: string }) =>
      store.identityStore.setUserActive(null, p.userId, true),
    createIdentityStoreGroup: (p: { displayName: string; description?: string }) =>
      store.identityStore.createIdentityStoreGroup(null, p),
    deleteIdentityStoreGroup: (p: { groupId: string }) =>
      store.identityStore.deleteIdentityStoreGroup(null, p.groupId),
    addGroupMembership: (p: { groupId: string; userId: string }) =>
      store.identityStore.createGroupMembership(null, p.groupId, p.userId),
    removeGroupMembership: (p: { membershipId?: string; groupId?: string; userId?: string }) => {
      const id =
        p.membershipId ?? store.identityStore.findMembership(p.groupId ?? "", p.userId ?? "")?.membershipId;
      if (!id) throw new AwsError("ResourceNotFoundException", "GROUP_MEMBERSHIP not found.", 404);
      store.identityStore.deleteGroupMembership(null, id);
    },
    // Identity Center
    createPermissionSet: (p: {
      name: string;
      description?: string;
      sessionDuration?: string;
      managedPolicies?: string[];
      inlinePolicy?: string;
      customerManagedPolicyReferences?: Array<{ name: string; path?: string }>;
      provisionTo?: string[];
    }) => {
      const ps = store.ssoAdmin.createPermissionSet(null, p);
      for (const acct of p.provisionTo ?? []) store.ssoAdmin.provisionPermissionSet(null, ps.arn, acct);
      return { ...ps, provisionedTo: [...(store.provisioned.get(ps.arn) ?? [])] };
    },
    deletePermissionSet: (p: { permissionSetArn: string }) =>
      store.ssoAdmin.deletePermissionSet(null, p.permissionSetArn),
    provisionPermissionSet: (p: { permissionSetArn: string; accountId: string }) =>
      store.ssoAdmin.provisionPermissionSet(null, p.permissionSetArn, p.accountId),
    putPermissionSetBoundary: (p: { permissionSetArn: string; boundary: PermissionSetBoundary }) =>
      store.ssoAdmin.setPermissionsBoundary(null, p.permissionSetArn, p.boundary),
    deletePermissionSetBoundary: (p: { permissionSetArn: string }) =>
      store.ssoAdmin.setPermissionsBoundary(null, p.permissionSetArn, undefined),
    createAccountAssignment: (p: Assignment) => assignment("create", p),
    deleteAccountAssignment: (p: Assignment) => assignment("delete", p),
    // Organizations
    createAccount: (p: {
      name: string;
      email: string;
      parentId?: string;
      id?: string;
      status?: AccountStatus;
    }) => store.organizations.createAccount(null, p),
    removeAccount: (p: { accountId: string }) => store.organizations.removeAccount(null, p.accountId),
    setAccountStatus: (p: { accountId: string; status: AccountStatus }) =>
      store.organizations.setAccountStatus(null, p.accountId, p.status),
    createOrgPolicy: (p: {
      name: string;
      type?: OrgPolicyType;
      content: string;
      description?: string;
      targets?: string[];
    }) => {
      const doc = store.organizationPolicies.createOrgPolicy(null, {
        ...p,
        type: p.type ?? "SERVICE_CONTROL_POLICY",
      });
      for (const t of p.targets ?? []) store.organizationPolicies.attach(null, doc.id, t);
      return doc;
    },
    attachOrgPolicy: (p: { policyId: string; targetId: string }) =>
      store.organizationPolicies.attach(null, p.policyId, p.targetId),
    detachOrgPolicy: (p: { policyId: string; targetId: string }) =>
      store.organizationPolicies.detach(null, p.policyId, p.targetId),
    // IAM (per account)
    createIamUser: (p: {
      accountId: string;
      userName: string;
      path?: string;
      tags?: Array<{ Key: string; Value: string }>;
    }) => store.iam.createIamUser(null, p.accountId, p),
    deleteIamUser: (p: { accountId: string; userName: string }) =>
      store.iam.deleteIamUser(null, p.accountId, p.userName),
    createIamGroup: (p: { accountId: string; groupName: string; path?: string }) =>
      store.iam.createIamGroup(null, p.accountId, p),
    deleteIamGroup: (p: { accountId: string; groupName: string }) =>
      store.iam.deleteIamGroup(null, p.accountId, p.groupName),
    addIamUserToGroup: (p: { accountId: string; groupName: string; userName: string }) =>
      store.iam.addUserToGroup(null, p.accountId, p.groupName, p.userName),
    removeIamUserFromGroup: (p: { accountId: string; groupName: string; userName: string }) =>
      store.iam.removeUserFromGroup(null, p.accountId, p.groupName, p.userName),
    createIamRole: (p: {
      accountId: string;
      roleName: string;
      trustPolicy: string;
      path?: string;
      description?: string;
      maxSessionDuration?: number;
    }) => store.iam.createIamRole(null, p.accountId, p),
    deleteIamRole: (p: { accountId: string; roleName: string }) =>
      store.iam.deleteIamRole(null, p.accountId, p.roleName),
    updateAssumeRolePolicy: (p: {
      accountId: string;
      roleName: string;
      document?: string;
      /** Older name of `document`. */
      trustPolicy?: string;
    }) => {
      const doc = p.document ?? p.trustPolicy;
      if (!doc) throw new AwsError("ValidationError", "document (the trust policy JSON) is required", 400);
      store.iam.updateAssumeRolePolicy(null, p.accountId, p.roleName, doc);
    },
    attachPolicy: (p: {
      accountId: string;
      principalType: PrincipalType;
      principalName: string;
      policyArn: string;
    }) => store.iam.attachPolicy(null, p.accountId, p.principalType, p.principalName, p.policyArn),
    detachPolicy: (p: {
      accountId: string;
      principalType: PrincipalType;
      principalName: string;
      policyArn: string;
    }) => store.iam.detachPolicy(null, p.accountId, p.principalType, p.principalName, p.policyArn),
    putInlinePolicy: (p: {
      accountId: string;
      principalType: PrincipalType;
      principalName: string;
      policyName: string;
      document: string;
    }) =>
      store.iam.putInlinePolicy(
        null,
        p.accountId,
        p.principalType,
        p.principalName,
        p.policyName,
        p.document,
      ),
    deleteInlinePolicy: (p: {
      accountId: string;
      principalType: PrincipalType;
      principalName: string;
      policyName: string;
    }) => store.iam.deleteInlinePolicy(null, p.accountId, p.principalType, p.principalName, p.policyName),
    putPermissionsBoundary: (p: {
      accountId: string;
      principal: "user" | "role";
      name: string;
      policyArn: string;
    }) => store.iam.setPermissionsBoundary(null, p.accountId, p.principal, p.name, p.policyArn),
    deletePermissionsBoundary: (p: { accountId: string; principal: "user" | "role"; name: string }) =>
      store.iam.setPermissionsBoundary(null, p.accountId, p.principal, p.name, undefined),
    createAccessKey: (p: { accountId: string; userName: string }) =>
      store.iam.createAccessKey(null, p.accountId, p.userName),
    updateAccessKey: (p: { accountId: string; accessKeyId: string; status: "Active" | "Inactive" }) =>
      store.iam.updateAccessKey(null, p.accountId, p.accessKeyId, p.status),
    deleteAccessKey: (p: { accountId: string; accessKeyId: string }) =>
      store.iam.deleteAccessKey(null, p.accountId, p.accessKeyId),
  });
}

/**
 * Options every mutation accepts: `via: "scim"` makes an Identity Store change as the IdP's SCIM client does (recorded
 * under identitystore-scim.amazonaws.com); `onBehalfOf` (an Identity Store user id) makes the caller that Identity
 * Center user (userIdentity type IdentityCenterUser, 2025 format) instead of the account's root.
 */
export interface CallOptions {
  via?: "api" | "scim";
  onBehalfOf?: string;
}
type WithCall<T> = {
  [K in keyof T]: T[K] extends (p: infer A) => infer R ? (p: A & CallOptions) => R : never;
};

/**
 * Runs each mutation in its call context. A mutation that fails with an AWS error is recorded as AWS records a failed
 * call (errorCode/errorMessage, nothing changed). Results are copies: callers cannot alter the sim's state through them.
 */
function detached<T extends Record<string, (p: never) => unknown>>(store: Store, fns: T): WithCall<T> {
  const out: Record<string, (p: CallOptions) => unknown> = {};
  for (const [name, fn] of Object.entries(fns))
    out[name] = (p: CallOptions) => {
      const via = p.via ?? "api";
      if (via === "scim" && !scimCallOf(name, {}))
        throw new Error(`${name}: via "scim" applies to Identity Store mutations only`);
      store.callContext = { via, ...(p.onBehalfOf !== undefined ? { onBehalfOf: p.onBehalfOf } : {}) };
      const seq = store.trail.lastSeq();
      try {
        return structuredClone((fn as (p: CallOptions) => unknown)(p));
      } catch (e) {
        // A failure after the call was recorded is asynchronous in AWS (an assignment whose operation FAILED): the
        // call itself succeeded.
        if (isAwsError(e) && store.trail.lastSeq() === seq)
          recordFailure(store, name, p as Record<string, unknown>, e);
        throw e;
      } finally {
        store.callContext = {};
      }
    };
  return out as WithCall<T>;
}
function recordFailure(store: Store, name: string, p: Record<string, unknown>, e: AwsError): void {
  const error = { code: e.code, message: e.message };
  const scim = store.viaScim() ? scimCallOf(name, p) : undefined;
  if (scim && store.ic) return store.recordScim(scimEvent(store.scimTenantId(), scim), error);
  const call = mutationCall(store, name, p);
  // An unknown account has no trail to record in (AWS would reject the caller's credentials first).
  if (!call || !store.accounts.has(call.accountId)) return;
  store.trail.append(store.adminActor(call.accountId), {
    accountId: call.accountId,
    eventSource: call.eventSource,
    eventName: call.eventName,
    requestParameters: call.requestParameters,
    error,
  });
}
export type SimMutations = ReturnType<typeof createMutations>;

/** Required (string) members of each mutation's argument, checked by the admin API before calling it. */
export const MUTATION_REQUIRED: Record<keyof SimMutations, readonly string[]> = {
  createIdentityStoreUser: ["userName", "displayName", "givenName", "familyName"],
  deleteIdentityStoreUser: ["userId"],
  disableIdentityStoreUser: ["userId"],
  enableIdentityStoreUser: ["userId"],
  createIdentityStoreGroup: ["displayName"],
  deleteIdentityStoreGroup: ["groupId"],
  addGroupMembership: ["groupId", "userId"],
  removeGroupMembership: [],
  createPermissionSet: ["name"],
  deletePermissionSet: ["permissionSetArn"],
  provisionPermissionSet: ["permissionSetArn", "accountId"],
  putPermissionSetBoundary: ["permissionSetArn"],
  deletePermissionSetBoundary: ["permissionSetArn"],
  createAccountAssignment: ["accountId", "permissionSetArn", "principalType", "principalId"],
  deleteAccountAssignment: ["accountId", "permissionSetArn", "principalType", "principalId"],
  createAccount: ["name", "email"],
  removeAccount: ["accountId"],
  setAccountStatus: ["accountId", "status"],
  createOrgPolicy: ["name", "content"],
  attachOrgPolicy: ["policyId", "targetId"],
  detachOrgPolicy: ["policyId", "targetId"],
  createIamUser: ["accountId", "userName"],
  deleteIamUser: ["accountId", "userName"],
  createIamGroup: ["accountId", "groupName"],
  deleteIamGroup: ["accountId", "groupName"],
  addIamUserToGroup: ["accountId", "groupName", "userName"],
  removeIamUserFromGroup: ["accountId", "groupName", "userName"],
  createIamRole: ["accountId", "roleName", "trustPolicy"],
  deleteIamRole: ["accountId", "roleName"],
  updateAssumeRolePolicy: ["accountId", "roleName"],
  attachPolicy: ["accountId", "principalType", "principalName", "policyArn"],
  detachPolicy: ["accountId", "principalType", "principalName", "policyArn"],
  putInlinePolicy: ["accountId", "principalType", "principalName", "policyName", "document"],
  deleteInlinePolicy: ["accountId", "principalType", "principalName", "policyName"],
  putPermissionsBoundary: ["accountId", "principal", "name", "policyArn"],
  deletePermissionsBoundary: ["accountId", "principal", "name"],
  createAccessKey: ["accountId", "userName"],
  updateAccessKey: ["accountId", "accessKeyId", "status"],
  deleteAccessKey: ["accountId", "accessKeyId"],
};
