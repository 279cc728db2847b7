// Identity Center's footprint in member accounts: provisioning a permission set to an account creates the IAM role
// `AWSReservedSSO_<set>_<16 hex>` (trusting the account's `AWSSSO_<16 hex>_DO_NOT_DELETE` SAML provider) that users
// signing in with that set assume. Shared by the generator (pure builders) and the store (create/refresh/remove).
import { AwsError } from "../aws-error.ts";
import { hex, iamId, type Rng } from "../ids.ts";
import type { AccountIamDoc, IamRoleDoc, PermissionSetDoc } from "../org-document.ts";

export const RESERVED_SSO_PATH = "/aws-reserved/sso.amazonaws.com/";
export const SSO_INLINE_POLICY_NAME = "AwsSSOInlinePolicy";
type SamlProvider = AccountIamDoc["samlProviders"][number];

/** Path of the reserved roles; an identity source outside us-east-1 adds a region segment. */
export const reservedSsoPath = (region: string): string =>
  region === "us-east-1" ? RESERVED_SSO_PATH : `${RESERVED_SSO_PATH}${region}/`;

/** Roles only AWS may change (IAM answers UnmodifiableEntity): Identity Center's and service-linked roles. */
export function isProtectedRole(r: { path: string }): boolean {
  return r.path.startsWith("/aws-reserved/") || r.path.startsWith("/aws-service-role/");
}
export function assertModifiableRole(r: { path: string; name: string }): void {
  if (isProtectedRole(r))
    throw new AwsError(
      "UnmodifiableEntity",
      `Cannot perform the operation on the protected role '${r.name}' - this role is only modifiable by AWS`,
      400,
    );
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
/** Matches the reserved role of one permission set (by its name) in an account. */
export const reservedRoleMatcher = (psName: string): RegExp =>
  new RegExp(`^AWSReservedSSO_${escapeRe(psName)}_[0-9a-f]{16}$`);

export function newSamlProvider(acct: string, rng: Rng, createDate: string): SamlProvider {
  const name = `AWSSSO_${hex(rng, 16)}_DO_NOT_DELETE`;
  return { arn: `arn:aws:iam::${acct}:saml-provider/${name}`, name, createDate };
}
export const ssoProviderOf = (providers: readonly SamlProvider[]): SamlProvider | undefined =>
  providers.find((p) => /^AWSSSO_[0-9a-f]{16}_DO_NOT_DELETE$/.test(p.name));

/** ISO-8601 duration of a permission set session (PT1H, PT12H, PT90M) in seconds. */
export function sessionSeconds(d: string): number {
  const m = /^PT(?:(\d+)H)?(?:(\d+)M)?$/.exec(d);
  if (!m) return 3600;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 || 3600;
}

/**
 * The permission set as IAM sees it in one account: its AWS-managed policies, the customer-managed references that
 * exist there (by name and path), its inline policy and its boundary. References to policies the account lacks are
 * left out (AWS fails such a provisioning; the sim keeps the rest).
 */
export function reservedRolePolicies(
  ps: PermissionSetDoc,
  acct: string,
  hasPolicy: (arn: string) => boolean,
): Pick<IamRoleDoc, "attachedPolicies" | "inlinePolicies" | "permissionsBoundary"> {
  const cust = (r: { name: string; path: string }): string => `arn:aws:iam::${acct}:policy${r.path}${r.name}`;
  const b = ps.permissionsBoundary;
  const boundary =
    b === undefined
      ? undefined
      : "managedPolicyArn" in b
        ? b.managedPolicyArn
        : cust(b.customerManagedPolicyReference);
  return {
    attachedPolicies: [
      ...ps.managedPolicies,
      ...ps.customerManagedPolicyReferences.map(cust).filter(hasPolicy),
    ],
    inlinePolicies: ps.inlinePolicy ? [{ name: SSO_INLINE_POLICY_NAME, document: ps.inlinePolicy }] : [],
    permissionsBoundary: boundary !== undefined && hasPolicy(boundary) ? boundary : undefined,
  };
}

export function newReservedRole(
  ps: PermissionSetDoc,
  acct: string,
  provider: SamlProvider,
  o: { rng: Rng; createDate: string; region: string; hasPolicy: (arn: string) => boolean },
): IamRoleDoc {
  return {
    name: `AWSReservedSSO_${ps.name}_${hex(o.rng, 16)}`,
    id: iamId(o.rng, "AROA"),
    path: reservedSsoPath(o.region),
    createDate: o.createDate,
    maxSessionDuration: sessionSeconds(ps.sessionDuration),
    trustPolicy: JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: provider.arn },
          Action: ["sts:AssumeRoleWithSAML", "sts:TagSession"],
          Condition: { StringEquals: { "SAML:aud": "https://signin.aws.amazon.com/saml" } },
        },
      ],
    }),
    tags: [],
    ...reservedRolePolicies(ps, acct, o.hasPolicy),
  };
}
