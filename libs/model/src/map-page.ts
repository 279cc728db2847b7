import {
  PermanentError,
  isOperation,
  operationKey,
  type Operation,
  type PageResult,
  type ResultBatch,
} from "@grantline/contracts";
import {
  mapDescribeOrganization,
  mapListAccounts,
  mapListOrganizationalUnitsForParent,
  mapListParents,
  mapListRoots,
} from "./aws/organizations.ts";
import {
  mapDescribePermissionSet,
  mapListAccountAssignments,
  mapListAccountAssignmentsForPrincipal,
  mapListAccountsForProvisionedPermissionSet,
  mapListInstances,
  mapListPermissionSets,
} from "./aws/identity-center.ts";
import { mapDescribePolicy, mapListPolicies, mapListTargetsForPolicy } from "./aws/org-policies.ts";
import { mapListGroupMemberships, mapListGroups, mapListUsers } from "./aws/identity-store.ts";
import { mapGetCallerIdentity, mapListAccountAliases } from "./aws/iam-account-requests.ts";
import { mapGetAccessKeyLastUsed, mapListAccessKeys } from "./aws/map-access-keys.ts";
import { mapGetAccountAuthorizationDetails } from "./aws/map-get-account-authorization-details.ts";
import { skippedBatch } from "./aws/page-helpers.ts";
import { mapDiagPage } from "./diag.ts";
import { mapLookupEvents } from "./feeds/map-lookup-events.ts";

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
  "sts.GetCallerIdentity": mapGetCallerIdentity,
  "iam.GetAccountAuthorizationDetails": mapGetAccountAuthorizationDetails,
  "iam.ListAccessKeys": mapListAccessKeys,
  "iam.GetAccessKeyLastUsed": mapGetAccessKeyLastUsed,
  "iam.ListAccountAliases": mapListAccountAliases,
  "cloudtrail.LookupEvents": mapLookupEvents,
};

/** Maps a raw page to its batch; an operation nobody maps is a permanent error (dead letter), not a retry. */
export function mapPage(result: PageResult): ResultBatch {
  // Runtime input: the schema already refuses operations outside the catalog, but a caller may skip it.
  const key = operationKey(result.request.service, result.request.operation);
  if (!isOperation(key)) throw new PermanentError("unknown-operation", `no mapper for ${key}`);
  if (result.skipped !== null) return skippedBatch(result);
  return MAPPERS[key](result);
}
