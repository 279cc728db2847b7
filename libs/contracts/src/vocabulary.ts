import { z } from "zod";

/** Pipeline stages; each consumes one stream and dead-letters to `<prefix>.dlq.<stage>`. */
export const STAGES = ["scheduler", "fetcher", "mapper", "writer"] as const;

/** The stage that gave up on a message: the `<stage>` of `<prefix>.dlq.<stage>`. */
export const DeadLetterStage = z.enum(STAGES);
export type DeadLetterStage = z.infer<typeof DeadLetterStage>;

/** Every kind of resource the mappers write (`resources.type`, `entitlements.resource_type`). */
export const ResourceType = z.enum([
  "diag_item",
  "organization",
  "root",
  "organizational_unit",
  "account",
  "sso_instance",
  "permission_set",
  "sso_user",
  "sso_group",
  "iam_account",
  "iam_user",
  "iam_group",
  "iam_role",
  "iam_policy",
  "inline_policy",
  "access_key",
  "org_policy",
]);
export type ResourceType = z.infer<typeof ResourceType>;

/**
 * Who a grant is held by. Identity Center and IAM principals are resources too; so are the Organizations nodes an
 * SCP or RCP is attached to (`root`, `organizational_unit`, `account`). The rest come from role trust policies and
 * are recorded as what they are rather than dropped (`*`, a whole account, an AWS service, a federated provider,
 * or an ARN that names none of these, such as an assumed-role session).
 */
export const PrincipalType = z.enum([
  "sso_user",
  "sso_group",
  "iam_user",
  "iam_group",
  "iam_role",
  "wildcard",
  "aws_account",
  "aws_service",
  "federated",
  "aws_principal",
  "root",
  "organizational_unit",
  "account",
]);
export type PrincipalType = z.infer<typeof PrincipalType>;

/**
 * The entitlement slugs that name a fixed relation: `member` of a group, `assignment` (may assume) of a role,
 * `attached` of a policy. The `effective_grants` view (libs/db migrations 0002, 0004) expands grants through
 * `member` and `assignment` by these literal values, which a test keeps equal.
 */
export const FixedEntitlementSlug = z.enum(["member", "assignment", "attached"]);
export type FixedEntitlementSlug = z.infer<typeof FixedEntitlementSlug>;

/** The slugs whose holders `effective_grants` treats as reaching the resource's own grants (see above). */
export const EXPANDING_SLUGS = [
  FixedEntitlementSlug.enum.member,
  FixedEntitlementSlug.enum.assignment,
] as const satisfies readonly FixedEntitlementSlug[];

/**
 * The one parametric slug: "may use permission set P on this account" is `permission-set:<permissionSetArn>`.
 * These entitlements are derived in SQL when a run finishes (libs/db), from the parts in
 * `ACCOUNT_PERMISSION_SET_ENTITLEMENT`, so TypeScript and SQL spell them alike.
 */
export const PermissionSetSlug = z.templateLiteral(["permission-set:", z.string().min(1)]);
export type PermissionSetSlug = z.infer<typeof PermissionSetSlug>;

export const EntitlementSlug = z.union([FixedEntitlementSlug, PermissionSetSlug]);
export type EntitlementSlug = z.infer<typeof EntitlementSlug>;

/**
 * How an account × permission set entitlement is spelled: id `<accountId><idSeparator><permissionSetArn>`,
 * slug `<slugPrefix><permissionSetArn>`, on the `resourceType` resource, one per `permissionSetType` resource.
 * libs/model builds these ids and libs/db derives the rows in SQL, both from this one descriptor (its values
 * are passed to SQL as parameters, never retyped there).
 */
export const ACCOUNT_PERMISSION_SET_ENTITLEMENT = {
  resourceType: ResourceType.enum.account,
  permissionSetType: ResourceType.enum.permission_set,
  idSeparator: "|",
  slugPrefix: "permission-set:",
} as const;

/** The slug of the entitlement "may use permission set `permissionSetArn`" on an account. */
export function permissionSetSlug(permissionSetArn: string): PermissionSetSlug {
  return `${ACCOUNT_PERMISSION_SET_ENTITLEMENT.slugPrefix}${permissionSetArn}`;
}
