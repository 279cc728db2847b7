import { z } from "zod";
import type { ServiceName } from "./messages.ts";

/**
 * The catalog: every page operation a `PageRequest` may name, keyed `service.operation`. Each has a mapper
 * (libs/model `MAPPERS`) and, but the built-in diag one, an AWS spec (libs/aws); both are total maps over
 * `Operation`, so an operation added here without its mapper or spec fails typecheck, not a run. A page request
 * naming anything else fails its schema at the boundary.
 *
 * AWS calls that are not pages of the pipeline are not here: the sub-calls of the composites
 * (`sso-admin.DescribePermissionSet`, the targeted `iam.Refresh*` of one IAM entity), and the calls libs/aws keeps for routes no task takes yet.
 */
export const OPERATIONS = [
  "diag.Pages",
  "organizations.DescribeOrganization",
  "organizations.ListRoots",
  "organizations.ListOrganizationalUnitsForParent",
  "organizations.ListAccounts",
  "organizations.ListParents",
  "organizations.DescribeAccount",
  "organizations.ListPolicies",
  "organizations.DescribePolicy",
  "organizations.ListTargetsForPolicy",
  "sso-admin.ListInstances",
  "sso-admin.ListPermissionSets",
  "sso-admin.DescribePermissionSet",
  "sso-admin.ListAccountsForProvisionedPermissionSet",
  "sso-admin.ListAccountAssignments",
  "sso-admin.ListAccountAssignmentsForPrincipal",
  "identitystore.ListUsers",
  "identitystore.ListGroups",
  "identitystore.ListGroupMemberships",
  "identitystore.DescribeUser",
  "identitystore.DescribeGroup",
  "sts.GetCallerIdentity",
  "iam.GetAccountAuthorizationDetails",
  "iam.ListAccessKeys",
  "iam.GetAccessKeyLastUsed",
  "iam.ListAccountAliases",
  "cloudtrail.LookupEvents",
  "cloudtrail.PollFeeds",
  "iam.RefreshRole",
  "iam.RefreshUser",
  "iam.RefreshGroup",
  "iam.RefreshPolicy",
] as const satisfies ReadonlyArray<`${ServiceName}.${string}`>;

export const Operation = z.enum(OPERATIONS);
export type Operation = z.infer<typeof Operation>;

/** The catalog's operations served by AWS: all but the built-in diag service's. */
export type AwsOperation = Exclude<Operation, `diag.${string}`>;

/** The service an operation is addressed to. */
export type ServiceOf<O extends Operation> = O extends `${infer S extends ServiceName}.${string}` ? S : never;

/** The operation names (the `operation` of a page request) the catalog has for service `S`. */
export type OperationName<S extends ServiceName = ServiceName> =
  Extract<Operation, `${S}.${string}`> extends `${S}.${infer N}` ? N : never;

/** The catalog key of a request's service and operation. */
export function operationKey(service: string, operation: string): string {
  return `${service}.${operation}`;
}

const known: ReadonlySet<string> = new Set(OPERATIONS);

/** True when `key` (`service.operation`) is in the catalog. */
export function isOperation(key: string): key is Operation {
  return known.has(key);
}
