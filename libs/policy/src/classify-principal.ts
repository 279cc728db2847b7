import type { PrincipalType } from "@grantline/contracts";

export type AssumeAction = "sts:AssumeRole" | "sts:AssumeRoleWithSAML" | "sts:AssumeRoleWithWebIdentity";

export const ASSUME_ACTIONS: readonly AssumeAction[] = [
  "sts:AssumeRole",
  "sts:AssumeRoleWithSAML",
  "sts:AssumeRoleWithWebIdentity",
];

/** One principal of a Principal/NotPrincipal block, classified. */
export interface PrincipalRef {
  principalType: PrincipalType;
  principalId: string;
  expandable: boolean;
  /** The 12-digit account the principal lives in, when its form says so (an account-wide Deny reaches it). */
  accountId: string | null;
  /** The assume actions this kind of principal can call. */
  pairs: readonly AssumeAction[];
}

const PARTITION = "aws|aws-us-gov|aws-cn";
const IAM_ARN = new RegExp(`^arn:(?:${PARTITION}):iam::(\\d{12}):(.+)$`);
const STS_ARN = new RegExp(`^arn:(?:${PARTITION}):sts::(\\d{12}):(?:assumed-role|federated-user)/.+$`);
const AWS_ONLY: readonly AssumeAction[] = ["sts:AssumeRole"];
const SAML: readonly AssumeAction[] = ["sts:AssumeRoleWithSAML"];
const WEB_IDENTITY: readonly AssumeAction[] = ["sts:AssumeRoleWithWebIdentity"];
/** The identity providers AWS names as `Federated` principals for AssumeRoleWithWebIdentity. */
const WEB_IDENTITY_HOSTS = new Set([
  "cognito-identity.amazonaws.com",
  "accounts.google.com",
  "graph.facebook.com",
  "www.amazon.com",
]);

const ref = (
  principalType: PrincipalType,
  principalId: string,
  accountId: string | null,
  pairs: readonly AssumeAction[],
): PrincipalRef => ({
  principalType,
  principalId,
  expandable: principalType === "iam_role",
  accountId,
  pairs,
});

/** One `AWS` principal value: `*`, an account (id or root ARN), a user/role ARN, a session ARN or a raw id. */
export function classifyAwsPrincipal(p: string): PrincipalRef {
  if (p === "*") return ref("wildcard", "*", null, AWS_ONLY);
  if (/^\d{12}$/.test(p)) return ref("aws_account", p, p, AWS_ONLY);
  const iam = IAM_ARN.exec(p);
  const account = iam?.[1] ?? null;
  const rest = iam?.[2];
  if (account !== null && rest === "root") return ref("aws_account", account, account, AWS_ONLY);
  if (rest?.startsWith("user/")) return ref("iam_user", p, account, AWS_ONLY);
  if (rest?.startsWith("role/")) return ref("iam_role", p, account, AWS_ONLY);
  const sts = STS_ARN.exec(p);
  if (sts) return ref("aws_principal", p, sts[1] ?? null, AWS_ONLY);
  // A unique id (AIDA…/AROA…) is what AWS shows once the named principal was deleted: a dead grant that nothing
  // can use, even a principal recreated under the same name. It is recorded, not dropped, so the stale trust
  // stays visible; consumers can tell it by the id form. Anything else unknown is kept the same way.
  return ref("aws_principal", p, null, AWS_ONLY);
}

/**
 * A `Federated` value: a SAML provider pairs with AssumeRoleWithSAML, an OIDC provider with WebIdentity. Its
 * users are not IAM principals of the provider's account, so an account-wide Deny does not reach them.
 */
export function classifyFederated(p: string): PrincipalRef {
  const account = null;
  if (/:saml-provider\//.test(p)) return ref("federated", p, account, SAML);
  if (/:oidc-provider\//.test(p) || WEB_IDENTITY_HOSTS.has(p.toLowerCase()))
    return ref("federated", p, account, WEB_IDENTITY);
  // Unknown provider form: which federation call it serves cannot be told, so neither is ruled out.
  return ref("federated", p, account, [...SAML, ...WEB_IDENTITY]);
}

export const classifyService = (p: string): PrincipalRef => ref("aws_service", p, null, AWS_ONLY);

/**
 * Every principal of a Principal/NotPrincipal block (values are ORed). `CanonicalUser` is documented only for
 * S3, so in IAM it matches nothing and is reported instead.
 */
export function principalsOf(block: "*" | Record<string, string[]>): {
  refs: PrincipalRef[];
  problems: string[];
} {
  if (block === "*") return { refs: [classifyAwsPrincipal("*")], problems: [] };
  const refs: PrincipalRef[] = [];
  const problems: string[] = [];
  for (const [kind, values] of Object.entries(block)) {
    for (const v of values) {
      if (kind === "AWS") refs.push(classifyAwsPrincipal(v));
      else if (kind === "Service") refs.push(classifyService(v));
      else if (kind === "Federated") refs.push(classifyFederated(v));
      else if (kind === "CanonicalUser") problems.push(`CanonicalUser ${v} matches no IAM principal`);
      else problems.push(`unknown principal kind ${kind}`);
    }
  }
  return { refs, problems };
}

export const principalKey = (p: { principalType: string; principalId: string }): string =>
  `${p.principalType}\u0000${p.principalId}`;

/** Same principal: ids compared case-insensitively, since IAM names are unique regardless of case. */
export const samePrincipal = (
  a: { principalType: string; principalId: string },
  b: { principalType: string; principalId: string },
): boolean =>
  a.principalType === b.principalType && a.principalId.toLowerCase() === b.principalId.toLowerCase();
