import type { PrincipalType } from "@grantline/contracts";

export interface TrustPrincipal {
  principalType: PrincipalType;
  principalId: string;
  expandable: boolean;
}

const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);

function allowsAssume(action: unknown): boolean {
  return asList(action).some(
    (a) => typeof a === "string" && ["sts:assumerole", "sts:*", "*"].includes(a.toLowerCase()),
  );
}

/** One AWS principal of a trust policy, classified. */
export function classifyAwsPrincipal(p: string): TrustPrincipal {
  if (p === "*") return { principalType: "wildcard", principalId: "*", expandable: false };
  if (/^\d{12}$/.test(p)) return { principalType: "aws_account", principalId: p, expandable: false };
  const m = /^arn:aws[a-z-]*:iam::(\d{12}|aws):(.*)$/.exec(p);
  const rest = m?.[2];
  if (m && rest === "root")
    return { principalType: "aws_account", principalId: m[1] ?? p, expandable: false };
  if (rest?.startsWith("user/")) return { principalType: "iam_user", principalId: p, expandable: false };
  if (rest?.startsWith("role/")) return { principalType: "iam_role", principalId: p, expandable: true };
  // An assumed-role session, a federated user, an unresolvable id: recorded as what it is, not dropped.
  return { principalType: "aws_principal", principalId: p, expandable: false };
}

/**
 * Who a role's trust policy lets assume it: Allow statements whose Action covers sts:AssumeRole. Service and
 * federated principals are kept (as `aws_service` / `federated`) so nothing is silently dropped. Conditions
 * (ExternalId, MFA…) are not evaluated; they are carried on the grant.
 */
export function trustPrincipals(document: string | null): Array<TrustPrincipal & { conditions: unknown }> {
  if (document === null) return [];
  let doc: unknown;
  try {
    doc = JSON.parse(document);
  } catch {
    return [];
  }
  const out: Array<TrustPrincipal & { conditions: unknown }> = [];
  for (const st of asList((doc as Record<string, unknown> | null)?.Statement)) {
    if (typeof st !== "object" || st === null) continue;
    const s = st as Record<string, unknown>;
    if (s.Effect !== "Allow" || !allowsAssume(s.Action)) continue;
    const conditions = s.Condition ?? null;
    const principal = s.Principal;
    if (principal === "*") {
      out.push({ ...classifyAwsPrincipal("*"), conditions });
      continue;
    }
    if (typeof principal !== "object" || principal === null) continue;
    const pr = principal as Record<string, unknown>;
    for (const a of asList(pr.AWS))
      if (typeof a === "string") out.push({ ...classifyAwsPrincipal(a), conditions });
    for (const a of asList(pr.Service))
      if (typeof a === "string")
        out.push({ principalType: "aws_service", principalId: a, expandable: false, conditions });
    for (const a of asList(pr.Federated))
      if (typeof a === "string")
        out.push({ principalType: "federated", principalId: a, expandable: false, conditions });
  }
  return out;
}
