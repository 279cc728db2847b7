// Calls every operation aws-sim supports, through the real AWS SDK v3 clients, against a `tiny`-preset
// sim, and holds each response against the published Smithy model twice: the raw wire response (XML
// element names / JSON member names and value formats, envelope, headers) and the deserialized output.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim } from "../index.ts";
import type { AwsSim, Preset } from "../index.ts";
import type { OrgDocument } from "../org-document.ts";
import { CLOUDTRAIL_OPERATIONS } from "../services/cloudtrail.ts";
import { IAM_OPERATIONS } from "../services/iam.ts";
import { IDENTITY_STORE_OPERATIONS } from "../services/identity-store.ts";
import { ORGANIZATIONS_OPERATIONS } from "../services/organizations.ts";
import { SSO_ADMIN_OPERATIONS } from "../services/sso-admin.ts";
import { STS_OPERATIONS } from "../services/sts.ts";
import { SdkHarness, SERVICE_MODELS } from "./sdk-harness.ts";
import type { ServiceKey } from "./sdk-harness.ts";
import { loadModel, operationOutput, operationPagination } from "./smithy-model.ts";
import { validateRawResponse, validateShape } from "./validate-shape.ts";

/** The emulator's own operation tables, to hold the case list complete. */
const SERVED: Record<ServiceKey, Record<string, unknown>> = {
  iam: IAM_OPERATIONS,
  sts: STS_OPERATIONS,
  organizations: ORGANIZATIONS_OPERATIONS,
  "sso-admin": SSO_ADMIN_OPERATIONS,
  identitystore: IDENTITY_STORE_OPERATIONS,
  cloudtrail: CLOUDTRAIL_OPERATIONS,
};

interface Fixture {
  org: OrgDocument;
  mgmt: OrgDocument["accounts"][number];
  /** Values remembered from earlier calls (e.g. request ids of asynchronous operations). */
  memo: Map<string, string>;
}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`the tiny preset has no ${what}`);
  return value;
}

const iamUser = (f: Fixture, p: (u: Fixture["mgmt"]["iam"]["users"][number]) => boolean, what: string) =>
  need(f.mgmt.iam.users.find(p), what);
const withGroups = (f: Fixture) => iamUser(f, (u) => u.groups.length > 0, "IAM user in a group");
const withInline = (f: Fixture) =>
  iamUser(f, (u) => u.inlinePolicies.length > 0, "IAM user with an inline policy");
const withKey = (f: Fixture) => iamUser(f, (u) => u.accessKeys.length > 0, "IAM user with an access key");
const group = (f: Fixture) =>
  need(f.mgmt.iam.groups.find((g) => g.inlinePolicies.length > 0) ?? f.mgmt.iam.groups[0], "IAM group");
const role = (f: Fixture) =>
  need(f.mgmt.iam.roles.find((r) => r.inlinePolicies.length > 0) ?? f.mgmt.iam.roles[0], "IAM role");
const policyArn = (f: Fixture) => {
  const p = need(f.mgmt.iam.policies[0], "customer managed policy");
  return `arn:aws:iam::${f.mgmt.id}:policy${p.path}${p.name}`;
};
const ic = (f: Fixture) => need(f.org.identityCenter, "Identity Center");
const psWith = (
  f: Fixture,
  p: (ps: NonNullable<OrgDocument["identityCenter"]>["permissionSets"][number]) => boolean,
) => need(ic(f).permissionSets.find(p) ?? ic(f).permissionSets[0], "permission set");
const assignment = (f: Fixture) => need(ic(f).assignments[0], "account assignment");
const memberAccount = (f: Fixture) =>
  need(
    f.org.accounts.find((a) => a.id !== f.mgmt.id),
    "member account",
  );
const NEW_USER = "conformance.new-user";
/** A customer SCP attached nowhere (the generator's draft), to attach and detach. */
const draftScp = (f: Fixture) =>
  need(
    f.org.policies.find((p) => !p.awsManaged && p.targets.length === 0),
    "unattached SCP",
  ).id;
const ATTACH_ARN = "arn:aws:iam::aws:policy/SecurityAudit";

/** A (group, user) pair of the identity store that is not yet a membership. */
function freshMembership(f: Fixture): { groupId: string; userId: string } {
  const store = ic(f);
  for (const g of store.groups) {
    for (const u of store.users) {
      if (!store.memberships.some((m) => m.groupId === g.groupId && m.userId === u.userId))
        return { groupId: g.groupId, userId: u.userId };
    }
  }
  throw new Error("every identity-store user is in every group");
}

/** An (account, permission set, group) assignment that doesn't exist yet. */
function freshAssignment(f: Fixture) {
  const store = ic(f);
  for (const a of f.org.accounts) {
    for (const ps of store.permissionSets) {
      for (const g of store.groups) {
        const exists = store.assignments.some(
          (x) => x.accountId === a.id && x.permissionSetArn === ps.arn && x.principalId === g.groupId,
        );
        if (!exists)
          return {
            InstanceArn: store.instanceArn,
            TargetId: a.id,
            TargetType: "AWS_ACCOUNT",
            PermissionSetArn: ps.arn,
            PrincipalType: "GROUP",
            PrincipalId: g.groupId,
          };
      }
    }
  }
  throw new Error("no free assignment");
}

interface Case {
  service: ServiceKey;
  op: string;
  input: (f: Fixture) => object;
  /** Why this case is not also paged through one item at a time. */
  noPaging?: string;
  /** Remember something from the output for later cases. */
  after?: (f: Fixture, output: Record<string, unknown>) => void;
}

const str = (v: unknown): string => (typeof v === "string" ? v : "");
const field = (o: unknown, k: string): unknown =>
  typeof o === "object" && o !== null ? (o as Record<string, unknown>)[k] : undefined;

// Order matters: mutations come after the reads of what they change, and each undoes itself.
const CASES: Case[] = [
  // IAM (awsQuery)
  { service: "iam", op: "ListUsers", input: () => ({}) },
  { service: "iam", op: "GetUser", input: (f) => ({ UserName: withGroups(f).name }) },
  { service: "iam", op: "GetUser", input: () => ({}) },
  { service: "iam", op: "ListGroups", input: () => ({}) },
  { service: "iam", op: "GetGroup", input: (f) => ({ GroupName: withGroups(f).groups[0] }) },
  { service: "iam", op: "ListGroupsForUser", input: (f) => ({ UserName: withGroups(f).name }) },
  { service: "iam", op: "ListRoles", input: () => ({}) },
  { service: "iam", op: "GetRole", input: (f) => ({ RoleName: role(f).name }) },
  { service: "iam", op: "ListPolicies", input: () => ({ Scope: "Local" }) },
  { service: "iam", op: "ListPolicies", input: () => ({ OnlyAttached: true }) },
  { service: "iam", op: "GetPolicy", input: (f) => ({ PolicyArn: policyArn(f) }) },
  {
    service: "iam",
    op: "GetPolicy",
    input: () => ({ PolicyArn: "arn:aws:iam::aws:policy/AdministratorAccess" }),
  },
  {
    service: "iam",
    op: "GetPolicyVersion",
    input: (f) => ({
      PolicyArn: policyArn(f),
      VersionId: need(f.mgmt.iam.policies[0], "policy").defaultVersionId,
    }),
  },
  { service: "iam", op: "ListAttachedUserPolicies", input: (f) => ({ UserName: withInline(f).name }) },
  { service: "iam", op: "ListAttachedGroupPolicies", input: (f) => ({ GroupName: group(f).name }) },
  { service: "iam", op: "ListAttachedRolePolicies", input: (f) => ({ RoleName: role(f).name }) },
  { service: "iam", op: "ListUserPolicies", input: (f) => ({ UserName: withInline(f).name }) },
  { service: "iam", op: "ListGroupPolicies", input: (f) => ({ GroupName: group(f).name }) },
  { service: "iam", op: "ListRolePolicies", input: (f) => ({ RoleName: role(f).name }) },
  {
    service: "iam",
    op: "GetUserPolicy",
    input: (f) => ({ UserName: withInline(f).name, PolicyName: withInline(f).inlinePolicies[0]?.name }),
  },
  {
    service: "iam",
    op: "GetGroupPolicy",
    input: (f) => ({
      GroupName: group(f).name,
      PolicyName: need(group(f).inlinePolicies[0], "group inline policy").name,
    }),
  },
  {
    service: "iam",
    op: "GetRolePolicy",
    input: (f) => ({
      RoleName: role(f).name,
      PolicyName: need(role(f).inlinePolicies[0], "role inline policy").name,
    }),
  },
  { service: "iam", op: "ListAccessKeys", input: (f) => ({ UserName: withKey(f).name }) },
  { service: "iam", op: "ListAccessKeys", input: () => ({}) },
  {
    service: "iam",
    op: "GetAccessKeyLastUsed",
    input: (f) => ({ AccessKeyId: need(withKey(f).accessKeys[0], "access key").id }),
  },
  { service: "iam", op: "GetAccountAuthorizationDetails", input: () => ({}) },
  {
    service: "iam",
    op: "GetAccountAuthorizationDetails",
    input: () => ({ Filter: ["User", "LocalManagedPolicy"], MaxItems: 2 }),
  },
  { service: "iam", op: "ListAccountAliases", input: () => ({}) },
  {
    service: "iam",
    op: "CreateUser",
    input: () => ({ UserName: NEW_USER, Path: "/conformance/", Tags: [{ Key: "k", Value: "v" }] }),
  },
  { service: "iam", op: "AddUserToGroup", input: (f) => ({ UserName: NEW_USER, GroupName: group(f).name }) },
  {
    service: "iam",
    op: "RemoveUserFromGroup",
    input: (f) => ({ UserName: NEW_USER, GroupName: group(f).name }),
  },
  { service: "iam", op: "AttachUserPolicy", input: () => ({ UserName: NEW_USER, PolicyArn: ATTACH_ARN }) },
  { service: "iam", op: "DetachUserPolicy", input: () => ({ UserName: NEW_USER, PolicyArn: ATTACH_ARN }) },
  {
    service: "iam",
    op: "AttachGroupPolicy",
    input: (f) => ({ GroupName: group(f).name, PolicyArn: ATTACH_ARN }),
  },
  {
    service: "iam",
    op: "DetachGroupPolicy",
    input: (f) => ({ GroupName: group(f).name, PolicyArn: ATTACH_ARN }),
  },
  {
    service: "iam",
    op: "AttachRolePolicy",
    input: (f) => ({ RoleName: role(f).name, PolicyArn: ATTACH_ARN }),
  },
  {
    service: "iam",
    op: "DetachRolePolicy",
    input: (f) => ({ RoleName: role(f).name, PolicyArn: ATTACH_ARN }),
  },
  {
    service: "iam",
    op: "PutUserPermissionsBoundary",
    input: () => ({ UserName: NEW_USER, PermissionsBoundary: ATTACH_ARN }),
  },
  { service: "iam", op: "GetUser", input: () => ({ UserName: NEW_USER }) },
  { service: "iam", op: "DeleteUserPermissionsBoundary", input: () => ({ UserName: NEW_USER }) },
  {
    service: "iam",
    op: "PutRolePermissionsBoundary",
    input: (f) => ({ RoleName: role(f).name, PermissionsBoundary: ATTACH_ARN }),
  },
  { service: "iam", op: "GetRole", input: (f) => ({ RoleName: role(f).name }) },
  { service: "iam", op: "GetAccountAuthorizationDetails", input: () => ({ Filter: ["Role", "User"] }) },
  { service: "iam", op: "DeleteRolePermissionsBoundary", input: (f) => ({ RoleName: role(f).name }) },
  {
    service: "iam",
    op: "UpdateAssumeRolePolicy",
    input: (f) => ({ RoleName: role(f).name, PolicyDocument: role(f).trustPolicy }),
  },
  { service: "iam", op: "ListSAMLProviders", input: () => ({}) },
  // STS (awsQuery)
  { service: "sts", op: "GetCallerIdentity", input: () => ({}) },
  {
    service: "sts",
    op: "AssumeRole",
    input: (f) => ({
      RoleArn: `arn:aws:iam::${memberAccount(f).id}:role/OrganizationAccountAccessRole`,
      RoleSessionName: "conformance",
      DurationSeconds: 900,
    }),
  },
  // Organizations (awsJson1_1)
  { service: "organizations", op: "DescribeOrganization", input: () => ({}) },
  { service: "organizations", op: "ListAccounts", input: () => ({}) },
  { service: "organizations", op: "ListAccounts", input: () => ({ MaxResults: 1 }) },
  { service: "organizations", op: "DescribeAccount", input: (f) => ({ AccountId: memberAccount(f).id }) },
  { service: "organizations", op: "ListRoots", input: () => ({}) },
  {
    service: "organizations",
    op: "ListOrganizationalUnitsForParent",
    input: (f) => ({ ParentId: need(f.org.roots[0], "root").id }),
  },
  { service: "organizations", op: "ListParents", input: (f) => ({ ChildId: memberAccount(f).id }) },
  { service: "organizations", op: "ListPolicies", input: () => ({ Filter: "SERVICE_CONTROL_POLICY" }) },
  { service: "organizations", op: "DescribePolicy", input: () => ({ PolicyId: "p-FullAWSAccess" }) },
  { service: "organizations", op: "ListTargetsForPolicy", input: () => ({ PolicyId: "p-FullAWSAccess" }) },
  {
    service: "organizations",
    op: "ListPoliciesForTarget",
    input: (f) => ({ TargetId: memberAccount(f).id, Filter: "SERVICE_CONTROL_POLICY" }),
  },
  {
    service: "organizations",
    op: "AttachPolicy",
    input: (f) => ({ PolicyId: draftScp(f), TargetId: memberAccount(f).id }),
  },
  {
    service: "organizations",
    op: "DetachPolicy",
    input: (f) => ({ PolicyId: draftScp(f), TargetId: memberAccount(f).id }),
  },
  // SSO Admin (awsJson1_1)
  { service: "sso-admin", op: "ListInstances", input: () => ({}) },
  { service: "sso-admin", op: "ListPermissionSets", input: (f) => ({ InstanceArn: ic(f).instanceArn }) },
  {
    service: "sso-admin",
    op: "DescribePermissionSet",
    input: (f) => ({ InstanceArn: ic(f).instanceArn, PermissionSetArn: psWith(f, () => true).arn }),
  },
  {
    service: "sso-admin",
    op: "ListPermissionSetsProvisionedToAccount",
    input: (f) => ({
      InstanceArn: ic(f).instanceArn,
      AccountId: need(psWith(f, (p) => p.provisionedTo.length > 0).provisionedTo[0], "provisioned account"),
    }),
  },
  {
    service: "sso-admin",
    op: "ListAccountsForProvisionedPermissionSet",
    input: (f) => ({
      InstanceArn: ic(f).instanceArn,
      PermissionSetArn: psWith(f, (p) => p.provisionedTo.length > 0).arn,
    }),
  },
  {
    service: "sso-admin",
    op: "ListAccountAssignments",
    input: (f) => ({
      InstanceArn: ic(f).instanceArn,
      AccountId: assignment(f).accountId,
      PermissionSetArn: assignment(f).permissionSetArn,
    }),
  },
  {
    service: "sso-admin",
    op: "ListAccountAssignmentsForPrincipal",
    input: (f) => ({
      InstanceArn: ic(f).instanceArn,
      PrincipalId: assignment(f).principalId,
      PrincipalType: assignment(f).principalType,
    }),
  },
  {
    service: "sso-admin",
    op: "ListManagedPoliciesInPermissionSet",
    input: (f) => ({
      InstanceArn: ic(f).instanceArn,
      PermissionSetArn: psWith(f, (p) => p.managedPolicies.length > 0).arn,
    }),
  },
  {
    service: "sso-admin",
    op: "ListCustomerManagedPolicyReferencesInPermissionSet",
    input: (f) => ({
      InstanceArn: ic(f).instanceArn,
      PermissionSetArn: psWith(f, (p) => p.customerManagedPolicyReferences.length > 0).arn,
    }),
  },
  {
    service: "sso-admin",
    op: "GetInlinePolicyForPermissionSet",
    input: (f) => ({
      InstanceArn: ic(f).instanceArn,
      PermissionSetArn: psWith(f, (p) => p.inlinePolicy !== undefined).arn,
    }),
  },
  {
    service: "sso-admin",
    op: "PutPermissionsBoundaryToPermissionSet",
    input: (f) => ({
      InstanceArn: ic(f).instanceArn,
      PermissionSetArn: psWith(f, () => true).arn,
      PermissionsBoundary: { CustomerManagedPolicyReference: { Name: "deploy-policy", Path: "/" } },
    }),
  },
  {
    service: "sso-admin",
    op: "GetPermissionsBoundaryForPermissionSet",
    input: (f) => ({ InstanceArn: ic(f).instanceArn, PermissionSetArn: psWith(f, () => true).arn }),
  },
  {
    service: "sso-admin",
    op: "DeletePermissionsBoundaryFromPermissionSet",
    input: (f) => ({ InstanceArn: ic(f).instanceArn, PermissionSetArn: psWith(f, () => true).arn }),
  },
  {
    service: "sso-admin",
    op: "CreateAccountAssignment",
    input: (f) => {
      const a = freshAssignment(f);
      f.memo.set("assignment", JSON.stringify(a));
      return a;
    },
    after: (f, out) =>
      f.memo.set("creationRequestId", str(field(out["AccountAssignmentCreationStatus"], "RequestId"))),
  },
  {
    service: "sso-admin",
    op: "DescribeAccountAssignmentCreationStatus",
    input: (f) => ({
      InstanceArn: ic(f).instanceArn,
      AccountAssignmentCreationRequestId: f.memo.get("creationRequestId"),
    }),
  },
  {
    service: "sso-admin",
    op: "DeleteAccountAssignment",
    input: (f) => JSON.parse(f.memo.get("assignment") ?? "{}") as object,
    after: (f, out) =>
      f.memo.set("deletionRequestId", str(field(out["AccountAssignmentDeletionStatus"], "RequestId"))),
  },
  {
    service: "sso-admin",
    op: "DescribeAccountAssignmentDeletionStatus",
    input: (f) => ({
      InstanceArn: ic(f).instanceArn,
      AccountAssignmentDeletionRequestId: f.memo.get("deletionRequestId"),
    }),
  },
  // Identity Store (awsJson1_1)
  { service: "identitystore", op: "ListUsers", input: (f) => ({ IdentityStoreId: ic(f).identityStoreId }) },
  {
    service: "identitystore",
    op: "ListUsers",
    input: (f) => ({
      IdentityStoreId: ic(f).identityStoreId,
      Filters: [{ AttributePath: "UserName", AttributeValue: need(ic(f).users[0], "user").userName }],
    }),
  },
  {
    service: "identitystore",
    op: "DescribeUser",
    input: (f) => ({ IdentityStoreId: ic(f).identityStoreId, UserId: need(ic(f).users[0], "user").userId }),
  },
  { service: "identitystore", op: "ListGroups", input: (f) => ({ IdentityStoreId: ic(f).identityStoreId }) },
  {
    service: "identitystore",
    op: "DescribeGroup",
    input: (f) => ({
      IdentityStoreId: ic(f).identityStoreId,
      GroupId: need(ic(f).groups[0], "group").groupId,
    }),
  },
  {
    service: "identitystore",
    op: "ListGroupMemberships",
    input: (f) => ({
      IdentityStoreId: ic(f).identityStoreId,
      GroupId: need(ic(f).memberships[0], "membership").groupId,
    }),
  },
  {
    service: "identitystore",
    op: "ListGroupMembershipsForMember",
    input: (f) => ({
      IdentityStoreId: ic(f).identityStoreId,
      MemberId: { UserId: need(ic(f).memberships[0], "membership").userId },
    }),
  },
  {
    service: "identitystore",
    op: "CreateGroupMembership",
    input: (f) => {
      const m = freshMembership(f);
      return { IdentityStoreId: ic(f).identityStoreId, GroupId: m.groupId, MemberId: { UserId: m.userId } };
    },
    after: (f, out) => f.memo.set("membershipId", str(out["MembershipId"])),
  },
  {
    service: "identitystore",
    op: "GetGroupMembershipId",
    input: (f) => {
      const m = freshMembership(f);
      return { IdentityStoreId: ic(f).identityStoreId, GroupId: m.groupId, MemberId: { UserId: m.userId } };
    },
  },
  {
    service: "identitystore",
    op: "DeleteGroupMembership",
    input: (f) => ({ IdentityStoreId: ic(f).identityStoreId, MembershipId: f.memo.get("membershipId") }),
  },
  // CloudTrail (awsJson1_1)
  {
    service: "cloudtrail",
    op: "LookupEvents",
    input: () => ({}),
    noPaging: "the trail grows as the test calls the sim",
  },
  {
    service: "cloudtrail",
    op: "LookupEvents",
    input: () => ({
      LookupAttributes: [{ AttributeKey: "EventName", AttributeValue: "CreateUser" }],
      MaxResults: 5,
    }),
  },
  {
    service: "cloudtrail",
    op: "LookupEvents",
    input: () => ({
      StartTime: new Date(Date.now() - 3_600_000),
      EndTime: new Date(Date.now() + 60_000),
      LookupAttributes: [{ AttributeKey: "ReadOnly", AttributeValue: "false" }],
    }),
    noPaging: "the trail grows as the test calls the sim",
  },
];

/** Calls that must fail with a modeled error; the raw error response is held against the model too. */
const ERROR_CASES: (Case & { expectedName: string })[] = [
  {
    service: "iam",
    op: "GetUser",
    input: () => ({ UserName: "no-such-user-xyz" }),
    expectedName: "NoSuchEntityException",
  },
  {
    service: "iam",
    op: "CreateUser",
    input: (f) => ({ UserName: withGroups(f).name }),
    expectedName: "EntityAlreadyExistsException",
  },
  {
    service: "organizations",
    op: "DescribeAccount",
    input: () => ({ AccountId: "999999999999" }),
    expectedName: "AccountNotFoundException",
  },
  {
    service: "sso-admin",
    op: "DescribePermissionSet",
    input: (f) => ({
      InstanceArn: ic(f).instanceArn,
      PermissionSetArn: `${ic(f).instanceArn.replace(":instance/", ":permissionSet/")}/ps-0000000000000000`,
    }),
    expectedName: "ResourceNotFoundException",
  },
  {
    service: "identitystore",
    op: "DescribeUser",
    input: (f) => ({
      IdentityStoreId: ic(f).identityStoreId,
      UserId: "0000000000-00000000-0000-0000-0000-000000000000",
    }),
    expectedName: "ResourceNotFoundException",
  },
  {
    service: "iam",
    op: "GetPolicy",
    input: () => ({ PolicyArn: "arn:aws:iam::12345:policy/not-an-account" }),
    expectedName: "InvalidInputException",
  },
  {
    service: "organizations",
    op: "DescribeAccount",
    input: () => ({ AccountId: "12345" }),
    expectedName: "InvalidInputException",
  },
  {
    service: "organizations",
    op: "DescribePolicy",
    input: () => ({ PolicyId: "p-00000000" }),
    expectedName: "PolicyNotFoundException",
  },
  {
    service: "sso-admin",
    op: "DescribePermissionSet",
    input: (f) => ({ InstanceArn: ic(f).instanceArn, PermissionSetArn: "arn:aws:sso:::permissionSet/bad" }),
    expectedName: "ValidationException",
  },
  {
    service: "identitystore",
    op: "DescribeUser",
    input: (f) => ({ IdentityStoreId: ic(f).identityStoreId, UserId: "not-a-user-id" }),
    expectedName: "ValidationException",
  },
  {
    service: "cloudtrail",
    op: "LookupEvents",
    input: () => ({ StartTime: new Date(Date.now()), EndTime: new Date(Date.now() - 3_600_000) }),
    expectedName: "InvalidTimeRangeException",
  },
];

/** Read operations to page through one item at a time (first read case of each paginated operation). */
const PAGED_CASES: Case[] = CASES.filter(
  (c) =>
    c.noPaging === undefined &&
    !/^(Create|Delete|Add|Remove|Attach|Detach)/.test(c.op) &&
    operationPagination(loadModel(SERVICE_MODELS[c.service]), c.op) !== undefined,
).filter((c, i, all) => all.findIndex((d) => d.service === c.service && d.op === c.op) === i);

const getPath = (o: Record<string, unknown> | undefined, path: string): unknown =>
  path.split(".").reduce<unknown>((cur, k) => field(cur, k), o);

// GL_CONFORMANCE_PRESETS=tiny,small,medium widens the run to bigger generated orgs (default: tiny);
// GL_CONFORMANCE_SEED picks another generated org (default 1).
const PRESETS = (process.env["GL_CONFORMANCE_PRESETS"] ?? "tiny")
  .split(",")
  .filter((p): p is Preset => ["tiny", "small", "medium", "large"].includes(p));

describe.each(PRESETS)("aws-sim conformance to the Smithy models (%s preset)", (preset) => {
  let sim: AwsSim;
  let sdk: SdkHarness;
  let fixture: Fixture;

  beforeAll(async () => {
    sim = await startAwsSim({
      preset,
      seed: Number(process.env["GL_CONFORMANCE_SEED"] ?? "1"),
      rateLimits: false,
    });
    sdk = new SdkHarness({ url: sim.url, region: sim.region, credentials: sim.managementCredentials });
    const org = sim.exportOrg();
    const mgmt = need(
      org.accounts.find((a) => a.id === org.organization.managementAccountId),
      "management account",
    );
    fixture = { org, mgmt, memo: new Map() };
  });

  afterAll(async () => {
    sdk.close();
    await sim.close();
  });

  it("covers every operation the emulator serves", () => {
    const served = Object.entries(SERVED).flatMap(([service, ops]) =>
      Object.keys(ops).map((op) => `${service}:${op}`),
    );
    const covered = new Set(CASES.map((c) => `${c.service}:${c.op}`));
    expect(served.filter((op) => !covered.has(op))).toEqual([]);
    expect([...covered].filter((op) => !served.includes(op))).toEqual([]);
  });

  it.each(CASES.map((c, i) => ({ ...c, name: `${c.service} ${c.op} #${i}` })))("$name", async (c) => {
    const model = sdk.model(c.service);
    const res = await sdk.call(c.service, c.op, c.input(fixture));
    const problems: string[] = [];
    if (res.error !== undefined) problems.push(`call failed: ${res.error.name}: ${res.error.message}`);
    if (res.raw === undefined) problems.push("no raw response captured");
    else problems.push(...validateRawResponse(model, c.op, res.raw).map((p) => `wire: ${p}`));
    const outputShape = operationOutput(model, c.op);
    if (res.output !== undefined) {
      if (outputShape !== undefined)
        problems.push(...validateShape(model, outputShape, res.output).map((p) => `sdk: ${p}`));
      c.after?.(fixture, res.output);
    }
    expect(problems, `${c.service} ${c.op}\n${res.raw?.body.slice(0, 1500) ?? ""}`).toEqual([]);
  });

  it.each(PAGED_CASES.map((c) => ({ ...c, name: `paging in small pages: ${c.service} ${c.op}` })))(
    "$name",
    async (c) => {
      const model = sdk.model(c.service);
      const pg = operationPagination(model, c.op);
      if (pg === undefined) return;
      const outputShape = operationOutput(model, c.op) ?? "";
      const problems: string[] = [];
      const collect = async (pageSize: number | undefined): Promise<unknown[]> => {
        const items: unknown[] = [];
        let token: string | undefined;
        for (let page = 0; page < 5000; page++) {
          const input = {
            ...c.input(fixture),
            ...(token !== undefined ? { [pg.inputToken]: token } : {}),
          } as Record<string, unknown>;
          if (pageSize !== undefined && pg.pageSize !== undefined) input[pg.pageSize] = pageSize;
          const res = await sdk.call(c.service, c.op, input);
          const where = `page ${page}${pageSize !== undefined ? ` (size ${pageSize})` : ""}`;
          if (res.error !== undefined || res.output === undefined) {
            problems.push(`${where}: call failed: ${res.error?.name ?? ""}: ${res.error?.message ?? ""}`);
            return items;
          }
          if (res.raw !== undefined)
            problems.push(...validateRawResponse(model, c.op, res.raw).map((p) => `${where} wire: ${p}`));
          problems.push(...validateShape(model, outputShape, res.output).map((p) => `${where} sdk: ${p}`));
          const pageItems = pg.items !== undefined ? getPath(res.output, pg.items) : undefined;
          if (Array.isArray(pageItems)) {
            items.push(...(pageItems as unknown[]));
            if (pageSize !== undefined && pageItems.length > pageSize)
              problems.push(`${where}: ${pageItems.length} items > page size ${pageSize}`);
          }
          const next = getPath(res.output, pg.outputToken);
          if (
            c.service === "iam" &&
            (res.output["IsTruncated"] === true) !== (typeof next === "string" && next !== "")
          ) {
            problems.push(
              `${where}: IsTruncated=${String(res.output["IsTruncated"])} but Marker ${next === undefined ? "absent" : "present"}`,
            );
          }
          if (typeof next !== "string" || next === "") return items;
          if (next === token) {
            problems.push(`${where}: the same token came back twice`);
            return items;
          }
          token = next;
        }
        problems.push("more than 5000 pages");
        return items;
      };
      const all = await collect(undefined);
      // One item a page; big generated orgs use pages of 7 (below every service's maximum page size).
      const pageSize = all.length > 2000 ? 7 : 1;
      const paged = await collect(pageSize);
      if (pg.items !== undefined) {
        const key = (v: unknown) => JSON.stringify(v);
        const pagedKeys = new Set(paged.map(key));
        const missing = all.map(key).filter((k) => !pagedKeys.has(k));
        if (paged.length !== all.length || missing.length > 0) {
          problems.push(
            `paging ${pageSize} at a time gave ${paged.length} items, unpaged ${all.length}; missing ${missing.slice(0, 3).join(" ")}`,
          );
        }
      }
      expect(problems).toEqual([]);
    },
  );

  describe("injected faults", () => {
    const ONE_PER_SERVICE = CASES.filter((c, i, all) => all.findIndex((d) => d.service === c.service) === i);
    // What the SDK's retry strategy classifies as throttling (aws-wire.md §2).
    const THROTTLING = new Set([
      "Throttling",
      "ThrottlingException",
      "TooManyRequestsException",
      "RequestLimitExceeded",
      "LimitExceededException",
    ]);
    afterAll(() => sim.setFaults({ throttleFirstAttempt: false, errorRate: 0 }));

    it.each(
      ONE_PER_SERVICE.map((c) => ({
        ...c,
        name: `a throttle is a modeled/known throttling error: ${c.service} ${c.op}`,
      })),
    )("$name", async (c) => {
      sim.setFaults({ throttleFirstAttempt: true, errorRate: 0 });
      const res = await sdk.call(c.service, c.op, c.input(fixture));
      const problems: string[] = [];
      if (res.error === undefined) problems.push("not throttled");
      else if (!THROTTLING.has(res.error.name) && res.error.$metadata?.httpStatusCode !== 429)
        problems.push(`error ${res.error.name} is not classified as throttling`);
      if (res.raw !== undefined)
        problems.push(...validateRawResponse(sdk.model(c.service), c.op, res.raw).map((p) => `wire: ${p}`));
      expect(problems, res.raw?.body).toEqual([]);
    });

    it.each(
      ONE_PER_SERVICE.map((c) => ({
        ...c,
        name: `the SDK retries a throttled first attempt: ${c.service} ${c.op}`,
      })),
    )("$name", async (c) => {
      sim.setFaults({ throttleFirstAttempt: true, errorRate: 0 });
      const retrying = new SdkHarness({ ...sdk.target, maxAttempts: 3 });
      try {
        const res = await retrying.call(c.service, c.op, c.input(fixture));
        expect(res.error?.message).toBeUndefined();
        expect(res.attempts).toBe(2);
      } finally {
        retrying.close();
      }
    });

    it.each(
      ONE_PER_SERVICE.map((c) => ({
        ...c,
        name: `an injected server error is well-formed: ${c.service} ${c.op}`,
      })),
    )("$name", async (c) => {
      sim.setFaults({ throttleFirstAttempt: false, errorRate: 1 });
      const res = await sdk.call(c.service, c.op, c.input(fixture));
      const problems: string[] = [];
      if (res.error === undefined) problems.push("no error");
      else if ((res.error.$metadata?.httpStatusCode ?? 0) < 500)
        problems.push(`status ${res.error.$metadata?.httpStatusCode ?? "?"}`);
      if (res.raw !== undefined)
        problems.push(...validateRawResponse(sdk.model(c.service), c.op, res.raw).map((p) => `wire: ${p}`));
      expect(problems, res.raw?.body).toEqual([]);
    });
  });

  it.each(ERROR_CASES.map((c) => ({ ...c, name: `${c.service} ${c.op} fails with ${c.expectedName}` })))(
    "$name",
    async (c) => {
      const model = sdk.model(c.service);
      const res = await sdk.call(c.service, c.op, c.input(fixture));
      const problems: string[] = [];
      if (res.error === undefined) problems.push("call succeeded");
      else if (res.error.name !== c.expectedName)
        problems.push(`error ${res.error.name}: ${res.error.message}`);
      if (res.raw !== undefined)
        problems.push(...validateRawResponse(model, c.op, res.raw).map((p) => `wire: ${p}`));
      expect(problems, res.raw?.body.slice(0, 1000)).toEqual([]);
    },
  );
});
