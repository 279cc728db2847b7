/**
 * The resource model: what each page becomes (pure mappers), and the root tasks of a run. No I/O.
 *
 * @example
 * const batch = mapPage(pageResult); // resources, entitlements, grants, child page requests
 */
export { MAPPERS, mapPage } from "./map-page.ts";
export { DEFAULT_MAX_BATCH_ROWS, splitBatch } from "./split-batch.ts";
export type { PageMapper } from "./map-page.ts";
export { rootRequests } from "./root-requests.ts";
export type { RootSource, RunPlan } from "./root-requests.ts";
export { BYPASS_CACHE_PARAM, refreshRequests } from "./refresh-requests.ts";
export type { RefreshBase } from "./refresh-requests.ts";
export { diagPage, diagParams, diagRoot, mapDiagPage } from "./diag.ts";
export type { DiagPagesParams } from "./diag.ts";
export { chooseAssignmentRoute } from "./aws/identity-center.ts";
export type { AssignmentCounts, AssignmentRoute } from "./aws/identity-center.ts";
export {
  accountPermissionSetEntitlementId,
  assignmentScope,
  diagScope,
  entitlementId,
  grantId,
  groupMemberEntitlementId,
  groupMembershipsScope,
  iamAliasScope,
  iamGroupMemberEntitlementId,
  iamKeysScope,
  iamPolicyAttachedEntitlementId,
  iamRoleAssignmentEntitlementId,
  iamScope,
  identityStoreGroupsScope,
  identityStoreUsersScope,
  inlinePolicyAttachedEntitlementId,
  inlinePolicyId,
  orgPolicyAttachedEntitlementId,
  principalAssignmentScope,
} from "./ids.ts";
export { dueExpiries, endHolds, STANDING_HOLDER } from "./provisioning/grant-holders.ts";
export type { Holder, HoldEnding } from "./provisioning/grant-holders.ts";
export { decodePolicy } from "./aws/decode-policy.ts";
export { classifyAwsPrincipal, trustPrincipals } from "./aws/trust-principals.ts";
export {
  CLOUDTRAIL_HORIZON_MS,
  NO_COUNTS,
  addPage,
  commitWindow,
  decodeSeen,
  encodeSeen,
  initialCursor,
  nextPollDelay,
  nextQuietPolls,
  startWindow,
} from "./feeds/feed-window.ts";
export type {
  CommittedCursor,
  FeedTiming,
  FeedWindow,
  PageCounts,
  PollTiming,
  SeenEvent,
  WindowIntent,
} from "./feeds/feed-window.ts";
export { GLOBAL_EVENTS_REGION, feedPollRequest, sourceFeeds } from "./feeds/source-feeds.ts";
export type { FeedSpec, SourceFeedsInput } from "./feeds/source-feeds.ts";
export { mapLookupEvents, classifyLookupEvent } from "./feeds/map-lookup-events.ts";
export { parseChangeRecord } from "./feeds/parse-change-record.ts";
export { permissionSetsChangedIn } from "./feeds/permission-sets-changed-in.ts";
export { IGNORED, translateRecord, translatedEvents } from "./feeds/translate-record.ts";
export type { Translation, TranslationContext } from "./feeds/translate-record.ts";
export { iamRefreshRequests } from "./aws/iam-refresh.ts";
export type { IamRefreshBase, IamRefreshIntent } from "./aws/iam-refresh.ts";
