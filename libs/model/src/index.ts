/**
 * The resource model: what each page becomes (pure mappers), and the root tasks of a run. No I/O.
 *
 * @example
 * const batch = mapPage(pageResult); // resources, entitlements, grants, child page requests
 */
export { mapPage } from "./map-page.ts";
export type { PageMapper } from "./map-page.ts";
export { rootRequests } from "./root-requests.ts";
export type { RootSource, RunPlan } from "./root-requests.ts";
export { diagPage, diagParams, diagRoot, mapDiagPage } from "./diag.ts";
export type { DiagPagesParams } from "./diag.ts";
export {
  accountPermissionSetEntitlementId,
  assignmentScope,
  chooseAssignmentRoute,
  principalAssignmentScope,
} from "./aws/identity-center.ts";
export type { AssignmentCounts, AssignmentRoute } from "./aws/identity-center.ts";
export { groupMemberEntitlementId } from "./aws/identity-store.ts";
export { grantId, entitlementId } from "./aws/page-helpers.ts";
export {
  classifyAwsPrincipal,
  decodePolicy,
  iamAliasScope,
  iamGroupMemberEntitlementId,
  iamKeysScope,
  iamPolicyAttachedEntitlementId,
  iamRoleAssignmentEntitlementId,
  iamScope,
  inlinePolicyAttachedEntitlementId,
  inlinePolicyId,
  trustPrincipals,
} from "./aws/iam.ts";
