import type { PrincipalType } from "@grantline/contracts";
import { classifyAwsPrincipal as classify, evaluateTrust, type TrustedPrincipal } from "@grantline/policy";

export interface TrustPrincipal {
  principalType: PrincipalType;
  principalId: string;
  expandable: boolean;
}

/** One AWS principal of a trust policy, classified (as @grantline/policy does). */
export function classifyAwsPrincipal(p: string): TrustPrincipal {
  const { principalType, principalId, expandable } = classify(p);
  return { principalType, principalId, expandable };
}

/**
 * Who a role's trust policy lets assume it, by the AWS rules (@grantline/policy `evaluateTrust`): Deny,
 * NotPrincipal and NotAction honoured; SAML and web-identity federation recorded as `federated` principals with
 * the assume actions they may call; one entry per principal, with its conditions structured.
 */
export function trustPrincipals(document: string | null): TrustedPrincipal[] {
  return evaluateTrust(document).trusted;
}

/** The attrs a trust grant carries: `conditional` always, `conditions` only when there are some. */
export const trustGrantAttrs = (t: TrustedPrincipal): Record<string, unknown> => ({
  actions: t.actions,
  conditional: t.conditional,
  // Which Allow statements of the trust policy grant it: `grantline access explain` names them.
  statements: t.statements,
  ...(t.conditions === null ? {} : { conditions: t.conditions }),
});
