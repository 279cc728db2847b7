import { PermanentError, type PageResult, type ResultBatch } from "@grantline/contracts";
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
import { mapListGroupMemberships, mapListGroups, mapListUsers } from "./aws/identity-store.ts";
import {
  mapGetAccessKeyLastUsed,
  mapGetAccountAuthorizationDetails,
  mapGetCallerIdentity,
  mapListAccessKeys,
  mapListAccountAliases,
} from "./aws/iam.ts";
import { skippedBatch } from "./aws/page-helpers.ts";
import { mapDiagPage } from "./diag.ts";

export type PageMapper = (result: PageResult) => ResultBatch;

/** Mappers by `service.operation`. Adding an AWS operation means adding a pure function here. */
const MAPPERS: Record<string, PageMapper> = {
  "diag.Pages": mapDiagPage,
  "organizations.DescribeOrganization": mapDescribeOrganization,
  "organizations.ListRoots": mapListRoots,
  "organizations.ListOrganizationalUnitsForParent": mapListOrganizationalUnitsForParent,
  "organizations.ListAccounts": mapListAccounts,
  "organizations.ListParents": mapListParents,
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
};

/** Maps a raw page to its batch; an operation nobody maps is a permanent error (dead letter), not a retry. */
export function mapPage(result: PageResult): ResultBatch {
  const key = `${result.request.service}.${result.request.operation}`;
  const mapper = MAPPERS[key];
  if (!mapper) throw new PermanentError("unknown-operation", `no mapper for ${key}`);
  if (result.skipped !== null) return skippedBatch(result);
  return mapper(result);
}
