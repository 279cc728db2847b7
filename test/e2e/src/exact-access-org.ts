import { OrgDocument } from "@grantline/aws-sim";

const T = "2024-03-01T09:00:00.000Z";
export const MGMT = "100000000001";
export const PROD = "222222222222";
export const TOOLS = "333333333333";
export const CLOSED = "444444444444";
export const OUTSIDER = "999999999999";
export const INSTANCE = "arn:aws:sso:::instance/ssoins-72230000000exact";
export const ADMIN_PS = "arn:aws:sso:::permissionSet/ssoins-72230000000exact/ps-exact00000000001";
export const ANN = "a0000000-0000-4000-8000-000000000001";
export const BEN = "a0000000-0000-4000-8000-000000000002";
export const OPS = "b0000000-0000-4000-9000-000000000001";
export const SAML_PROVIDER = `arn:aws:iam::${PROD}:saml-provider/Okta`;
export const GITHUB_OIDC = `arn:aws:iam::${PROD}:oidc-provider/token.actions.githubusercontent.com`;
export const role = (acct: string, name: string) => `arn:aws:iam::${acct}:role/${name}`;
export const user = (acct: string, name: string) => `arn:aws:iam::${acct}:user/${name}`;
export const policyArn = (acct: string, name: string) => `arn:aws:iam::${acct}:policy/${name}`;
export const ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess";
const READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess";
/** Identity Center's role for the Admin set in Prod, and the SAML provider it trusts (as AWS names them). */
export const SSO_PROVIDER = `arn:aws:iam::${PROD}:saml-provider/AWSSSO_1234567890abcdef_DO_NOT_DELETE`;
export const RESERVED_ROLE = `arn:aws:iam::${PROD}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0a1b2c3d4e5f6a7b`;

let n = 0;
const id = (prefix: string) => `${prefix}${String(++n).padStart(17, "0")}`;
const doc = (...Statement: unknown[]) => JSON.stringify({ Version: "2012-10-17", Statement });
const allow = (Action: string | string[], Resource: string | string[]) => ({
  Effect: "Allow",
  Action,
  Resource,
});
const trustAws = (...principals: string[]) =>
  doc({ Effect: "Allow", Principal: { AWS: principals }, Action: "sts:AssumeRole" });

const iamUser = (
  name: string,
  o: Partial<{ inline: string; attached: string[]; groups: string[]; boundary: string; key: boolean }> = {},
) => ({
  name,
  id: id("AIDA"),
  path: "/",
  createDate: T,
  tags: [],
  groups: o.groups ?? [],
  attachedPolicies: o.attached ?? [],
  inlinePolicies: o.inline ? [{ name: `${name}-inline`, document: o.inline }] : [],
  ...(o.boundary ? { permissionsBoundary: o.boundary } : {}),
  accessKeys: o.key
    ? [
        {
          id: "AKIAEXACTACCESS00001",
          secret: "exact/access/secret/key/0000000000000000",
          status: "Active" as const,
          createDate: T,
        },
      ]
    : [],
});
const iamRole = (
  name: string,
  trustPolicy: string,
  o: Partial<{ inline: string; attached: string[]; path: string }> = {},
) => ({
  name,
  id: id("AROA"),
  path: o.path ?? "/",
  createDate: T,
  maxSessionDuration: 3600,
  trustPolicy,
  tags: [],
  attachedPolicies: o.attached ?? [],
  inlinePolicies: o.inline ? [{ name: `${name}-inline`, document: o.inline }] : [],
});
const customerPolicy = (name: string, document: string) => ({
  name,
  id: id("ANPA"),
  path: "/",
  createDate: T,
  defaultVersionId: "v1",
  versions: [{ versionId: "v1", document, createDate: T }],
});
/** The role every member account lets the management account assume (how grantline reads member IAM). */
// Read-only here, so that it reaches no role of this test through the account trusts.
const accessRole = () =>
  iamRole("OrganizationAccountAccessRole", trustAws(`arn:aws:iam::${MGMT}:root`), { attached: [READ_ONLY] });

/**
 * A small organization written by hand for issue 12's exact-access cases; every expected answer in
 * exact-access.test.ts is derived by hand from this document, not computed.
 */
export function exactAccessOrg(): OrgDocument {
  const prodRoles = [
    accessRole(),
    iamRole(
      "AWSReservedSSO_Admin_0a1b2c3d4e5f6a7b",
      doc({
        Effect: "Allow",
        Principal: { Federated: SSO_PROVIDER },
        Action: ["sts:AssumeRoleWithSAML", "sts:TagSession"],
        Condition: { StringEquals: { "SAML:aud": "https://signin.aws.amazon.com/saml" } },
      }),
      { attached: [ADMIN], path: "/aws-reserved/sso.amazonaws.com/" },
    ),
    // Allow names alice and bob; an explicit Deny takes bob out.
    iamRole(
      "DenyTest",
      doc(
        {
          Effect: "Allow",
          Principal: { AWS: [user(TOOLS, "alice"), user(TOOLS, "bob")] },
          Action: "sts:AssumeRole",
        },
        { Effect: "Deny", Principal: { AWS: user(TOOLS, "bob") }, Action: "sts:AssumeRole" },
      ),
    ),
    iamRole(
      "SamlRole",
      doc({
        Effect: "Allow",
        Principal: { Federated: SAML_PROVIDER },
        Action: "sts:AssumeRoleWithSAML",
        Condition: { StringEquals: { "SAML:aud": "https://signin.aws.amazon.com/saml" } },
      }),
    ),
    iamRole(
      "GithubDeploy",
      doc({
        Effect: "Allow",
        Principal: { Federated: GITHUB_OIDC },
        Action: "sts:AssumeRoleWithWebIdentity",
        Condition: {
          StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
          StringLike: { "token.actions.githubusercontent.com:sub": "repo:acme/deploy:*" },
        },
      }),
    ),
    // Trusts the whole Tools account: only Tools principals whose own policies allow it can assume it.
    iamRole("TrustsTools", trustAws(`arn:aws:iam::${TOOLS}:root`)),
    // A third party, with an external id: conditional, and not in the organization (nothing to expand).
    iamRole(
      "Vendor",
      doc({
        Effect: "Allow",
        Principal: { AWS: OUTSIDER },
        Action: "sts:AssumeRole",
        Condition: { StringEquals: { "sts:ExternalId": "vendor-123" } },
      }),
    ),
  ];
  const toolsPolicies = [
    customerPolicy("AssumeTrusts", doc(allow("sts:AssumeRole", `arn:aws:iam::${PROD}:role/Trusts*`))),
    customerPolicy("S3Only", doc(allow("s3:*", "*"))),
    customerPolicy("ReadOnlyCustom", doc(allow(["s3:Get*", "s3:List*"], "*"))),
    customerPolicy("Unused", doc(allow("ec2:Describe*", "*"))),
  ];
  const tools = {
    aliases: [],
    users: [
      // Identity policy allows every role in Prod: reaches TrustsTools (and DenyTest names her directly).
      iamUser("alice", { inline: doc(allow("sts:AssumeRole", `arn:aws:iam::${PROD}:role/*`)) }),
      // No identity policy: named by DenyTest but denied there; nothing through the account trust.
      iamUser("bob"),
      // Through her group's managed policy (Trusts* wildcard).
      iamUser("carol", { groups: ["assumers"], attached: [policyArn(TOOLS, "ReadOnlyCustom")] }),
      // Allowed everything, but her boundary allows only S3: no sts:AssumeRole.
      iamUser("dave", { inline: doc(allow("sts:*", "*")), boundary: policyArn(TOOLS, "S3Only") }),
      // Allowed sts:AssumeRole everywhere but explicitly denied on TrustsTools.
      iamUser("erin", {
        inline: doc(allow("sts:AssumeRole", "*"), {
          Effect: "Deny",
          Action: "sts:AssumeRole",
          Resource: role(PROD, "TrustsTools"),
        }),
      }),
    ],
    groups: [
      {
        name: "assumers",
        id: id("AGPA"),
        path: "/",
        createDate: T,
        attachedPolicies: [policyArn(TOOLS, "AssumeTrusts")],
        inlinePolicies: [],
      },
    ],
    roles: [
      accessRole(),
      // A role in Tools allowed to assume TrustsTools: reached through the account trust, expandable.
      iamRole(
        "ci",
        doc({ Effect: "Allow", Principal: { Service: "codebuild.amazonaws.com" }, Action: "sts:AssumeRole" }),
        {
          inline: doc(allow("sts:AssumeRole", role(PROD, "TrustsTools"))),
        },
      ),
    ],
    policies: toolsPolicies,
    samlProviders: [],
  };
  const iamOf = (roles: Array<ReturnType<typeof iamRole>>) => ({
    aliases: [],
    users: [],
    groups: [],
    roles,
    policies: [],
    samlProviders: [],
  });
  return OrgDocument.parse({
    organization: { id: "o-exactaccess1", managementAccountId: MGMT, featureSet: "ALL" },
    roots: [
      {
        id: "r-ex01",
        name: "Root",
        policyTypes: [
          { type: "SERVICE_CONTROL_POLICY", status: "ENABLED" },
          { type: "RESOURCE_CONTROL_POLICY", status: "ENABLED" },
        ],
      },
    ],
    organizationalUnits: [{ id: "ou-ex01-prod0001", name: "Prod", parentId: "r-ex01" }],
    accounts: [
      {
        id: MGMT,
        name: "Management",
        email: "mgmt@example.com",
        status: "ACTIVE",
        parentId: "r-ex01",
        joinedMethod: "CREATED",
        joinedTimestamp: T,
        iam: { ...iamOf([]), users: [iamUser("grantline-sync", { attached: [ADMIN], key: true })] },
      },
      {
        id: PROD,
        name: "Prod",
        email: "prod@example.com",
        status: "ACTIVE",
        parentId: "ou-ex01-prod0001",
        joinedMethod: "CREATED",
        joinedTimestamp: T,
        iam: {
          ...iamOf(prodRoles),
          samlProviders: [
            { arn: SSO_PROVIDER, name: "AWSSSO_1234567890abcdef_DO_NOT_DELETE", createDate: T },
          ],
        },
      },
      {
        id: TOOLS,
        name: "Tools",
        email: "tools@example.com",
        status: "ACTIVE",
        parentId: "r-ex01",
        joinedMethod: "CREATED",
        joinedTimestamp: T,
        iam: tools,
      },
      {
        id: CLOSED,
        name: "Closed",
        email: "closed@example.com",
        status: "SUSPENDED",
        parentId: "r-ex01",
        joinedMethod: "CREATED",
        joinedTimestamp: T,
        iam: iamOf([accessRole()]),
      },
    ],
    policies: [
      {
        id: "p-FullAWSAccess",
        arn: "arn:aws:organizations::aws:policy/service_control_policy/p-FullAWSAccess",
        name: "FullAWSAccess",
        description: "Allows access to every operation",
        type: "SERVICE_CONTROL_POLICY",
        awsManaged: true,
        content: doc(allow("*", "*")),
        targets: ["r-ex01", "ou-ex01-prod0001", MGMT, PROD, TOOLS, CLOSED],
      },
      {
        id: "p-denyleave01",
        arn: `arn:aws:organizations::${MGMT}:policy/o-exactaccess1/service_control_policy/p-denyleave01`,
        name: "DenyLeaveOrg",
        type: "SERVICE_CONTROL_POLICY",
        awsManaged: false,
        content: doc({ Effect: "Deny", Action: "organizations:LeaveOrganization", Resource: "*" }),
        targets: ["ou-ex01-prod0001"],
      },
    ],
    identityCenter: {
      instanceArn: INSTANCE,
      identityStoreId: "d-9067000001",
      name: "exact",
      createdDate: T,
      users: [
        {
          userId: ANN,
          userName: "ann@example.com",
          displayName: "Ann",
          name: { givenName: "Ann", familyName: "A" },
          emails: [],
          active: true,
        },
        {
          userId: BEN,
          userName: "ben@example.com",
          displayName: "Ben",
          name: { givenName: "Ben", familyName: "B" },
          emails: [],
          active: false,
        },
      ],
      groups: [{ groupId: OPS, displayName: "Ops" }],
      memberships: [
        { membershipId: "m-ann", groupId: OPS, userId: ANN },
        { membershipId: "m-ben", groupId: OPS, userId: BEN },
      ],
      permissionSets: [
        {
          arn: ADMIN_PS,
          name: "Admin",
          sessionDuration: "PT1H",
          createdDate: T,
          managedPolicies: [ADMIN],
          customerManagedPolicyReferences: [],
          provisionedTo: [PROD, CLOSED],
        },
      ],
      assignments: [
        { accountId: PROD, permissionSetArn: ADMIN_PS, principalType: "GROUP", principalId: OPS },
        { accountId: CLOSED, permissionSetArn: ADMIN_PS, principalType: "USER", principalId: ANN },
      ],
    },
  });
}
