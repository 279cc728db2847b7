// size: the translation table — one rule per CloudTrail event of five event sources, kept together to read as a table
import { RefreshIntent } from "@grantline/contracts";
import type { ChangeRecord, RecordOutcome } from "@grantline/contracts";

/** What the translation table makes of one record. */
export interface Translation {
  outcome: RecordOutcome;
  intents: RefreshIntent[];
  /** Why a record was ignored or not understood (logged with its event id). */
  reason?: string;
}

/**
 * What the feed knows of the source beyond the record: SCIM events name neither the identity store nor the
 * instance (only a SCIM tenant id), so their ids are completed from the synced Identity Center instance.
 */
export interface TranslationContext {
  identityStoreId?: string | null;
  instanceArn?: string | null;
}

/** A member an event of the table needs is absent or not a string: the record is "unparseable". */
class Missing extends Error {}

type Obj = Record<string, unknown>;

/** Typed access to one record's parameters; `need` throws `Missing`, so a rule reads as the happy path. */
class Fields {
  constructor(
    readonly record: ChangeRecord,
    private readonly ctx: TranslationContext,
  ) {}

  /**
   * The string at `path` (dotted) of requestParameters, else responseElements (`svc`: a service event's
   * serviceEventDetails); null when absent.
   */
  opt(path: string, from: "req" | "resp" | "svc" | "any" = "any"): string | null {
    const r = this.record;
    const roots: Array<Obj | null> =
      from === "req"
        ? [r.requestParameters]
        : from === "resp"
          ? [r.responseElements]
          : from === "svc"
            ? [r.serviceEventDetails ?? null]
            : [r.requestParameters, r.responseElements];
    for (const root of roots) {
      let v: unknown = root;
      for (const k of path.split(".")) v = v && typeof v === "object" ? (v as Obj)[k] : undefined;
      if (typeof v === "string" && v !== "") return v;
    }
    return null;
  }

  need(path: string, from: "req" | "resp" | "svc" | "any" = "any"): string {
    const v = this.opt(path, from);
    if (v === null) throw new Missing(`missing ${path}`);
    return v;
  }

  /** First of several places an id may be (the 2025 Identity Center format moved some). */
  first(...paths: string[]): string {
    for (const p of paths) {
      const v = this.opt(p);
      if (v !== null) return v;
    }
    throw new Missing(`missing ${paths.join(" | ")}`);
  }

  /** recipientAccountId: the account an IAM event changed. */
  account(): string {
    const a = this.record.accountId;
    if (a === null || !/^\d{12}$/.test(a)) throw new Missing("missing recipientAccountId");
    return a;
  }

  /** The identity store: requestParameters, the 2025 format's `userIdentity.identityStoreArn`, the context. */
  identityStore(): string {
    const fromArn = (arn: unknown) => (typeof arn === "string" ? (arn.split("/").pop() ?? null) : null);
    const ui = this.record.userIdentity ?? {};
    const v =
      this.opt("identityStoreId") ??
      fromArn(ui.identityStoreArn) ??
      fromArn((ui.onBehalfOf as Obj | undefined)?.identityStoreArn) ??
      this.ctx.identityStoreId ??
      null;
    if (v === null || v === "") throw new Missing("missing identityStoreId");
    return v;
  }

  instance(): string {
    const v = this.opt("instanceArn") ?? this.ctx.instanceArn ?? null;
    if (v === null) throw new Missing("missing instanceArn");
    return v;
  }
}

/** A rule: the intents an event becomes, or a reason to ignore it (a no-op variant of a mutating call). */
type Rule = (f: Fields) => RefreshIntent[] | { ignore: string };

// ---------------------------------------------------------------- sso.amazonaws.com (Identity Center admin)

type PsIntent = Extract<RefreshIntent, { kind: "permission-set" }>;
const permissionSet = (f: Fields): PsIntent => ({
  kind: "permission-set",
  instanceArn: f.instance(),
  permissionSetArn: f.first("permissionSetArn", "permissionSet.permissionSetArn"),
});
const psDefinition: Rule = (f) => [permissionSet(f)];

const assignment: Rule = (f) => {
  const ps = permissionSet(f);
  const target =
    f.opt("targetId", "req") ??
    f.opt("accountAssignmentCreationStatus.targetId", "resp") ??
    f.opt("accountAssignmentDeletionStatus.targetId", "resp");
  // Without the account the pair is unknown: every pair of the permission set is the next narrowest re-read.
  if (target === null || !/^\d{12}$/.test(target))
    return [
      { kind: "permission-set-accounts", instanceArn: ps.instanceArn, permissionSetArn: ps.permissionSetArn },
    ];
  return [
    {
      kind: "assignments",
      instanceArn: ps.instanceArn,
      accountId: target,
      permissionSetArn: ps.permissionSetArn,
    },
  ];
};

const SSO: Record<string, Rule> = {
  CreateAccountAssignment: assignment,
  DeleteAccountAssignment: assignment,
  CreatePermissionSet: psDefinition,
  UpdatePermissionSet: psDefinition,
  DeletePermissionSet: psDefinition,
  PutInlinePolicyToPermissionSet: psDefinition,
  DeleteInlinePolicyFromPermissionSet: psDefinition,
  AttachManagedPolicyToPermissionSet: psDefinition,
  DetachManagedPolicyFromPermissionSet: psDefinition,
  AttachCustomerManagedPolicyReferenceToPermissionSet: psDefinition,
  DetachCustomerManagedPolicyReferenceFromPermissionSet: psDefinition,
  PutPermissionsBoundaryToPermissionSet: psDefinition,
  DeletePermissionsBoundaryFromPermissionSet: psDefinition,
  // Provisioning is what makes a definition effective in accounts (and creates the pairs).
  ProvisionPermissionSet: (f) => {
    const ps = permissionSet(f);
    return [
      ps,
      { kind: "permission-set-accounts", instanceArn: ps.instanceArn, permissionSetArn: ps.permissionSetArn },
    ];
  },
  // A new or deleted instance changes everything Identity Center holds: only a full run re-reads it.
  CreateInstance: () => [{ kind: "source" }],
  DeleteInstance: () => [{ kind: "source" }],
};

// ---------------------------------------------------------------- identitystore (API, console and SCIM)

const ssoUser: Rule = (f) => [
  { kind: "sso-user", identityStoreId: f.identityStore(), userId: f.first("userId", "user.userId", "id") },
];
const ssoGroup: Rule = (f) => [
  {
    kind: "sso-group",
    identityStoreId: f.identityStore(),
    groupId: f.first("groupId", "group.groupId", "id"),
  },
];
const groupMembers: Rule = (f) => [
  {
    kind: "group-members",
    identityStoreId: f.identityStore(),
    groupId: f.first("groupId", "group.groupId", "id"),
  },
];

const IDENTITY_STORE: Record<string, Rule> = {
  CreateUser: ssoUser,
  UpdateUser: ssoUser,
  DeleteUser: ssoUser,
  CreateGroup: ssoGroup,
  UpdateGroup: ssoGroup,
  DeleteGroup: ssoGroup,
  CreateGroupMembership: groupMembers,
  // Names only the membership: its group is resolved from the synced rows (refresh's `membership` kind).
  DeleteGroupMembership: (f) => [
    { kind: "membership", identityStoreId: f.identityStore(), membershipId: f.need("membershipId", "req") },
  ],
  // Console-style names (the former sso-directory source).
  AddMemberToGroup: groupMembers,
  RemoveMemberFromGroup: groupMembers,
  DisableUser: ssoUser,
  EnableUser: ssoUser,
};

/** A SCIM PatchGroup's operations: member changes re-read the members, attribute changes the group. */
function scimPatchGroup(f: Fields): RefreshIntent[] {
  const [group] = ssoGroup(f) as [Extract<RefreshIntent, { kind: "sso-group" }>];
  const body = f.record.requestParameters?.httpBody as Obj | undefined;
  const ops = Array.isArray(body?.Operations)
    ? (body.Operations as unknown[]).filter((o): o is Obj => !!o && typeof o === "object")
    : null;
  const members: RefreshIntent = {
    kind: "group-members",
    identityStoreId: group.identityStoreId,
    groupId: group.groupId,
  };
  // A body AWS hid or truncated: both re-reads, since either may have changed.
  if (ops === null) return [group, members];
  const parts = ops.map((o) => ({
    path: typeof o.path === "string" ? o.path : "",
    keys: o.value && typeof o.value === "object" && !Array.isArray(o.value) ? Object.keys(o.value) : [],
  }));
  const touchesMembers = parts.some((p) => p.path.startsWith("members") || p.keys.includes("members"));
  const touchesGroup = parts.some(
    (p) => (p.path !== "" && !p.path.startsWith("members")) || p.keys.some((k) => k !== "members"),
  );
  // Operations we cannot read: both, as for a hidden body.
  if (!touchesMembers && !touchesGroup) return [group, members];
  return [...(touchesGroup ? [group] : []), ...(touchesMembers ? [members] : [])];
}

const SCIM: Record<string, Rule> = {
  CreateUser: ssoUser,
  PutUser: ssoUser,
  PatchUser: ssoUser,
  DeleteUser: ssoUser,
  CreateGroup: ssoGroup,
  PatchGroup: scimPatchGroup,
  DeleteGroup: ssoGroup,
};

// ---------------------------------------------------------------- organizations.amazonaws.com

const account =
  (path: string): Rule =>
  (f) => [{ kind: "account", accountId: f.need(path) }];
const tree: Rule = () => [{ kind: "organization-tree" }];
const orgPolicy: Rule = (f) => [
  { kind: "org-policy", policyId: f.first("policyId", "policy.policySummary.id") },
];

const ORGANIZATIONS: Record<string, Rule> = {
  // CreateAccount is asynchronous: its response usually has no account id yet — AWS reports the new account in
  // the CreateAccountResult service event that follows, which re-reads it. With an id (a completed status)
  // the account is re-read at once.
  CreateAccount: (f) => {
    const id = f.opt("createAccountStatus.accountId", "resp");
    return id === null
      ? { ignore: "in progress: the new account's id arrives in the CreateAccountResult service event" }
      : [{ kind: "account", accountId: id }];
  },
  CreateAccountResult: (f) => {
    const state = f.opt("createAccountStatus.state", "svc");
    if (state !== null && state !== "SUCCEEDED") return { ignore: `account creation ${state}: no account` };
    return [{ kind: "account", accountId: f.need("createAccountStatus.accountId", "svc") }];
  },
  CreateGovCloudAccount: () => [{ kind: "source" }],
  CloseAccount: account("accountId"),
  RemoveAccountFromOrganization: account("accountId"),
  MoveAccount: account("accountId"),
  UpdateAccount: account("accountId"),
  // Recorded in the member account that left or joined: the record's account is the one that changed.
  LeaveOrganization: (f) => [{ kind: "account", accountId: f.account() }],
  AcceptHandshake: (f) => [{ kind: "account", accountId: f.account() }],
  CreateOrganizationalUnit: tree,
  UpdateOrganizationalUnit: tree,
  DeleteOrganizationalUnit: tree,
  AttachPolicy: (f) => [{ kind: "org-policy-targets", policyId: f.need("policyId", "req") }],
  DetachPolicy: (f) => [{ kind: "org-policy-targets", policyId: f.need("policyId", "req") }],
  CreatePolicy: orgPolicy,
  UpdatePolicy: orgPolicy,
  DeletePolicy: (f) => [
    { kind: "org-policy", policyId: f.need("policyId", "req") },
    { kind: "org-policy-targets", policyId: f.need("policyId", "req") },
  ],
  // Enabling or disabling a policy type changes the root's types and (disable) detaches every policy of the
  // type: no narrower refresh re-reads every policy of a type, so a full run does.
  EnablePolicyType: () => [{ kind: "source" }],
  DisablePolicyType: () => [{ kind: "source" }],
  CreateOrganization: () => [{ kind: "source" }],
  DeleteOrganization: () => [{ kind: "source" }],
};

// ---------------------------------------------------------------- iam.amazonaws.com

const role =
  (path = "roleName"): Rule =>
  (f) => [{ kind: "iam-role", accountId: f.account(), roleName: f.need(path) }];
const user =
  (path = "userName"): Rule =>
  (f) => [{ kind: "iam-user", accountId: f.account(), userName: f.need(path) }];
const group =
  (path = "groupName"): Rule =>
  (f) => [{ kind: "iam-group", accountId: f.account(), groupName: f.need(path) }];

/**
 * An attach or detach: the owner, plus the policy itself when AWS-managed, since the full sync keeps an
 * AWS-managed policy only while something attaches it (a customer-managed one is already synced).
 */
const attach =
  (owner: Rule): Rule =>
  (f) => {
    const intents = owner(f) as RefreshIntent[];
    const arn = f.need("policyArn", "req");
    if (arn.includes(":iam::aws:"))
      intents.push({ kind: "iam-policy", accountId: f.account(), policyArn: arn });
    return intents;
  };

/** A rename (`UpdateUser`/`UpdateGroup` with `newUserName`…): the old name vanishes, the new one appears. */
const renamed =
  (of: (path: string) => Rule, name: string, newName: string): Rule =>
  (f) => [
    ...(of(name)(f) as RefreshIntent[]),
    ...(f.opt(newName, "req") === null ? [] : (of(newName)(f) as RefreshIntent[])),
  ];

const keysOf: Rule = (f) => {
  // A user managing their own keys may omit UserName: the caller is the user.
  const ui = f.record.userIdentity ?? {};
  const self = ui.type === "IAMUser" && typeof ui.userName === "string" ? ui.userName : null;
  const name = f.opt("userName", "req") ?? f.opt("accessKey.userName", "resp") ?? self;
  if (name === null) throw new Missing("missing userName");
  return [{ kind: "iam-user-keys", accountId: f.account(), userName: name }];
};

const policy: Rule = (f) => [
  { kind: "iam-policy", accountId: f.account(), policyArn: f.need("policyArn", "req") },
];

const IAM: Record<string, Rule> = {
  CreateRole: role(),
  DeleteRole: role(),
  UpdateRole: role(),
  UpdateRoleDescription: role(),
  UpdateAssumeRolePolicy: role(),
  PutRolePolicy: role(),
  DeleteRolePolicy: role(),
  AttachRolePolicy: attach(role()),
  DetachRolePolicy: attach(role()),
  PutRolePermissionsBoundary: role(),
  DeleteRolePermissionsBoundary: role(),
  TagRole: role(),
  UntagRole: role(),
  CreateServiceLinkedRole: role("role.roleName"),
  DeleteServiceLinkedRole: role(),
  CreateUser: user(),
  DeleteUser: user(),
  UpdateUser: renamed(user, "userName", "newUserName"),
  PutUserPolicy: user(),
  DeleteUserPolicy: user(),
  AttachUserPolicy: attach(user()),
  DetachUserPolicy: attach(user()),
  PutUserPermissionsBoundary: user(),
  DeleteUserPermissionsBoundary: user(),
  TagUser: user(),
  UntagUser: user(),
  // Membership grants are on the group's `member` entitlement: the group's refresh re-reads its members.
  AddUserToGroup: group(),
  RemoveUserFromGroup: group(),
  CreateGroup: group(),
  DeleteGroup: group(),
  UpdateGroup: renamed(group, "groupName", "newGroupName"),
  PutGroupPolicy: group(),
  DeleteGroupPolicy: group(),
  AttachGroupPolicy: attach(group()),
  DetachGroupPolicy: attach(group()),
  CreateAccessKey: keysOf,
  UpdateAccessKey: keysOf,
  DeleteAccessKey: keysOf,
  CreatePolicy: (f) => {
    const arn =
      f.opt("policy.arn", "resp") ??
      `arn:aws:iam::${f.account()}:policy${f.opt("path", "req") ?? "/"}${f.need("policyName", "req")}`;
    return [{ kind: "iam-policy", accountId: f.account(), policyArn: arn }];
  },
  DeletePolicy: policy,
  SetDefaultPolicyVersion: policy,
  CreatePolicyVersion: (f) => {
    const asDefault = f.record.requestParameters?.setAsDefault;
    if (asDefault !== true && asDefault !== "true")
      return { ignore: "a version that is not made the default changes no effective document" };
    return policy(f);
  },
  // The alias names the account's iam_account row, read with the GAAD chain.
  CreateAccountAlias: (f) => [{ kind: "iam-account", accountId: f.account() }],
  DeleteAccountAlias: (f) => [{ kind: "iam-account", accountId: f.account() }],
};

const TABLE: Record<string, Record<string, Rule>> = {
  "sso.amazonaws.com": SSO,
  "identitystore.amazonaws.com": IDENTITY_STORE,
  "sso-directory.amazonaws.com": IDENTITY_STORE,
  "identitystore-scim.amazonaws.com": SCIM,
  "organizations.amazonaws.com": ORGANIZATIONS,
  "iam.amazonaws.com": IAM,
};

// ---------------------------------------------------------------- deliberately ignored

const NOT_MODELLED = "changes nothing grantline models";

const IDENTITY_STORE_IGNORED = {
  CreateMfaDeviceForUser: "MFA device: sign-in factors are not modelled",
  DeleteMfaDeviceForUser: "MFA device: sign-in factors are not modelled",
  UpdateMfaDeviceForUser: "MFA device: sign-in factors are not modelled",
  UpdatePassword: "sign-in credential: not access",
  VerifyEmail: "sign-in credential: not access",
};

/** Mutating calls that change no access grantline models, with why (docs/freshness-events.md). */
export const IGNORED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  "iam.amazonaws.com": {
    ChangePassword: "sign-in credential: a password is not access",
    CreateLoginProfile: "console password: sign-in credentials are not modelled",
    UpdateLoginProfile: "console password: sign-in credentials are not modelled",
    DeleteLoginProfile: "console password: sign-in credentials are not modelled",
    UpdateAccountPasswordPolicy: "password policy: sign-in credentials are not modelled",
    DeleteAccountPasswordPolicy: "password policy: sign-in credentials are not modelled",
    CreateVirtualMFADevice: "MFA device: sign-in factors are not modelled",
    DeleteVirtualMFADevice: "MFA device: sign-in factors are not modelled",
    EnableMFADevice: "MFA device: sign-in factors are not modelled",
    DeactivateMFADevice: "MFA device: sign-in factors are not modelled",
    ResyncMFADevice: "MFA device: sign-in factors are not modelled",
    UploadSSHPublicKey: "CodeCommit SSH key: not modelled",
    UpdateSSHPublicKey: "CodeCommit SSH key: not modelled",
    DeleteSSHPublicKey: "CodeCommit SSH key: not modelled",
    CreateServiceSpecificCredential: "service-specific credential: not modelled",
    UpdateServiceSpecificCredential: "service-specific credential: not modelled",
    DeleteServiceSpecificCredential: "service-specific credential: not modelled",
    ResetServiceSpecificCredential: "service-specific credential: not modelled",
    UploadSigningCertificate: "signing certificate: not modelled",
    UpdateSigningCertificate: "signing certificate: not modelled",
    DeleteSigningCertificate: "signing certificate: not modelled",
    UploadServerCertificate: "server certificate: not access",
    UpdateServerCertificate: "server certificate: not access",
    DeleteServerCertificate: "server certificate: not access",
    CreateInstanceProfile: "instance profile: roles are modelled, profiles are not",
    DeleteInstanceProfile: "instance profile: roles are modelled, profiles are not",
    AddRoleToInstanceProfile: "instance profile: roles are modelled, profiles are not",
    RemoveRoleFromInstanceProfile: "instance profile: roles are modelled, profiles are not",
    TagInstanceProfile: "instance profile: roles are modelled, profiles are not",
    UntagInstanceProfile: "instance profile: roles are modelled, profiles are not",
    CreateSAMLProvider: "identity provider: trust grants name the provider's ARN, which this does not change",
    UpdateSAMLProvider: "identity provider: trust grants name the provider's ARN, which this does not change",
    DeleteSAMLProvider: "identity provider: trust grants name the provider's ARN, which this does not change",
    CreateOpenIDConnectProvider:
      "identity provider: trust grants name the provider's ARN, which this does not change",
    DeleteOpenIDConnectProvider:
      "identity provider: trust grants name the provider's ARN, which this does not change",
    UpdateOpenIDConnectProviderThumbprint: "identity provider: trust grants name the provider's ARN",
    AddClientIDToOpenIDConnectProvider: "identity provider: trust grants name the provider's ARN",
    RemoveClientIDFromOpenIDConnectProvider: "identity provider: trust grants name the provider's ARN",
    TagPolicy: "policy tags are not synced",
    UntagPolicy: "policy tags are not synced",
    DeletePolicyVersion: "only a non-default version can be deleted: the effective document is unchanged",
    SetSecurityTokenServicePreferences: NOT_MODELLED,
    GenerateCredentialReport: "a report: changes nothing",
    GenerateServiceLastAccessedDetails: "a report: changes nothing",
    GenerateOrganizationsAccessReport: "a report: changes nothing",
    SetDefaultPolicyVersionForOrganization: NOT_MODELLED,
  },
  "sso.amazonaws.com": {
    Authenticate: "access portal sign-in: not a change",
    Federate: "access portal session: not a change",
    Logout: "access portal session: not a change",
    GetRoleCredentials: "access portal session: not a change",
    CreateToken: "OIDC token for a session: not a change",
    UpdatePassword: "sign-in credential: not access",
    CreateApplication: "applications and their assignments are not synced",
    UpdateApplication: "applications and their assignments are not synced",
    DeleteApplication: "applications and their assignments are not synced",
    CreateApplicationAssignment: "applications and their assignments are not synced",
    DeleteApplicationAssignment: "applications and their assignments are not synced",
    PutApplicationAssignmentConfiguration: "applications and their assignments are not synced",
    CreateInstanceAccessControlAttributeConfiguration: "ABAC attribute configuration is not synced",
    UpdateInstanceAccessControlAttributeConfiguration: "ABAC attribute configuration is not synced",
    DeleteInstanceAccessControlAttributeConfiguration: "ABAC attribute configuration is not synced",
    UpdateInstance: "the instance's name: not access",
    TagResource: "permission set tags are not synced",
    UntagResource: "permission set tags are not synced",
    CreateTrustedTokenIssuer: NOT_MODELLED,
    UpdateTrustedTokenIssuer: NOT_MODELLED,
    DeleteTrustedTokenIssuer: NOT_MODELLED,
  },
  "identitystore.amazonaws.com": IDENTITY_STORE_IGNORED,
  "sso-directory.amazonaws.com": IDENTITY_STORE_IGNORED,
  "identitystore-scim.amazonaws.com": {},
  "organizations.amazonaws.com": {
    InviteAccountToOrganization: "nothing changes until the account accepts (AcceptHandshake)",
    CancelHandshake: "an invitation: nothing changed",
    DeclineHandshake: "an invitation: nothing changed",
    TagResource: "organization tags are not synced",
    UntagResource: "organization tags are not synced",
    EnableAWSServiceAccess: NOT_MODELLED,
    DisableAWSServiceAccess: NOT_MODELLED,
    RegisterDelegatedAdministrator: "delegated administrators are not modelled",
    DeregisterDelegatedAdministrator: "delegated administrators are not modelled",
    EnableAllFeatures: "the feature set is read with the organization by the next full sync",
    PutResourcePolicy: "the organization's resource policy is not modelled",
    DeleteResourcePolicy: "the organization's resource policy is not modelled",
  },
};

/** Reads that CloudTrail sometimes logs with readOnly false (portal and SCIM reads among them). */
const READ_NAME = /^(Get|List|Describe|Search|BatchGet|Lookup)[A-Z]/;

/** Why a source has no broader refresh for an event it cannot narrow. */
const NO_BROADER =
  "no refresh narrower than a full run re-reads this source: the next scheduled full sync reconciles it";

/** The broader refresh of an event of `eventSource` that names too little (IAM: the account's whole IAM). */
function broader(record: ChangeRecord): RefreshIntent[] {
  if (
    record.eventSource === "iam.amazonaws.com" &&
    record.accountId !== null &&
    /^\d{12}$/.test(record.accountId)
  )
    return [{ kind: "iam-account", accountId: record.accountId }];
  return [];
}

function unknown(record: ChangeRecord, why: string): Translation {
  const intents = broader(record);
  const then = intents.length ? `refreshing the account's whole IAM` : NO_BROADER;
  return { outcome: "unknown", intents, reason: `${why}; ${then}` };
}

/**
 * The event → targeted refresh table (docs/freshness-events.md): each mutating event of a feed's source becomes
 * the smallest refreshes that learn the new state. Never throws: an event the table does not know, or one whose
 * parameters lack the ids it needs, is "unknown" with the broader refresh its source has (IAM: the account).
 */
export function translateRecord(record: ChangeRecord, context: TranslationContext = {}): Translation {
  if (record.errorCode !== null) return { outcome: "failed-call", intents: [] };
  if (record.readOnly) return { outcome: "read-only", intents: [] };
  const rules = TABLE[record.eventSource];
  if (!rules) return { outcome: "ignored", intents: [], reason: `not a feed source: ${record.eventSource}` };
  const ignored = IGNORED[record.eventSource]?.[record.eventName];
  if (ignored !== undefined) return { outcome: "ignored", intents: [], reason: ignored };
  const rule = Object.hasOwn(rules, record.eventName) ? rules[record.eventName] : undefined;
  if (!rule) {
    if (READ_NAME.test(record.eventName))
      return { outcome: "ignored", intents: [], reason: "a read: changes nothing" };
    return unknown(record, `no translation for ${record.eventSource} ${record.eventName}`);
  }
  try {
    const out = rule(new Fields(record, context));
    if (!Array.isArray(out)) return { outcome: "ignored", intents: [], reason: out.ignore };
    // Ids that fail the intent's own schema (an account id that is not 12 digits…) are unparseable too.
    const parsed = out.map((i) => RefreshIntent.safeParse(i));
    const bad = parsed.find((p) => !p.success);
    if (bad) return unknown(record, `${record.eventName}: ${bad.error?.issues[0]?.message ?? "invalid ids"}`);
    return { outcome: "translated", intents: dedupe(parsed.map((p) => p.data as RefreshIntent)) };
  } catch (err) {
    if (err instanceof Missing) return unknown(record, `${record.eventName}: ${err.message}`);
    throw err;
  }
}

/** One intent each (a rename to the same name, a PatchGroup that names both). */
function dedupe(intents: RefreshIntent[]): RefreshIntent[] {
  return [...new Map(intents.map((i) => [JSON.stringify(i), i])).values()];
}

/** Every event name the table translates, by source (docs and the table's own tests). */
export function translatedEvents(): Record<string, string[]> {
  return Object.fromEntries(Object.entries(TABLE).map(([s, r]) => [s, Object.keys(r)]));
}
