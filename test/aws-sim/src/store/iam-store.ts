import type { Actor } from "../actor.ts";
import { AwsError } from "../aws-error.ts";
import { AWS_MANAGED_POLICIES } from "../aws-managed-policies.ts";
import { accessKeyId, iamId, secretKey } from "../ids.ts";
import type { IamGroupDoc, IamRoleDoc, IamUserDoc } from "../org-document.ts";
import { assertModifiableRole } from "./reserved-sso-roles.ts";
import { now, type StoreState } from "./store-state.ts";

function noSuch(kind: string, name: string): AwsError {
  return new AwsError("NoSuchEntity", `The ${kind} with name ${name} cannot be found.`, 404);
}
/** IAM users, groups, roles, policies and access keys, per account. */
export class IamStore {
  constructor(private readonly s: StoreState) {}

  iamUser(acct: string, name: string): IamUserDoc {
    const u = this.s.account(acct).users.get(name);
    if (!u) throw noSuch("user", name);
    return u;
  }
  iamGroup(acct: string, name: string): IamGroupDoc {
    const g = this.s.account(acct).groups.get(name);
    if (!g) throw noSuch("group", name);
    return g;
  }
  iamRole(acct: string, name: string): IamRoleDoc {
    const r = this.s.account(acct).roles.get(name);
    if (!r) throw noSuch("role", name);
    return r;
  }
  /** Customer-managed (this account) or AWS-managed policy exists? */
  policyExists(acct: string, arn: string): boolean {
    return AWS_MANAGED_POLICIES.has(arn) || this.s.account(acct).policies.has(arn);
  }
  createIamUser(
    actor: Actor | null,
    acct: string,
    p: { userName: string; path?: string; tags?: Array<{ Key: string; Value: string }> },
  ): IamUserDoc {
    const s = this.s.account(acct);
    if (s.users.has(p.userName))
      throw new AwsError("EntityAlreadyExists", `User with name ${p.userName} already exists.`, 409);
    const u: IamUserDoc = {
      name: p.userName,
      id: iamId(this.s.rng, "AIDA"),
      path: p.path ?? "/",
      createDate: now(),
      tags: p.tags ?? [],
      groups: [],
      attachedPolicies: [],
      inlinePolicies: [],
      accessKeys: [],
    };
    s.users.set(u.name, u);
    this.s.record(actor, acct, "iam.amazonaws.com", "CreateUser", { userName: u.name, path: u.path }, [
      { ResourceType: "AWS::IAM::User", ResourceName: u.name },
    ]);
    return u;
  }
  deleteIamUser(actor: Actor | null, acct: string, userName: string): void {
    const s = this.s.account(acct);
    const u = this.iamUser(acct, userName);
    for (const g of u.groups) s.groupMembers.get(g)?.delete(userName);
    for (const k of u.accessKeys) this.s.keys.delete(k.id);
    s.users.delete(userName);
    this.s.record(actor, acct, "iam.amazonaws.com", "DeleteUser", { userName }, [
      { ResourceType: "AWS::IAM::User", ResourceName: userName },
    ]);
  }
  createIamGroup(actor: Actor | null, acct: string, p: { groupName: string; path?: string }): IamGroupDoc {
    const s = this.s.account(acct);
    if (s.groups.has(p.groupName))
      throw new AwsError("EntityAlreadyExists", `Group with name ${p.groupName} already exists.`, 409);
    const g: IamGroupDoc = {
      name: p.groupName,
      id: iamId(this.s.rng, "AGPA"),
      path: p.path ?? "/",
      createDate: now(),
      attachedPolicies: [],
      inlinePolicies: [],
    };
    s.groups.set(g.name, g);
    s.groupMembers.set(g.name, new Set());
    this.s.record(actor, acct, "iam.amazonaws.com", "CreateGroup", { groupName: g.name, path: g.path }, [
      { ResourceType: "AWS::IAM::Group", ResourceName: g.name },
    ]);
    return g;
  }
  deleteIamGroup(actor: Actor | null, acct: string, groupName: string): void {
    const s = this.s.account(acct);
    this.iamGroup(acct, groupName);
    for (const un of s.groupMembers.get(groupName) ?? []) {
      const u = s.users.get(un);
      if (u) u.groups = u.groups.filter((g) => g !== groupName);
    }
    s.groups.delete(groupName);
    s.groupMembers.delete(groupName);
    this.s.record(actor, acct, "iam.amazonaws.com", "DeleteGroup", { groupName }, [
      { ResourceType: "AWS::IAM::Group", ResourceName: groupName },
    ]);
  }
  addUserToGroup(actor: Actor | null, acct: string, groupName: string, userName: string): void {
    const s = this.s.account(acct);
    this.iamGroup(acct, groupName);
    const u = this.iamUser(acct, userName);
    if (!u.groups.includes(groupName)) u.groups.push(groupName);
    s.groupMembers.get(groupName)?.add(userName);
    this.s.record(actor, acct, "iam.amazonaws.com", "AddUserToGroup", { groupName, userName }, [
      { ResourceType: "AWS::IAM::Group", ResourceName: groupName },
      { ResourceType: "AWS::IAM::User", ResourceName: userName },
    ]);
  }
  removeUserFromGroup(actor: Actor | null, acct: string, groupName: string, userName: string): void {
    const s = this.s.account(acct);
    this.iamGroup(acct, groupName);
    const u = this.iamUser(acct, userName);
    if (!u.groups.includes(groupName))
      throw new AwsError(
        "NoSuchEntity",
        `The user with name ${userName} cannot be found in group ${groupName}.`,
        404,
      );
    u.groups = u.groups.filter((g) => g !== groupName);
    s.groupMembers.get(groupName)?.delete(userName);
    this.s.record(actor, acct, "iam.amazonaws.com", "RemoveUserFromGroup", { groupName, userName }, [
      { ResourceType: "AWS::IAM::Group", ResourceName: groupName },
      { ResourceType: "AWS::IAM::User", ResourceName: userName },
    ]);
  }
  createIamRole(
    actor: Actor | null,
    acct: string,
    p: {
      roleName: string;
      path?: string;
      trustPolicy: string;
      description?: string;
      maxSessionDuration?: number;
    },
  ): IamRoleDoc {
    const s = this.s.account(acct);
    if (s.roles.has(p.roleName))
      throw new AwsError("EntityAlreadyExists", `Role with name ${p.roleName} already exists.`, 409);
    const r: IamRoleDoc = {
      name: p.roleName,
      id: iamId(this.s.rng, "AROA"),
      path: p.path ?? "/",
      createDate: now(),
      description: p.description,
      maxSessionDuration: p.maxSessionDuration ?? 3600,
      trustPolicy: p.trustPolicy,
      tags: [],
      attachedPolicies: [],
      inlinePolicies: [],
    };
    s.roles.set(r.name, r);
    this.s.record(
      actor,
      acct,
      "iam.amazonaws.com",
      "CreateRole",
      { roleName: r.name, path: r.path, assumeRolePolicyDocument: r.trustPolicy },
      [{ ResourceType: "AWS::IAM::Role", ResourceName: r.name }],
    );
    return r;
  }
  deleteIamRole(actor: Actor | null, acct: string, roleName: string): void {
    assertModifiableRole(this.iamRole(acct, roleName));
    this.s.account(acct).roles.delete(roleName);
    this.s.record(actor, acct, "iam.amazonaws.com", "DeleteRole", { roleName }, [
      { ResourceType: "AWS::IAM::Role", ResourceName: roleName },
    ]);
  }
  updateAssumeRolePolicy(actor: Actor | null, acct: string, roleName: string, policyDocument: string): void {
    try {
      JSON.parse(policyDocument);
    } catch {
      throw new AwsError("MalformedPolicyDocument", "This policy contains invalid Json", 400);
    }
    const role = this.iamRole(acct, roleName);
    assertModifiableRole(role);
    role.trustPolicy = policyDocument;
    this.s.record(actor, acct, "iam.amazonaws.com", "UpdateAssumeRolePolicy", { roleName, policyDocument }, [
      { ResourceType: "AWS::IAM::Role", ResourceName: roleName },
    ]);
  }
  /** The user, group or role a policy write targets; AWS's protected roles refuse every such write. */
  private principal(
    acct: string,
    type: "user" | "group" | "role",
    name: string,
  ): { attachedPolicies: string[]; inlinePolicies: Array<{ name: string; document: string }> } {
    if (type === "role") assertModifiableRole(this.iamRole(acct, name));
    return type === "user"
      ? this.iamUser(acct, name)
      : type === "group"
        ? this.iamGroup(acct, name)
        : this.iamRole(acct, name);
  }
  /** Put (arn) or delete (undefined) a user's or role's permissions boundary. */
  setPermissionsBoundary(
    actor: Actor | null,
    acct: string,
    type: "user" | "role",
    name: string,
    arn: string | undefined,
  ): void {
    const p = type === "user" ? this.iamUser(acct, name) : this.iamRole(acct, name);
    if (type === "role") assertModifiableRole(this.iamRole(acct, name));
    if (arn !== undefined && !this.policyExists(acct, arn))
      throw new AwsError("NoSuchEntity", `Policy ${arn} does not exist or is not attachable.`, 404);
    p.permissionsBoundary = arn;
    const T = type === "user" ? "User" : "Role";
    this.s.record(
      actor,
      acct,
      "iam.amazonaws.com",
      `${arn ? "Put" : "Delete"}${T}PermissionsBoundary`,
      { [`${type}Name`]: name, ...(arn ? { permissionsBoundary: arn } : {}) },
      [{ ResourceType: `AWS::IAM::${T}`, ResourceName: name }],
    );
  }
  attachPolicy(
    actor: Actor | null,
    acct: string,
    type: "user" | "group" | "role",
    name: string,
    arn: string,
  ): void {
    const p = this.principal(acct, type, name);
    if (!this.policyExists(acct, arn))
      throw new AwsError("NoSuchEntity", `Policy ${arn} does not exist or is not attachable.`, 404);
    if (!p.attachedPolicies.includes(arn)) p.attachedPolicies.push(arn);
    const T = type[0]!.toUpperCase() + type.slice(1);
    this.s.record(
      actor,
      acct,
      "iam.amazonaws.com",
      `Attach${T}Policy`,
      { [`${type}Name`]: name, policyArn: arn },
      [
        { ResourceType: `AWS::IAM::${T}`, ResourceName: name },
        { ResourceType: "AWS::IAM::Policy", ResourceName: arn },
      ],
    );
  }
  detachPolicy(
    actor: Actor | null,
    acct: string,
    type: "user" | "group" | "role",
    name: string,
    arn: string,
  ): void {
    const p = this.principal(acct, type, name);
    if (!p.attachedPolicies.includes(arn))
      throw new AwsError("NoSuchEntity", `Policy ${arn} was not found.`, 404);
    p.attachedPolicies = p.attachedPolicies.filter((x) => x !== arn);
    const T = type[0]!.toUpperCase() + type.slice(1);
    this.s.record(
      actor,
      acct,
      "iam.amazonaws.com",
      `Detach${T}Policy`,
      { [`${type}Name`]: name, policyArn: arn },
      [
        { ResourceType: `AWS::IAM::${T}`, ResourceName: name },
        { ResourceType: "AWS::IAM::Policy", ResourceName: arn },
      ],
    );
  }
  putInlinePolicy(
    actor: Actor | null,
    acct: string,
    type: "user" | "group" | "role",
    name: string,
    policyName: string,
    document: string,
  ): void {
    const p = this.principal(acct, type, name);
    p.inlinePolicies = [
      ...p.inlinePolicies.filter((x) => x.name !== policyName),
      { name: policyName, document },
    ];
    const T = type[0]!.toUpperCase() + type.slice(1);
    this.s.record(
      actor,
      acct,
      "iam.amazonaws.com",
      `Put${T}Policy`,
      { [`${type}Name`]: name, policyName, policyDocument: document },
      [{ ResourceType: `AWS::IAM::${T}`, ResourceName: name }],
    );
  }
  deleteInlinePolicy(
    actor: Actor | null,
    acct: string,
    type: "user" | "group" | "role",
    name: string,
    policyName: string,
  ): void {
    const p = this.principal(acct, type, name);
    if (!p.inlinePolicies.some((x) => x.name === policyName))
      throw new AwsError("NoSuchEntity", `The ${type} policy with name ${policyName} cannot be found.`, 404);
    p.inlinePolicies = p.inlinePolicies.filter((x) => x.name !== policyName);
    const T = type[0]!.toUpperCase() + type.slice(1);
    this.s.record(
      actor,
      acct,
      "iam.amazonaws.com",
      `Delete${T}Policy`,
      { [`${type}Name`]: name, policyName },
      [{ ResourceType: `AWS::IAM::${T}`, ResourceName: name }],
    );
  }
  createAccessKey(actor: Actor | null, acct: string, userName: string): IamUserDoc["accessKeys"][number] {
    const u = this.iamUser(acct, userName);
    const k = {
      id: accessKeyId(this.s.rng),
      secret: secretKey(this.s.rng),
      status: "Active" as const,
      createDate: now(),
      lastUsed: undefined,
    };
    u.accessKeys.push(k);
    this.s.keys.set(k.id, { kind: "user", accountId: acct, userName });
    this.s.record(
      actor,
      acct,
      "iam.amazonaws.com",
      "CreateAccessKey",
      { userName },
      [{ ResourceType: "AWS::IAM::AccessKey", ResourceName: k.id }],
      { accessKey: { accessKeyId: k.id, status: "Active", userName } },
    );
    return k;
  }
  private keyOf(acct: string, keyId: string): { u: IamUserDoc; k: IamUserDoc["accessKeys"][number] } {
    for (const u of this.s.account(acct).users.values()) {
      const k = u.accessKeys.find((x) => x.id === keyId);
      if (k) return { u, k };
    }
    throw new AwsError("NoSuchEntity", `The Access Key with id ${keyId} cannot be found.`, 404);
  }
  updateAccessKey(actor: Actor | null, acct: string, keyId: string, status: "Active" | "Inactive"): void {
    const { u, k } = this.keyOf(acct, keyId);
    k.status = status;
    this.s.record(
      actor,
      acct,
      "iam.amazonaws.com",
      "UpdateAccessKey",
      { userName: u.name, accessKeyId: keyId, status },
      [{ ResourceType: "AWS::IAM::AccessKey", ResourceName: keyId }],
    );
  }
  deleteAccessKey(actor: Actor | null, acct: string, keyId: string): void {
    const { u } = this.keyOf(acct, keyId);
    u.accessKeys = u.accessKeys.filter((x) => x.id !== keyId);
    this.s.keys.delete(keyId);
    this.s.record(
      actor,
      acct,
      "iam.amazonaws.com",
      "DeleteAccessKey",
      { userName: u.name, accessKeyId: keyId },
      [{ ResourceType: "AWS::IAM::AccessKey", ResourceName: keyId }],
    );
  }
}
