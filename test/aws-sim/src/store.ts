import { Actor } from "./actor.ts";
import { AwsError } from "./aws-error.ts";
import { AWS_MANAGED_POLICIES } from "./aws-managed-policies.ts";
import { CloudTrailLog } from "./cloud-trail-log.ts";
import { accessKeyId, cryptoRng, iamId, lower, secretKey, storeId, uuid } from "./ids.ts";
import type {
  AccountDoc,
  AssignmentDoc,
  IamGroupDoc,
  IamPolicyDoc,
  IamRoleDoc,
  IamUserDoc,
  IdentityCenterDoc,
  IdentityStoreGroupDoc,
  IdentityStoreUserDoc,
  OrgDocument,
  PermissionSetDoc,
} from "./org-document.ts";

export interface Session {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: number;
  accountId: string;
  roleName: string;
  roleId: string;
  rolePath: string;
  sessionName: string;
  created: number;
}
export type KeyRef =
  { kind: "user"; accountId: string; userName: string } | { kind: "session"; session: Session };
export interface AccountState {
  doc: AccountDoc;
  users: Map<string, IamUserDoc>;
  groups: Map<string, IamGroupDoc>;
  roles: Map<string, IamRoleDoc>;
  policies: Map<string, IamPolicyDoc>; // by ARN
  groupMembers: Map<string, Set<string>>;
}
export interface Membership {
  membershipId: string;
  groupId: string;
  userId: string;
}
export interface AssignmentOp {
  kind: "create" | "delete";
  requestId: string;
  createdDate: number;
  completeAt: number;
  status: "IN_PROGRESS" | "SUCCEEDED" | "FAILED";
  failureReason?: string;
  assignment: AssignmentDoc;
}

const now = (): string => new Date().toISOString();
const policyArn = (acct: string, p: { path: string; name: string }): string =>
  `arn:aws:iam::${acct}:policy${p.path}${p.name}`;
const aKey = (a: AssignmentDoc): string =>
  `${a.accountId}|${a.permissionSetArn}|${a.principalType}|${a.principalId}`;
function addTo<K, V>(m: Map<K, Map<string, V>>, k: K, id: string, v: V): void {
  let inner = m.get(k);
  if (!inner) m.set(k, (inner = new Map()));
  inner.set(id, v);
}
function noSuch(kind: string, name: string): AwsError {
  return new AwsError("NoSuchEntity", `The ${kind} with name ${name} cannot be found.`, 404);
}

/** The simulator's in-memory state: the org document plus indexes, the CloudTrail log and STS sessions. */
export class Store {
  readonly org: OrgDocument["organization"];
  readonly roots: OrgDocument["roots"];
  readonly ous = new Map<string, OrgDocument["organizationalUnits"][number]>();
  readonly accounts = new Map<string, AccountState>();
  readonly keys = new Map<string, KeyRef>();
  readonly trail = new CloudTrailLog();
  readonly ic:
    | Omit<IdentityCenterDoc, "users" | "groups" | "memberships" | "permissionSets" | "assignments">
    | undefined;
  readonly users = new Map<string, IdentityStoreUserDoc>();
  readonly groups = new Map<string, IdentityStoreGroupDoc>();
  readonly memberships = new Map<string, Membership>();
  readonly membershipsByGroup = new Map<string, Map<string, Membership>>();
  readonly membershipsByUser = new Map<string, Map<string, Membership>>();
  readonly permissionSets = new Map<string, PermissionSetDoc>();
  readonly provisioned = new Map<string, Set<string>>(); // psArn → accounts
  readonly provisionedByAccount = new Map<string, Set<string>>(); // account → psArns
  readonly assignments = new Map<string, AssignmentDoc>();
  readonly assignmentsByPair = new Map<string, Map<string, AssignmentDoc>>();
  readonly assignmentsByPrincipal = new Map<string, Map<string, AssignmentDoc>>();
  readonly ops = new Map<string, AssignmentOp>();
  private readonly pending = new Map<string, AssignmentOp>();
  assignmentDelayMs = 0;
  private readonly rng = cryptoRng();
  readonly managementCredentials: { accessKeyId: string; secretAccessKey: string };

  constructor(doc: OrgDocument) {
    const d = structuredClone(doc);
    this.org = d.organization;
    this.roots = d.roots;
    for (const ou of d.organizationalUnits) this.ous.set(ou.id, ou);
    for (const a of d.accounts) this.indexAccount(a);
    if (d.identityCenter) {
      const { users, groups, memberships, permissionSets, assignments, ...ic } = d.identityCenter;
      this.ic = ic;
      for (const u of users) this.users.set(u.userId, u);
      for (const g of groups) this.groups.set(g.groupId, g);
      for (const m of memberships) this.indexMembership(m);
      for (const ps of permissionSets) {
        this.permissionSets.set(ps.arn, ps);
        for (const acct of ps.provisionedTo) this.markProvisioned(ps.arn, acct);
        ps.provisionedTo = [];
      }
      for (const a of assignments) this.indexAssignment(a);
    }
    this.managementCredentials = this.findManagementKey();
  }

  private findManagementKey(): { accessKeyId: string; secretAccessKey: string } {
    const mgmt = this.account(this.org.managementAccountId);
    for (const u of mgmt.users.values()) {
      const k = u.accessKeys.find((k) => k.status === "Active");
      if (k) return { accessKeyId: k.id, secretAccessKey: (k.secret ??= secretKey(this.rng)) };
    }
    const u = this.createIamUser(null, mgmt.doc.id, { userName: "aws-sim-admin" });
    const k = this.createAccessKey(null, mgmt.doc.id, u.name);
    return { accessKeyId: k.id, secretAccessKey: k.secret ?? "" };
  }

  private indexAccount(doc: AccountDoc): AccountState {
    const s: AccountState = {
      doc,
      users: new Map(),
      groups: new Map(),
      roles: new Map(),
      policies: new Map(),
      groupMembers: new Map(),
    };
    for (const g of doc.iam.groups) {
      s.groups.set(g.name, g);
      s.groupMembers.set(g.name, new Set());
    }
    for (const u of doc.iam.users) {
      s.users.set(u.name, u);
      for (const g of u.groups) s.groupMembers.get(g)?.add(u.name);
      for (const k of u.accessKeys)
        this.keys.set(k.id, { kind: "user", accountId: doc.id, userName: u.name });
    }
    for (const r of doc.iam.roles) s.roles.set(r.name, r);
    for (const p of doc.iam.policies) s.policies.set(policyArn(doc.id, p), p);
    this.accounts.set(doc.id, s);
    return s;
  }
  private indexMembership(m: Membership): void {
    this.memberships.set(m.membershipId, m);
    addTo(this.membershipsByGroup, m.groupId, m.membershipId, m);
    addTo(this.membershipsByUser, m.userId, m.membershipId, m);
  }
  private indexAssignment(a: AssignmentDoc): void {
    const k = aKey(a);
    this.assignments.set(k, a);
    addTo(this.assignmentsByPair, `${a.accountId}|${a.permissionSetArn}`, k, a);
    addTo(this.assignmentsByPrincipal, a.principalId, k, a);
  }
  private markProvisioned(ps: string, acct: string): void {
    let s = this.provisioned.get(ps);
    if (!s) this.provisioned.set(ps, (s = new Set()));
    s.add(acct);
    let t = this.provisionedByAccount.get(acct);
    if (!t) this.provisionedByAccount.set(acct, (t = new Set()));
    t.add(ps);
  }

  // ---------- lookups ----------
  account(id: string): AccountState {
    const a = this.accounts.get(id);
    if (!a)
      throw new AwsError("AccountNotFoundException", "You specified an account that doesn't exist.", 404);
    return a;
  }
  iamUser(acct: string, name: string): IamUserDoc {
    const u = this.account(acct).users.get(name);
    if (!u) throw noSuch("user", name);
    return u;
  }
  iamGroup(acct: string, name: string): IamGroupDoc {
    const g = this.account(acct).groups.get(name);
    if (!g) throw noSuch("group", name);
    return g;
  }
  iamRole(acct: string, name: string): IamRoleDoc {
    const r = this.account(acct).roles.get(name);
    if (!r) throw noSuch("role", name);
    return r;
  }
  policyArnOf(acct: string, p: IamPolicyDoc): string {
    return policyArn(acct, p);
  }
  /** Customer-managed (this account) or AWS-managed policy exists? */
  policyExists(acct: string, arn: string): boolean {
    return AWS_MANAGED_POLICIES.has(arn) || this.account(acct).policies.has(arn);
  }
  requireInstance(instanceArn: string): NonNullable<Store["ic"]> {
    if (!this.ic || this.ic.instanceArn !== instanceArn)
      throw new AwsError("ResourceNotFoundException", `Instance ${instanceArn} does not exist.`, 404);
    return this.ic;
  }
  requireStore(id: string): void {
    if (!this.ic || this.ic.identityStoreId !== id)
      throw new AwsError("ResourceNotFoundException", "Identity store not found.", 404, {
        ResourceType: "IDENTITY_STORE",
        ResourceId: id,
      });
  }
  requirePermissionSet(arn: string): PermissionSetDoc {
    const ps = this.permissionSets.get(arn);
    if (!ps)
      throw new AwsError(
        "ResourceNotFoundException",
        `Could not find PermissionSet with id ${arn.split("/").pop()}`,
        404,
      );
    return ps;
  }

  private record(
    actor: Actor | null,
    accountId: string,
    eventSource: string,
    eventName: string,
    requestParameters: Record<string, unknown>,
    resources: Array<{ ResourceType: string; ResourceName: string }> = [],
    responseElements?: Record<string, unknown>,
  ): void {
    const a = actor ?? new Actor({ kind: "Admin", accountId });
    this.trail.append(a, {
      accountId,
      eventSource,
      eventName,
      requestParameters,
      resources,
      responseElements,
    });
  }
  private mgmt(): string {
    return this.org.managementAccountId;
  }

  // ---------- IAM mutations ----------
  createIamUser(
    actor: Actor | null,
    acct: string,
    p: { userName: string; path?: string; tags?: Array<{ Key: string; Value: string }> },
  ): IamUserDoc {
    const s = this.account(acct);
    if (s.users.has(p.userName))
      throw new AwsError("EntityAlreadyExists", `User with name ${p.userName} already exists.`, 409);
    const u: IamUserDoc = {
      name: p.userName,
      id: iamId(this.rng, "AIDA"),
      path: p.path ?? "/",
      createDate: now(),
      tags: p.tags ?? [],
      groups: [],
      attachedPolicies: [],
      inlinePolicies: [],
      accessKeys: [],
    };
    s.users.set(u.name, u);
    this.record(actor, acct, "iam.amazonaws.com", "CreateUser", { userName: u.name, path: u.path }, [
      { ResourceType: "AWS::IAM::User", ResourceName: u.name },
    ]);
    return u;
  }
  deleteIamUser(actor: Actor | null, acct: string, userName: string): void {
    const s = this.account(acct);
    const u = this.iamUser(acct, userName);
    for (const g of u.groups) s.groupMembers.get(g)?.delete(userName);
    for (const k of u.accessKeys) this.keys.delete(k.id);
    s.users.delete(userName);
    this.record(actor, acct, "iam.amazonaws.com", "DeleteUser", { userName }, [
      { ResourceType: "AWS::IAM::User", ResourceName: userName },
    ]);
  }
  createIamGroup(actor: Actor | null, acct: string, p: { groupName: string; path?: string }): IamGroupDoc {
    const s = this.account(acct);
    if (s.groups.has(p.groupName))
      throw new AwsError("EntityAlreadyExists", `Group with name ${p.groupName} already exists.`, 409);
    const g: IamGroupDoc = {
      name: p.groupName,
      id: iamId(this.rng, "AGPA"),
      path: p.path ?? "/",
      createDate: now(),
      attachedPolicies: [],
      inlinePolicies: [],
    };
    s.groups.set(g.name, g);
    s.groupMembers.set(g.name, new Set());
    this.record(actor, acct, "iam.amazonaws.com", "CreateGroup", { groupName: g.name, path: g.path }, [
      { ResourceType: "AWS::IAM::Group", ResourceName: g.name },
    ]);
    return g;
  }
  deleteIamGroup(actor: Actor | null, acct: string, groupName: string): void {
    const s = this.account(acct);
    this.iamGroup(acct, groupName);
    for (const un of s.groupMembers.get(groupName) ?? []) {
      const u = s.users.get(un);
      if (u) u.groups = u.groups.filter((g) => g !== groupName);
    }
    s.groups.delete(groupName);
    s.groupMembers.delete(groupName);
    this.record(actor, acct, "iam.amazonaws.com", "DeleteGroup", { groupName }, [
      { ResourceType: "AWS::IAM::Group", ResourceName: groupName },
    ]);
  }
  addUserToGroup(actor: Actor | null, acct: string, groupName: string, userName: string): void {
    const s = this.account(acct);
    this.iamGroup(acct, groupName);
    const u = this.iamUser(acct, userName);
    if (!u.groups.includes(groupName)) u.groups.push(groupName);
    s.groupMembers.get(groupName)?.add(userName);
    this.record(actor, acct, "iam.amazonaws.com", "AddUserToGroup", { groupName, userName }, [
      { ResourceType: "AWS::IAM::Group", ResourceName: groupName },
      { ResourceType: "AWS::IAM::User", ResourceName: userName },
    ]);
  }
  removeUserFromGroup(actor: Actor | null, acct: string, groupName: string, userName: string): void {
    const s = this.account(acct);
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
    this.record(actor, acct, "iam.amazonaws.com", "RemoveUserFromGroup", { groupName, userName }, [
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
    const s = this.account(acct);
    if (s.roles.has(p.roleName))
      throw new AwsError("EntityAlreadyExists", `Role with name ${p.roleName} already exists.`, 409);
    const r: IamRoleDoc = {
      name: p.roleName,
      id: iamId(this.rng, "AROA"),
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
    this.record(
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
    this.iamRole(acct, roleName);
    this.account(acct).roles.delete(roleName);
    this.record(actor, acct, "iam.amazonaws.com", "DeleteRole", { roleName }, [
      { ResourceType: "AWS::IAM::Role", ResourceName: roleName },
    ]);
  }
  updateAssumeRolePolicy(actor: Actor | null, acct: string, roleName: string, policyDocument: string): void {
    try {
      JSON.parse(policyDocument);
    } catch {
      throw new AwsError("MalformedPolicyDocument", "This policy contains invalid Json", 400);
    }
    this.iamRole(acct, roleName).trustPolicy = policyDocument;
    this.record(actor, acct, "iam.amazonaws.com", "UpdateAssumeRolePolicy", { roleName, policyDocument }, [
      { ResourceType: "AWS::IAM::Role", ResourceName: roleName },
    ]);
  }
  private principal(
    acct: string,
    type: "user" | "group" | "role",
    name: string,
  ): { attachedPolicies: string[]; inlinePolicies: Array<{ name: string; document: string }> } {
    return type === "user"
      ? this.iamUser(acct, name)
      : type === "group"
        ? this.iamGroup(acct, name)
        : this.iamRole(acct, name);
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
    this.record(
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
    this.record(
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
    this.record(
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
    this.record(actor, acct, "iam.amazonaws.com", `Delete${T}Policy`, { [`${type}Name`]: name, policyName }, [
      { ResourceType: `AWS::IAM::${T}`, ResourceName: name },
    ]);
  }
  createAccessKey(actor: Actor | null, acct: string, userName: string): IamUserDoc["accessKeys"][number] {
    const u = this.iamUser(acct, userName);
    const k = {
      id: accessKeyId(this.rng),
      secret: secretKey(this.rng),
      status: "Active" as const,
      createDate: now(),
      lastUsed: undefined,
    };
    u.accessKeys.push(k);
    this.keys.set(k.id, { kind: "user", accountId: acct, userName });
    this.record(
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
    for (const u of this.account(acct).users.values()) {
      const k = u.accessKeys.find((x) => x.id === keyId);
      if (k) return { u, k };
    }
    throw new AwsError("NoSuchEntity", `The Access Key with id ${keyId} cannot be found.`, 404);
  }
  updateAccessKey(actor: Actor | null, acct: string, keyId: string, status: "Active" | "Inactive"): void {
    const { u, k } = this.keyOf(acct, keyId);
    k.status = status;
    this.record(
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
    this.keys.delete(keyId);
    this.record(
      actor,
      acct,
      "iam.amazonaws.com",
      "DeleteAccessKey",
      { userName: u.name, accessKeyId: keyId },
      [{ ResourceType: "AWS::IAM::AccessKey", ResourceName: keyId }],
    );
  }

  // ---------- Organizations ----------
  createAccount(
    actor: Actor | null,
    p: { name: string; email: string; parentId?: string; id?: string; status?: "ACTIVE" | "SUSPENDED" },
  ): AccountDoc {
    if (p.id !== undefined && (this.accounts.has(p.id) || !/^\d{12}$/.test(p.id)))
      throw new AwsError(
        "DuplicateAccountException",
        "That account is already present in the specified organization.",
        409,
      );
    let id = p.id ?? "";
    while (!id || this.accounts.has(id))
      id = String(100_000_000_000 + Math.floor(this.rng() * 899_999_999_999));
    if (p.parentId !== undefined && !this.ous.has(p.parentId) && !this.roots.some((r) => r.id === p.parentId))
      throw new AwsError(
        "ParentNotFoundException",
        "We can't find a root or OU with the ParentId that you specified.",
        404,
      );
    const doc: AccountDoc = {
      id,
      name: p.name,
      email: p.email,
      status: p.status ?? "ACTIVE",
      parentId: p.parentId ?? this.roots[0]!.id,
      joinedMethod: "CREATED",
      joinedTimestamp: now(),
      iam: { aliases: [], users: [], groups: [], roles: [], policies: [] },
    };
    const s = this.indexAccount(doc);
    const mg = this.mgmt();
    const r: IamRoleDoc = {
      name: "OrganizationAccountAccessRole",
      id: iamId(this.rng, "AROA"),
      path: "/",
      createDate: now(),
      maxSessionDuration: 3600,
      trustPolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Principal: { AWS: `arn:aws:iam::${mg}:root` }, Action: "sts:AssumeRole" },
        ],
      }),
      tags: [],
      attachedPolicies: ["arn:aws:iam::aws:policy/AdministratorAccess"],
      inlinePolicies: [],
    };
    s.roles.set(r.name, r);
    this.record(
      actor,
      mg,
      "organizations.amazonaws.com",
      "CreateAccount",
      { accountName: p.name, email: p.email },
      [{ ResourceType: "AWS::Organizations::Account", ResourceName: id }],
    );
    return doc;
  }
  removeAccount(actor: Actor | null, accountId: string): void {
    this.account(accountId);
    if (accountId === this.mgmt())
      throw new AwsError("ConstraintViolationException", "You cannot remove the management account.", 409);
    this.accounts.delete(accountId);
    for (const [k, ref] of this.keys)
      if ((ref.kind === "user" ? ref.accountId : ref.session.accountId) === accountId) this.keys.delete(k);
    for (const ps of this.provisionedByAccount.get(accountId) ?? [])
      this.provisioned.get(ps)?.delete(accountId);
    this.provisionedByAccount.delete(accountId);
    for (const a of [...this.assignments.values()]) if (a.accountId === accountId) this.unindexAssignment(a);
    this.record(
      actor,
      this.mgmt(),
      "organizations.amazonaws.com",
      "RemoveAccountFromOrganization",
      { accountId },
      [{ ResourceType: "AWS::Organizations::Account", ResourceName: accountId }],
    );
  }
  setAccountStatus(actor: Actor | null, accountId: string, status: "ACTIVE" | "SUSPENDED"): void {
    this.account(accountId).doc.status = status;
    this.record(
      actor,
      this.mgmt(),
      "organizations.amazonaws.com",
      status === "SUSPENDED" ? "CloseAccount" : "UpdateAccount",
      { accountId },
      [{ ResourceType: "AWS::Organizations::Account", ResourceName: accountId }],
    );
  }

  // ---------- Identity Store ----------
  private icOrThrow(): NonNullable<Store["ic"]> {
    if (!this.ic) throw new AwsError("ResourceNotFoundException", "No Identity Center instance.", 404);
    return this.ic;
  }
  createIdentityStoreUser(
    actor: Actor | null,
    p: { userName: string; displayName: string; givenName: string; familyName: string; email?: string },
  ): IdentityStoreUserDoc {
    const ic = this.icOrThrow();
    for (const u of this.users.values())
      if (u.userName === p.userName)
        throw new AwsError("ConflictException", "Duplicate UserName", 409, {
          Reason: "UNIQUENESS_CONSTRAINT_VIOLATION",
        });
    const u: IdentityStoreUserDoc = {
      userId: storeId(this.rng),
      userName: p.userName,
      displayName: p.displayName,
      name: { givenName: p.givenName, familyName: p.familyName, formatted: `${p.givenName} ${p.familyName}` },
      emails: p.email ? [{ value: p.email, type: "work", primary: true }] : [],
      active: true,
    };
    this.users.set(u.userId, u);
    this.record(
      actor,
      this.mgmt(),
      "identitystore.amazonaws.com",
      "CreateUser",
      { identityStoreId: ic.identityStoreId, userName: u.userName },
      [{ ResourceType: "AWS::IdentityStore::User", ResourceName: u.userId }],
      { userId: u.userId },
    );
    return u;
  }
  deleteIdentityStoreUser(actor: Actor | null, userId: string): void {
    const ic = this.icOrThrow();
    if (!this.users.has(userId))
      throw new AwsError("ResourceNotFoundException", "USER not found.", 404, {
        ResourceType: "USER",
        ResourceId: userId,
      });
    this.users.delete(userId);
    for (const m of [...(this.membershipsByUser.get(userId)?.values() ?? [])]) this.unindexMembership(m);
    for (const a of [...(this.assignmentsByPrincipal.get(userId)?.values() ?? [])]) this.unindexAssignment(a);
    this.record(
      actor,
      this.mgmt(),
      "identitystore.amazonaws.com",
      "DeleteUser",
      { identityStoreId: ic.identityStoreId, userId },
      [{ ResourceType: "AWS::IdentityStore::User", ResourceName: userId }],
    );
  }
  createIdentityStoreGroup(
    actor: Actor | null,
    p: { displayName: string; description?: string },
  ): IdentityStoreGroupDoc {
    const ic = this.icOrThrow();
    for (const g of this.groups.values())
      if (g.displayName === p.displayName)
        throw new AwsError("ConflictException", "Duplicate GroupDisplayName", 409, {
          Reason: "UNIQUENESS_CONSTRAINT_VIOLATION",
        });
    const g: IdentityStoreGroupDoc = {
      groupId: storeId(this.rng),
      displayName: p.displayName,
      description: p.description,
    };
    this.groups.set(g.groupId, g);
    this.record(
      actor,
      this.mgmt(),
      "identitystore.amazonaws.com",
      "CreateGroup",
      { identityStoreId: ic.identityStoreId, displayName: g.displayName },
      [{ ResourceType: "AWS::IdentityStore::Group", ResourceName: g.groupId }],
      { groupId: g.groupId },
    );
    return g;
  }
  deleteIdentityStoreGroup(actor: Actor | null, groupId: string): void {
    const ic = this.icOrThrow();
    if (!this.groups.has(groupId))
      throw new AwsError("ResourceNotFoundException", "GROUP not found.", 404, {
        ResourceType: "GROUP",
        ResourceId: groupId,
      });
    this.groups.delete(groupId);
    for (const m of [...(this.membershipsByGroup.get(groupId)?.values() ?? [])]) this.unindexMembership(m);
    for (const a of [...(this.assignmentsByPrincipal.get(groupId)?.values() ?? [])])
      this.unindexAssignment(a);
    this.record(
      actor,
      this.mgmt(),
      "identitystore.amazonaws.com",
      "DeleteGroup",
      { identityStoreId: ic.identityStoreId, groupId },
      [{ ResourceType: "AWS::IdentityStore::Group", ResourceName: groupId }],
    );
  }
  findMembership(groupId: string, userId: string): Membership | undefined {
    for (const m of this.membershipsByGroup.get(groupId)?.values() ?? []) if (m.userId === userId) return m;
    return undefined;
  }
  createGroupMembership(actor: Actor | null, groupId: string, userId: string): Membership {
    const ic = this.icOrThrow();
    if (!this.groups.has(groupId))
      throw new AwsError("ResourceNotFoundException", "GROUP not found.", 404, {
        ResourceType: "GROUP",
        ResourceId: groupId,
      });
    if (!this.users.has(userId))
      throw new AwsError("ResourceNotFoundException", "USER not found.", 404, {
        ResourceType: "USER",
        ResourceId: userId,
      });
    if (this.findMembership(groupId, userId))
      throw new AwsError("ConflictException", "Member and Group relationship already exists.", 409, {
        Reason: "UNIQUENESS_CONSTRAINT_VIOLATION",
      });
    const m = { membershipId: storeId(this.rng), groupId, userId };
    this.indexMembership(m);
    this.record(
      actor,
      this.mgmt(),
      "identitystore.amazonaws.com",
      "CreateGroupMembership",
      { identityStoreId: ic.identityStoreId, groupId, memberId: { userId } },
      [{ ResourceType: "AWS::IdentityStore::GroupMembership", ResourceName: m.membershipId }],
      { membershipId: m.membershipId },
    );
    return m;
  }
  deleteGroupMembership(actor: Actor | null, membershipId: string): void {
    const ic = this.icOrThrow();
    const m = this.memberships.get(membershipId);
    if (!m)
      throw new AwsError("ResourceNotFoundException", "GROUP_MEMBERSHIP not found.", 404, {
        ResourceType: "GROUP_MEMBERSHIP",
        ResourceId: membershipId,
      });
    this.unindexMembership(m);
    this.record(
      actor,
      this.mgmt(),
      "identitystore.amazonaws.com",
      "DeleteGroupMembership",
      { identityStoreId: ic.identityStoreId, membershipId },
      [{ ResourceType: "AWS::IdentityStore::GroupMembership", ResourceName: membershipId }],
    );
  }
  private unindexMembership(m: Membership): void {
    this.memberships.delete(m.membershipId);
    this.membershipsByGroup.get(m.groupId)?.delete(m.membershipId);
    this.membershipsByUser.get(m.userId)?.delete(m.membershipId);
  }
  private unindexAssignment(a: AssignmentDoc): void {
    const k = aKey(a);
    this.assignments.delete(k);
    this.assignmentsByPair.get(`${a.accountId}|${a.permissionSetArn}`)?.delete(k);
    this.assignmentsByPrincipal.get(a.principalId)?.delete(k);
  }

  // ---------- SSO Admin ----------
  createPermissionSet(
    actor: Actor | null,
    p: {
      name: string;
      description?: string;
      sessionDuration?: string;
      managedPolicies?: string[];
      inlinePolicy?: string;
      customerManagedPolicyReferences?: Array<{ name: string; path?: string }>;
    },
  ): PermissionSetDoc {
    const ic = this.icOrThrow();
    for (const ps of this.permissionSets.values())
      if (ps.name === p.name)
        throw new AwsError("ConflictException", `PermissionSet with name ${p.name} already exists.`, 409);
    const ps: PermissionSetDoc = {
      arn: `${ic.instanceArn.replace(":instance/", ":permissionSet/")}/ps-${lower(this.rng, 16).replace(/[g-z]/g, "a")}`,
      name: p.name,
      description: p.description,
      sessionDuration: p.sessionDuration ?? "PT1H",
      createdDate: now(),
      managedPolicies: p.managedPolicies ?? [],
      customerManagedPolicyReferences: (p.customerManagedPolicyReferences ?? []).map((r) => ({
        name: r.name,
        path: r.path ?? "/",
      })),
      inlinePolicy: p.inlinePolicy,
      provisionedTo: [],
    };
    this.permissionSets.set(ps.arn, ps);
    this.record(
      actor,
      this.mgmt(),
      "sso.amazonaws.com",
      "CreatePermissionSet",
      { instanceArn: ic.instanceArn, name: ps.name, sessionDuration: ps.sessionDuration },
      [{ ResourceType: "AWS::SSO::PermissionSet", ResourceName: ps.arn }],
    );
    return ps;
  }
  deletePermissionSet(actor: Actor | null, arn: string): void {
    const ic = this.icOrThrow();
    this.requirePermissionSet(arn);
    this.permissionSets.delete(arn);
    for (const acct of this.provisioned.get(arn) ?? []) this.provisionedByAccount.get(acct)?.delete(arn);
    this.provisioned.delete(arn);
    for (const a of [...this.assignments.values()]) if (a.permissionSetArn === arn) this.unindexAssignment(a);
    this.record(
      actor,
      this.mgmt(),
      "sso.amazonaws.com",
      "DeletePermissionSet",
      { instanceArn: ic.instanceArn, permissionSetArn: arn },
      [{ ResourceType: "AWS::SSO::PermissionSet", ResourceName: arn }],
    );
  }
  provisionPermissionSet(actor: Actor | null, arn: string, accountId: string): void {
    const ic = this.icOrThrow();
    this.requirePermissionSet(arn);
    this.account(accountId);
    this.markProvisioned(arn, accountId);
    this.record(
      actor,
      this.mgmt(),
      "sso.amazonaws.com",
      "ProvisionPermissionSet",
      { instanceArn: ic.instanceArn, permissionSetArn: arn, targetId: accountId, targetType: "AWS_ACCOUNT" },
      [{ ResourceType: "AWS::SSO::PermissionSet", ResourceName: arn }],
    );
  }
  /** Starts an asynchronous assignment create/delete; completes after `assignmentDelayMs` (see settle()). */
  startAssignmentOp(
    actor: Actor | null,
    kind: "create" | "delete",
    a: AssignmentDoc,
    immediate = false,
  ): AssignmentOp {
    const ic = this.icOrThrow();
    this.requirePermissionSet(a.permissionSetArn);
    const t = Date.now();
    if (this.pending.has(aKey(a)))
      throw new AwsError(
        "ConflictException",
        "An account assignment operation is already in progress for this principal, permission set and account.",
        409,
      );
    const op: AssignmentOp = {
      kind,
      requestId: uuid(this.rng),
      createdDate: t,
      completeAt: t + this.assignmentDelayMs,
      status: "IN_PROGRESS",
      assignment: a,
    };
    this.ops.set(op.requestId, op);
    this.pending.set(aKey(a), op);
    this.record(
      actor,
      this.mgmt(),
      "sso.amazonaws.com",
      kind === "create" ? "CreateAccountAssignment" : "DeleteAccountAssignment",
      {
        instanceArn: ic.instanceArn,
        targetId: a.accountId,
        targetType: "AWS_ACCOUNT",
        permissionSetArn: a.permissionSetArn,
        principalType: a.principalType,
        principalId: a.principalId,
      },
      [
        { ResourceType: "AWS::SSO::PermissionSet", ResourceName: a.permissionSetArn },
        { ResourceType: "AWS::Account", ResourceName: a.accountId },
      ],
    );
    if (immediate || this.assignmentDelayMs <= 0) this.complete(op);
    return op;
  }
  /** Completes due asynchronous operations. */
  settle(t = Date.now()): void {
    for (const op of [...this.pending.values()]) if (op.completeAt <= t) this.complete(op);
  }
  private complete(op: AssignmentOp): void {
    const a = op.assignment;
    this.pending.delete(aKey(a));
    const acct = this.accounts.get(a.accountId);
    const principalOk =
      a.principalType === "USER" ? this.users.has(a.principalId) : this.groups.has(a.principalId);
    if (!acct) {
      op.status = "FAILED";
      op.failureReason = `Account ${a.accountId} is not part of the organization.`;
      return;
    }
    if (!this.permissionSets.has(a.permissionSetArn)) {
      op.status = "FAILED";
      op.failureReason = "Permission set does not exist.";
      return;
    }
    if (op.kind === "create") {
      if (!principalOk) {
        op.status = "FAILED";
        op.failureReason = `Received a 404 status error: No ${a.principalType === "USER" ? "user" : "group"} with id ${a.principalId} exists.`;
        return;
      }
      if (!this.assignments.has(aKey(a))) this.indexAssignment({ ...a });
      this.markProvisioned(a.permissionSetArn, a.accountId);
    } else {
      const existing = this.assignments.get(aKey(a));
      if (existing) this.unindexAssignment(existing);
    }
    op.status = "SUCCEEDED";
  }

  // ---------- STS ----------
  createSession(accountId: string, role: IamRoleDoc, sessionName: string, durationSeconds: number): Session {
    const created = Date.now();
    const s: Session = {
      accessKeyId: accessKeyId(this.rng, "ASIA"),
      secretAccessKey: secretKey(this.rng),
      sessionToken: Buffer.from(`${uuid(this.rng)}:${uuid(this.rng)}`).toString("base64"),
      expiresAt: created + durationSeconds * 1000,
      accountId,
      roleName: role.name,
      roleId: role.id,
      rolePath: role.path,
      sessionName,
      created,
    };
    this.keys.set(s.accessKeyId, { kind: "session", session: s });
    return s;
  }

  // ---------- export ----------
  exportOrg(): OrgDocument {
    this.settle();
    const accounts = [...this.accounts.values()].map((s) => ({
      ...s.doc,
      iam: {
        aliases: s.doc.iam.aliases,
        users: [...s.users.values()],
        groups: [...s.groups.values()],
        roles: [...s.roles.values()],
        policies: [...s.policies.values()],
      },
    }));
    const doc: OrgDocument = {
      organization: this.org,
      roots: this.roots,
      organizationalUnits: [...this.ous.values()],
      accounts,
      identityCenter: this.ic
        ? {
            ...this.ic,
            users: [...this.users.values()],
            groups: [...this.groups.values()],
            memberships: [...this.memberships.values()],
            permissionSets: [...this.permissionSets.values()].map((ps) => ({
              ...ps,
              provisionedTo: [...(this.provisioned.get(ps.arn) ?? [])],
            })),
            assignments: [...this.assignments.values()],
          }
        : undefined,
    };
    return structuredClone(doc);
  }
}
