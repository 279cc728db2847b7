import {
  PermanentError,
  isOperation,
  operationKey,
  type Operation,
  type PageResult,
  type ResultBatch,
} from "@grantline/contracts";
import {
  mapDescribeAccount,
  mapDescribeOrganization,
  mapListAccounts,
  mapListOrganizationalUnitsForParent,
  mapListParents,
  mapListRoots,
  mapVanishedAccount,
} from "./aws/organizations.ts";
import {
  mapDescribePermissionSet,
  mapVanishedPermissionSet,
  mapListAccountAssignments,
  mapListAccountAssignmentsForPrincipal,
  mapListAccountsForProvisionedPermissionSet,
  mapListInstances,
  mapListPermissionSets,
} from "./aws/identity-center.ts";
import {
  mapDescribePolicy,
  mapListPolicies,
  mapListTargetsForPolicy,
  mapVanishedPolicy,
} from "./aws/org-policies.ts";
import {
  mapDescribeGroup,
  mapDescribeUser,
  mapListGroupMemberships,
  mapListGroups,
  mapListUsers,
  mapVanishedGroup,
  mapVanishedUser,
} from "./aws/identity-store.ts";
import { mapGetCallerIdentity, mapListAccountAliases } from "./aws/iam-account-requests.ts";
import { mapGetAccessKeyLastUsed, mapListAccessKeys } from "./aws/map-access-keys.ts";
import { mapIamOwnerRefresh, mapIamPolicyRefresh } from "./aws/iam-refresh.ts";
import { mapGetAccountAuthorizationDetails } from "./aws/map-get-account-authorization-details.ts";
import { batchFor, skippedBatch } from "./aws/page-helpers.ts";
import { mapDiagPage } from "./diag.ts";
import { mapLookupEvents, mapPollFeeds } from "./feeds/map-lookup-events.ts";

export type PageMapper = (result: PageResult) => ResultBatch;

/**
 * Mappers by `service.operation`: one for every operation of the catalog (`Operation`, libs/contracts), so an
 * operation added there without a mapper here fails typecheck.
 */
export const MAPPERS: { readonly [K in Operation]: PageMapper } = {
  "diag.Pages": mapDiagPage,
  "organizations.DescribeOrganization": mapDescribeOrganization,
  "organizations.ListRoots": mapListRoots,
  "organizations.ListOrganizationalUnitsForParent": mapListOrganizationalUnitsForParent,
  "organizations.ListAccounts": mapListAccounts,
  "organizations.ListParents": mapListParents,
  "organizations.DescribeAccount": mapDescribeAccount,
  "organizations.ListPolicies": mapListPolicies,
  "organizations.DescribePolicy": mapDescribePolicy,
  "organizations.ListTargetsForPolicy": mapListTargetsForPolicy,
  "sso-admin.ListInstances": mapListInstances,
  "sso-admin.ListPermissionSets": mapListPermissionSets,
  "sso-admin.DescribePermissionSet": mapDescribePermissionSet,
  "sso-admin.ListAccountsForProvisionedPermissionSet": mapListAccountsForProvisionedPermissionSet,
  "sso-admin.ListAccountAssignments": mapListAccountAssignments,
  "sso-admin.ListAccountAssignmentsForPrincipal": mapListAccountAssignmentsForPrincipal,
  "identitystore.ListUsers": mapListUsers,
  "identitystore.ListGroups": mapListGroups,
  "identitystore.ListGroupMemberships": mapListGroupMemberships,
  "identitystore.DescribeUser": mapDescribeUser,
  "identitystore.DescribeGroup": mapDescribeGroup,
  "sts.GetCallerIdentity": mapGetCallerIdentity,
  "iam.GetAccountAuthorizationDetails": mapGetAccountAuthorizationDetails,
  "iam.ListAccessKeys": mapListAccessKeys,
  "iam.GetAccessKeyLastUsed": mapGetAccessKeyLastUsed,
  "iam.ListAccountAliases": mapListAccountAliases,
  "cloudtrail.LookupEvents": mapLookupEvents,
  "cloudtrail.PollFeeds": mapPollFeeds,
  "iam.RefreshRole": mapIamOwnerRefresh,
  "iam.RefreshUser": mapIamOwnerRefresh,
  "iam.RefreshGroup": mapIamOwnerRefresh,
  "iam.RefreshPolicy": mapIamPolicyRefresh,
};

/**
 * What a page whose object is gone (AWS answered NotFound: `skipped: "NotFound"`) means, where it says more than
 * "skip": a single object read by a targeted refresh is deleted (`objectSweeps`); a list of members or
 * assignments whose group or pair is gone is an empty list, so its scope sweep revokes what it held (the
 * source-wide sweep of a full run would have). Elsewhere a vanished page is skipped and its scope kept, as a
 * denied one is.
 */
const VANISHED: { readonly [K in Operation]?: PageMapper } = {
  "identitystore.DescribeUser": mapVanishedUser,
  "identitystore.DescribeGroup": mapVanishedGroup,
  "organizations.DescribeAccount": mapVanishedAccount,
  "organizations.DescribePolicy": mapVanishedPolicy,
  "sso-admin.DescribePermissionSet": mapVanishedPermissionSet,
  "identitystore.ListGroupMemberships": emptyPage,
  "sso-admin.ListAccountAssignments": emptyPage,
};

function emptyPage(res: PageResult): ResultBatch {
  return batchFor({ ...res, page: {} }, {});
}

/** Maps a raw page to its batch; an operation nobody maps is a permanent error (dead letter), not a retry. */
export function mapPage(result: PageResult): ResultBatch {
  // Runtime input: the schema already refuses operations outside the catalog, but a caller may skip it.
  const key = operationKey(result.request.service, result.request.operation);
  if (!isOperation(key)) throw new PermanentError("unknown-operation", `no mapper for ${key}`);
  if (result.skipped === "NotFound") return (VANISHED[key] ?? skippedBatch)(result);
  if (result.skipped !== null) return skippedBatch(result);
  return MAPPERS[key](result);
}
