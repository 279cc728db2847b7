import { actionMatches } from "./action-matches.ts";
import { coversAction, hasCondition, parsePolicy, type PolicyInput } from "./policy-document.ts";
import { resourceMatches } from "./resource-matches.ts";

export interface PolicyRef {
  id: string;
  document: PolicyInput;
}

export interface DecidingStatement {
  policyId: string;
  statement: number;
  sid?: string;
  effect: "Allow" | "Deny";
}

/** Identity-based evaluation of one action on one resource for one principal. */
export type Decision = {
  effect: "allow" | "deny" | "implicit-deny";
  conditional: boolean;
  /** Which statements decided: policy id + statement index/Sid. */
  matched: DecidingStatement[];
};

interface Hit extends DecidingStatement {
  conditional: boolean;
}

/** The statements of `policies` that cover `action` on `resource`; a statement without Resource covers nothing. */
function hits(policies: PolicyRef[], action: string, resource: string): Hit[] {
  const out: Hit[] = [];
  for (const p of policies)
    for (const { index, statement: s } of parsePolicy(p.document).statements) {
      if (coversAction(s, action, actionMatches) !== true) continue;
      const onResource = s.Resource
        ? s.Resource.some((r) => resourceMatches(r, resource))
        : s.NotResource
          ? !s.NotResource.some((r) => resourceMatches(r, resource))
          : false;
      if (!onResource) continue;
      out.push({
        policyId: p.id,
        statement: index,
        ...(s.Sid === undefined ? {} : { sid: s.Sid }),
        effect: s.Effect,
        conditional: hasCondition(s),
      });
    }
  return out;
}

const strip = ({ conditional: _, ...d }: Hit): DecidingStatement => d;

/** The Allows that let the action through, or null; conditional when none of them is unconditional. */
function allowing(found: Hit[]): { matched: Hit[]; conditional: boolean } | null {
  const allows = found.filter((h) => h.effect === "Allow");
  if (allows.length === 0) return null;
  return { matched: allows, conditional: allows.every((h) => h.conditional) };
}

/**
 * Identity-based evaluation (aws-access-semantics §2): an explicit Deny in any policy or the boundary wins; then
 * an Allow is needed in the identity policies and, when a boundary is given, in the boundary too; else implicit
 * deny. A Deny with a Condition does not deny but makes an allow `conditional`; so does an Allow that holds only
 * under a Condition.
 */
export function evaluateIdentity(input: {
  policies: PolicyRef[];
  boundary?: PolicyRef | null;
  action: string;
  resource: string;
}): Decision {
  const identity = hits(input.policies, input.action, input.resource);
  const bounded = input.boundary ? hits([input.boundary], input.action, input.resource) : [];
  const denies = [...identity, ...bounded].filter((h) => h.effect === "Deny");
  const hardDenies = denies.filter((h) => !h.conditional);
  if (hardDenies.length > 0) return { effect: "deny", conditional: false, matched: hardDenies.map(strip) };
  const byIdentity = allowing(identity);
  const byBoundary = input.boundary ? allowing(bounded) : { matched: [], conditional: false };
  if (!byIdentity || !byBoundary) return { effect: "implicit-deny", conditional: false, matched: [] };
  return {
    effect: "allow",
    conditional: byIdentity.conditional || byBoundary.conditional || denies.length > 0,
    matched: [...byIdentity.matched, ...byBoundary.matched, ...denies].map(strip),
  };
}
