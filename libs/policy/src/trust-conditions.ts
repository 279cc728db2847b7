import { ConditionBlock } from "./policy-document.ts";

/** Structured conditions carried on a grant. Known keys pulled out; everything else kept verbatim in `other`. */
export interface TrustConditions {
  externalId?: string[];
  principalOrgId?: string[];
  mfa?: boolean;
  samlAud?: string[];
  oidc?: Array<{ provider: string; aud?: string[]; sub?: string[] }>;
  sourceArn?: string[];
  sourceAccount?: string[];
  other?: Array<{ operator: string; key: string; values: string[] }>;
}

type ListKey = "externalId" | "principalOrgId" | "samlAud" | "sourceArn" | "sourceAccount";

const LIST_KEYS: Record<string, ListKey> = {
  "sts:externalid": "externalId",
  "aws:principalorgid": "principalOrgId",
  "saml:aud": "samlAud",
  "aws:sourcearn": "sourceArn",
  "aws:sourceaccount": "sourceAccount",
};

/**
 * Operators under which a key's values are the values the request must carry. Negated operators and
 * `…IfExists` (which pass when the key is absent) say something else, so those stay verbatim in `other`.
 */
const POSITIVE = new Set([
  "stringequals",
  "stringequalsignorecase",
  "stringlike",
  "arnequals",
  "arnlike",
  "foranyvalue:stringequals",
  "foranyvalue:stringlike",
]);
const BOOL = new Set(["bool", "boolifexists"]);
/** Service prefixes of global condition keys; any other `<host>:aud|sub` is an OIDC provider's claim. */
const NOT_OIDC = new Set(["aws", "sts", "saml", "iam"]);

const union = (a: string[] | undefined, b: string[]): string[] => [...new Set([...(a ?? []), ...b])];

function addOidc(out: TrustConditions, provider: string, claim: "aud" | "sub", values: string[]): void {
  out.oidc ??= [];
  let entry = out.oidc.find((o) => o.provider.toLowerCase() === provider.toLowerCase());
  if (!entry) {
    entry = { provider };
    out.oidc.push(entry);
  }
  entry[claim] = union(entry[claim], values);
}

function addOther(out: TrustConditions, operator: string, key: string, values: string[]): void {
  out.other ??= [];
  const same = out.other.find((o) => o.operator === operator && o.key === key);
  if (same) same.values = union(same.values, values);
  else out.other.push({ operator, key, values });
}

/** Adds one statement's Condition block to `out` (keys are case-insensitive, as in AWS). */
export function collectConditions(out: TrustConditions, condition: ConditionBlock | undefined): void {
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    const op = operator.toLowerCase();
    for (const [key, values] of Object.entries(keys)) {
      const k = key.toLowerCase();
      const listKey = LIST_KEYS[k];
      const oidc = /^(.+):(aud|sub)$/i.exec(key);
      const host = oidc?.[1];
      if (listKey && POSITIVE.has(op)) out[listKey] = union(out[listKey], values);
      else if (k === "aws:multifactorauthpresent" && BOOL.has(op) && values.length === 1)
        out.mfa = values[0]?.toLowerCase() === "true";
      else if (host && !NOT_OIDC.has(host.toLowerCase()) && POSITIVE.has(op))
        addOidc(out, host, (oidc[2] ?? "").toLowerCase() === "aud" ? "aud" : "sub", values);
      else addOther(out, operator, key, values);
    }
  }
}

/** The structured form of one statement's Condition block (as written in the policy); null when it has none. */
export function trustConditions(condition: unknown): TrustConditions | null {
  const parsed = ConditionBlock.safeParse(condition);
  if (!parsed.success) return null;
  const out: TrustConditions = {};
  collectConditions(out, parsed.data);
  return Object.keys(out).length > 0 ? out : null;
}
