export { actionMatches } from "./action-matches.ts";
export { resourceMatches } from "./resource-matches.ts";
export {
  ASSUME_ACTIONS,
  classifyAwsPrincipal,
  classifyFederated,
  type AssumeAction,
  type PrincipalRef,
} from "./classify-principal.ts";
export { trustConditions, type TrustConditions } from "./trust-conditions.ts";
export { fingerprint, fingerprintExternalIds } from "./fingerprint-external-ids.ts";
export { evaluateTrust, trustDenies, type TrustEvaluation, type TrustedPrincipal } from "./evaluate-trust.ts";
export {
  evaluateIdentity,
  type Decision,
  type DecidingStatement,
  type PolicyRef,
} from "./evaluate-identity.ts";
export { parsePolicy, PolicyStatement, type PolicyInput, type ParsedPolicy } from "./policy-document.ts";
