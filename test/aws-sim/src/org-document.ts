import { z } from "zod";

/** ISO-8601 timestamp with `Z`, e.g. `2024-01-15T10:00:00.000Z`. */
const Timestamp = z.string().describe("ISO-8601 UTC timestamp");
const Tag = z.object({ Key: z.string(), Value: z.string() });
const InlinePolicy = z.object({
  name: z.string(),
  document: z.string().describe("Policy JSON (not URL-encoded)"),
});

export const IamUserDoc = z.object({
  name: z.string(),
  id: z.string().describe("AIDA + 17 [A-Z0-9]"),
  path: z.string().default("/"),
  createDate: Timestamp,
  passwordLastUsed: Timestamp.optional(),
  tags: z.array(Tag).default([]),
  groups: z.array(z.string()).default([]).describe("Names of IAM groups the user belongs to (memberships)"),
  attachedPolicies: z.array(z.string()).default([]).describe("Managed policy ARNs"),
  inlinePolicies: z.array(InlinePolicy).default([]),
  permissionsBoundary: z
    .string()
    .optional()
    .describe("Managed policy ARN (AWS- or customer-managed) set as the permissions boundary"),
  accessKeys: z
    .array(
      z.object({
        id: z.string().describe("AKIA + 16 [A-Z0-9]"),
        secret: z.string().optional(),
        status: z.enum(["Active", "Inactive"]),
        createDate: Timestamp,
        lastUsed: z
          .object({ date: Timestamp, service: z.string(), region: z.string() })
          .optional()
          .describe("Absent = never used"),
      }),
    )
    .default([]),
});
export const IamGroupDoc = z.object({
  name: z.string(),
  id: z.string().describe("AGPA + 17 [A-Z0-9]"),
  path: z.string().default("/"),
  createDate: Timestamp,
  attachedPolicies: z.array(z.string()).default([]),
  inlinePolicies: z.array(InlinePolicy).default([]),
});
export const IamRoleDoc = z.object({
  name: z.string(),
  id: z.string().describe("AROA + 17 [A-Z0-9]"),
  path: z.string().default("/"),
  createDate: Timestamp,
  description: z.string().optional(),
  maxSessionDuration: z.number().int().default(3600),
  trustPolicy: z.string().describe("AssumeRolePolicyDocument JSON (not URL-encoded)"),
  tags: z.array(Tag).default([]),
  attachedPolicies: z.array(z.string()).default([]),
  inlinePolicies: z.array(InlinePolicy).default([]),
  permissionsBoundary: z
    .string()
    .optional()
    .describe("Managed policy ARN (AWS- or customer-managed) set as the permissions boundary"),
});
export const IamPolicyDoc = z.object({
  name: z.string(),
  id: z.string().describe("ANPA + 17 [A-Z0-9]"),
  path: z.string().default("/"),
  description: z.string().optional(),
  createDate: Timestamp,
  updateDate: Timestamp.optional(),
  defaultVersionId: z.string().default("v1"),
  versions: z.array(z.object({ versionId: z.string(), document: z.string(), createDate: Timestamp })).min(1),
});
export const AccountIamDoc = z.object({
  aliases: z.array(z.string()).default([]),
  users: z.array(IamUserDoc).default([]),
  groups: z.array(IamGroupDoc).default([]),
  roles: z.array(IamRoleDoc).default([]),
  policies: z.array(IamPolicyDoc).default([]).describe("Customer-managed policies"),
  samlProviders: z
    .array(z.object({ arn: z.string(), name: z.string(), createDate: Timestamp }))
    .default([])
    .describe("IAM SAML providers, e.g. Identity Center's AWSSSO_<16hex>_DO_NOT_DELETE"),
});
export const AccountDoc = z.object({
  id: z.string().regex(/^\d{12}$/),
  name: z.string(),
  email: z.string(),
  status: z
    .enum(["ACTIVE", "SUSPENDED", "PENDING_CLOSURE"])
    .describe("Organizations answers it as Status and as State (State adds CLOSED, never stored here)"),
  parentId: z.string().describe("Root (r-…) or OU (ou-…) id"),
  joinedMethod: z.enum(["INVITED", "CREATED"]).default("CREATED"),
  joinedTimestamp: Timestamp,
  iam: AccountIamDoc.default({
    aliases: [],
    users: [],
    groups: [],
    roles: [],
    policies: [],
    samlProviders: [],
  }),
});
export const IdentityStoreUserDoc = z.object({
  userId: z.string(),
  userName: z.string(),
  displayName: z.string(),
  name: z.object({ givenName: z.string(), familyName: z.string(), formatted: z.string().optional() }),
  emails: z
    .array(z.object({ value: z.string(), type: z.string().optional(), primary: z.boolean().optional() }))
    .default([]),
  active: z.boolean().default(true),
});
export const IdentityStoreGroupDoc = z.object({
  groupId: z.string(),
  displayName: z.string(),
  description: z.string().optional(),
});
export const PermissionSetBoundary = z.union([
  z.object({ managedPolicyArn: z.string() }),
  z.object({ customerManagedPolicyReference: z.object({ name: z.string(), path: z.string().default("/") }) }),
]);
export const PermissionSetDoc = z.object({
  arn: z.string().describe("arn:aws:sso:::permissionSet/ssoins-…/ps-…"),
  name: z.string(),
  description: z.string().optional(),
  sessionDuration: z.string().default("PT1H"),
  createdDate: Timestamp,
  managedPolicies: z.array(z.string()).default([]).describe("AWS-managed policy ARNs"),
  customerManagedPolicyReferences: z
    .array(z.object({ name: z.string(), path: z.string().default("/") }))
    .default([]),
  inlinePolicy: z.string().optional(),
  permissionsBoundary: PermissionSetBoundary.optional(),
  provisionedTo: z.array(z.string()).default([]).describe("Account ids the permission set is provisioned to"),
});
export const AssignmentDoc = z.object({
  accountId: z.string(),
  permissionSetArn: z.string(),
  principalType: z.enum(["USER", "GROUP"]),
  principalId: z.string(),
});
export const IdentityCenterDoc = z.object({
  instanceArn: z.string().regex(/^arn:aws:sso:::instance\/ssoins-[a-zA-Z0-9-.]{16}$/),
  identityStoreId: z.string().regex(/^d-[0-9a-f]{10}$/),
  name: z.string().optional(),
  createdDate: Timestamp,
  users: z.array(IdentityStoreUserDoc).default([]),
  groups: z.array(IdentityStoreGroupDoc).default([]),
  memberships: z
    .array(z.object({ membershipId: z.string(), groupId: z.string(), userId: z.string() }))
    .default([]),
  permissionSets: z.array(PermissionSetDoc).default([]),
  assignments: z.array(AssignmentDoc).default([]),
});

export const OrgPolicyType = z.enum(["SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"]);
export const OrgPolicyDoc = z.object({
  id: z
    .string()
    .regex(/^p-[0-9a-zA-Z_]{8,128}$/)
    .describe('"p-FullAWSAccess" for the AWS-managed SCP'),
  arn: z.string(),
  name: z.string(),
  description: z.string().optional(),
  type: OrgPolicyType,
  awsManaged: z.boolean().default(false),
  content: z.string().describe("Policy JSON"),
  targets: z.array(z.string()).default([]).describe("Root (r-…), OU (ou-…) or account (12 digits) ids"),
});

/** The organization an aws-sim instance serves; loaded at start and exported as ground truth. */
export const OrgDocument = z.object({
  organization: z.object({
    id: z.string().regex(/^o-[a-z0-9]{10,32}$/),
    managementAccountId: z.string().regex(/^\d{12}$/),
    featureSet: z.enum(["ALL", "CONSOLIDATED_BILLING"]).default("ALL"),
  }),
  roots: z
    .array(
      z.object({
        id: z.string().regex(/^r-[0-9a-z]{4,32}$/),
        name: z.string().default("Root"),
        policyTypes: z
          .array(
            z.object({
              type: OrgPolicyType,
              status: z.enum(["ENABLED", "PENDING_ENABLE", "PENDING_DISABLE"]),
            }),
          )
          .default([]),
      }),
    )
    .min(1),
  organizationalUnits: z
    .array(z.object({ id: z.string(), name: z.string(), parentId: z.string() }))
    .default([]),
  accounts: z.array(AccountDoc).min(1),
  identityCenter: IdentityCenterDoc.optional(),
  policies: z.array(OrgPolicyDoc).default([]).describe("Organizations SCPs and RCPs"),
});
export type OrgDocument = z.infer<typeof OrgDocument>;
export type AccountDoc = z.infer<typeof AccountDoc>;
export type AccountIamDoc = z.infer<typeof AccountIamDoc>;
export type IamUserDoc = z.infer<typeof IamUserDoc>;
export type IamGroupDoc = z.infer<typeof IamGroupDoc>;
export type IamRoleDoc = z.infer<typeof IamRoleDoc>;
export type IamPolicyDoc = z.infer<typeof IamPolicyDoc>;
export type IdentityStoreUserDoc = z.infer<typeof IdentityStoreUserDoc>;
export type IdentityStoreGroupDoc = z.infer<typeof IdentityStoreGroupDoc>;
export type PermissionSetDoc = z.infer<typeof PermissionSetDoc>;
export type AssignmentDoc = z.infer<typeof AssignmentDoc>;
export type IdentityCenterDoc = z.infer<typeof IdentityCenterDoc>;
export type PermissionSetBoundary = z.infer<typeof PermissionSetBoundary>;
export type OrgPolicyType = z.infer<typeof OrgPolicyType>;
export type OrgPolicyDoc = z.infer<typeof OrgPolicyDoc>;
