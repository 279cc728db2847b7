import * as ct from "@aws-sdk/client-cloudtrail";
import * as iam from "@aws-sdk/client-iam";
import * as ids from "@aws-sdk/client-identitystore";
import * as org from "@aws-sdk/client-organizations";
import * as sso from "@aws-sdk/client-sso-admin";
import * as sts from "@aws-sdk/client-sts";
import type { AwsOperation, Operation } from "@grantline/contracts";
import type { BudgetService } from "./budgets.ts";
import type { LIST_DETAILS } from "./list-with-details.ts";
import type { IamRefreshComposite } from "./refresh-iam-entity.ts";

/** Any SDK v3 command, built from its input. */
export type CommandCtor = new (input: Record<string, unknown>) => object;

export interface Paging {
  /** Input member carrying the page token (the output member has the same name). */
  token: "NextToken" | "Marker";
  /** Input member carrying the page size. */
  size: "MaxResults" | "MaxItems";
  /** The service's largest page; also the default. */
  max: number;
}

export interface OperationSpec {
  service: BudgetService;
  operation: string;
  command: CommandCtor;
  paging?: Paging;
  /** Params that the SDK wants as `Date` (JSON carries ISO strings). */
  dateParams?: readonly string[];
  /**
   * Served by several calls instead of `command` (see `describePermissionSet`, `listWithDetails`,
   * `refreshIamEntity`).
   */
  composite?: "DescribePermissionSet" | keyof typeof LIST_DETAILS | "PollFeeds" | IamRefreshComposite;
  /** Param naming the Region the call is made in (the source's when absent); never sent to AWS. */
  regionParam?: string;
}

const asCtor = (c: new (input: never) => object): CommandCtor => c as unknown as CommandCtor;

const IAM: Paging = { token: "Marker", size: "MaxItems", max: 1000 };
const SSO: Paging = { token: "NextToken", size: "MaxResults", max: 100 };
const IDS: Paging = { token: "NextToken", size: "MaxResults", max: 100 };
const ORG: Paging = { token: "NextToken", size: "MaxResults", max: 20 };
const TRAIL: Paging = { token: "NextToken", size: "MaxResults", max: 50 };

/** What a spec adds to its `service.operation` key. */
interface SpecParts {
  command: new (input: never) => object;
  paging?: Paging;
  dateParams?: readonly string[];
  composite?: OperationSpec["composite"];
  regionParam?: string;
}

/**
 * A spec for every AWS operation of the catalog (libs/contracts `Operation`): a total map, so an operation
 * added to the catalog without a spec here fails typecheck.
 */
const PAGE_SPECS: { readonly [K in AwsOperation]: SpecParts } = {
  "organizations.DescribeOrganization": { command: org.DescribeOrganizationCommand },
  "organizations.ListRoots": { command: org.ListRootsCommand, paging: ORG },
  "organizations.ListOrganizationalUnitsForParent": {
    command: org.ListOrganizationalUnitsForParentCommand,
    paging: ORG,
  },
  // Each listed account's parent comes with the page (list-with-details.ts).
  "organizations.ListAccounts": { command: org.ListAccountsCommand, paging: ORG, composite: "ListAccounts" },
  "organizations.ListParents": { command: org.ListParentsCommand, paging: ORG },
  "organizations.DescribeAccount": { command: org.DescribeAccountCommand },
  "organizations.ListPolicies": { command: org.ListPoliciesCommand, paging: ORG },
  "organizations.DescribePolicy": { command: org.DescribePolicyCommand },
  "organizations.ListTargetsForPolicy": { command: org.ListTargetsForPolicyCommand, paging: ORG },
  "sso-admin.ListInstances": { command: sso.ListInstancesCommand, paging: SSO },
  "sso-admin.ListPermissionSets": { command: sso.ListPermissionSetsCommand, paging: SSO },
  "sso-admin.DescribePermissionSet": {
    command: sso.DescribePermissionSetCommand,
    composite: "DescribePermissionSet",
  },
  // Each listed account's assignments of the set come with the page (list-with-details.ts).
  "sso-admin.ListAccountsForProvisionedPermissionSet": {
    command: sso.ListAccountsForProvisionedPermissionSetCommand,
    paging: SSO,
    composite: "ListAccountsForProvisionedPermissionSet",
  },
  "sso-admin.ListAccountAssignments": { command: sso.ListAccountAssignmentsCommand, paging: SSO },
  "sso-admin.ListAccountAssignmentsForPrincipal": {
    command: sso.ListAccountAssignmentsForPrincipalCommand,
    paging: SSO,
  },
  "identitystore.ListUsers": { command: ids.ListUsersCommand, paging: IDS },
  // Each listed group's members come with the page (list-with-details.ts).
  "identitystore.ListGroups": { command: ids.ListGroupsCommand, paging: IDS, composite: "ListGroups" },
  "identitystore.ListGroupMemberships": { command: ids.ListGroupMembershipsCommand, paging: IDS },
  "identitystore.DescribeUser": { command: ids.DescribeUserCommand },
  "identitystore.DescribeGroup": { command: ids.DescribeGroupCommand },
  "iam.GetAccountAuthorizationDetails": { command: iam.GetAccountAuthorizationDetailsCommand, paging: IAM },
  // Each listed key's last use comes with the page (list-with-details.ts).
  "iam.ListAccessKeys": { command: iam.ListAccessKeysCommand, paging: IAM, composite: "ListAccessKeys" },
  "iam.GetAccessKeyLastUsed": { command: iam.GetAccessKeyLastUsedCommand },
  "iam.ListAccountAliases": { command: iam.ListAccountAliasesCommand, paging: IAM },
  // Targeted refreshes of one IAM entity (refresh-iam-entity.ts): `command` is the composite's first call.
  "iam.RefreshRole": { command: iam.GetRoleCommand, composite: "RefreshRole" },
  "iam.RefreshUser": { command: iam.GetUserCommand, composite: "RefreshUser" },
  "iam.RefreshGroup": { command: iam.GetGroupCommand, composite: "RefreshGroup" },
  "iam.RefreshPolicy": { command: iam.GetPolicyCommand, composite: "RefreshPolicy" },
  "sts.GetCallerIdentity": { command: sts.GetCallerIdentityCommand },
  // A feed reads the Region its events are recorded in (IAM and Organizations: us-east-1), not the source's.
  "cloudtrail.LookupEvents": {
    command: ct.LookupEventsCommand,
    paging: TRAIL,
    dateParams: ["StartTime", "EndTime"],
    regionParam: "Region",
  },
  // Several feeds' LookupEvents, each in its own account and Region (create-aws-executor.ts pollFeeds).
  "cloudtrail.PollFeeds": { command: ct.LookupEventsCommand, composite: "PollFeeds" },
};

/**
 * AWS calls the executor serves that no page of the pipeline names: not in the catalog, no mapper. They are
 * kept for routes not built yet (per-entity IAM fallbacks, per-account permission set discovery, group
 * memberships per member) and the sync policy grants them (deploy/aws). A page
 * request naming one fails its schema at the boundary, so only a direct caller of the executor reaches them.
 */
const RESERVED_SPECS = {
  "sso-admin.ListPermissionSetsProvisionedToAccount": {
    command: sso.ListPermissionSetsProvisionedToAccountCommand,
    paging: SSO,
  },
  "identitystore.ListGroupMembershipsForMember": {
    command: ids.ListGroupMembershipsForMemberCommand,
    paging: IDS,
  },
  "iam.ListUsers": { command: iam.ListUsersCommand, paging: IAM },
  "iam.ListGroups": { command: iam.ListGroupsCommand, paging: IAM },
  "iam.GetUser": { command: iam.GetUserCommand },
  "iam.ListGroupsForUser": { command: iam.ListGroupsForUserCommand, paging: IAM },
  "iam.GetGroup": { command: iam.GetGroupCommand, paging: IAM },
  "iam.ListRoles": { command: iam.ListRolesCommand, paging: IAM },
  "iam.GetRole": { command: iam.GetRoleCommand },
  "iam.ListPolicies": { command: iam.ListPoliciesCommand, paging: IAM },
  "iam.GetPolicy": { command: iam.GetPolicyCommand },
  "iam.GetPolicyVersion": { command: iam.GetPolicyVersionCommand },
  "iam.ListAttachedUserPolicies": { command: iam.ListAttachedUserPoliciesCommand, paging: IAM },
  "iam.ListAttachedGroupPolicies": { command: iam.ListAttachedGroupPoliciesCommand, paging: IAM },
  "iam.ListAttachedRolePolicies": { command: iam.ListAttachedRolePoliciesCommand, paging: IAM },
  "iam.ListUserPolicies": { command: iam.ListUserPoliciesCommand, paging: IAM },
  "iam.ListGroupPolicies": { command: iam.ListGroupPoliciesCommand, paging: IAM },
  "iam.ListRolePolicies": { command: iam.ListRolePoliciesCommand, paging: IAM },
  "iam.GetUserPolicy": { command: iam.GetUserPolicyCommand },
  "iam.GetGroupPolicy": { command: iam.GetGroupPolicyCommand },
  "iam.GetRolePolicy": { command: iam.GetRolePolicyCommand },
} as const satisfies { readonly [K in Operation]?: never } & Record<`${BudgetService}.${string}`, SpecParts>;

/** An AWS call the executor serves that is not a page of the pipeline (see `RESERVED_SPECS`). */
export type ReservedAwsCall = keyof typeof RESERVED_SPECS;

/**
 * The sso-admin calls one composite `sso-admin.DescribePermissionSet` page is made of: internal to it, never
 * pages of their own (the policy must still allow each).
 */
export const DESCRIBE_PERMISSION_SET_CALLS = [
  "DescribePermissionSet",
  "ListManagedPoliciesInPermissionSet",
  "ListCustomerManagedPolicyReferencesInPermissionSet",
  "GetInlinePolicyForPermissionSet",
  "GetPermissionsBoundaryForPermissionSet",
] as const;
export type DescribePermissionSetCall = (typeof DESCRIBE_PERMISSION_SET_CALLS)[number];

function spec(key: AwsOperation | ReservedAwsCall, parts: SpecParts): OperationSpec {
  const dot = key.indexOf(".");
  return {
    service: key.slice(0, dot) as BudgetService,
    operation: key.slice(dot + 1),
    command: asCtor(parts.command),
    ...(parts.paging ? { paging: parts.paging } : {}),
    ...(parts.dateParams ? { dateParams: parts.dateParams } : {}),
    ...(parts.composite ? { composite: parts.composite } : {}),
    ...(parts.regionParam ? { regionParam: parts.regionParam } : {}),
  };
}

/**
 * Every call the executor serves, keyed `service.operation` (e.g. `iam.ListUsers`): the catalog's AWS
 * operations, then the reserved calls.
 */
export const OPERATIONS: ReadonlyMap<AwsOperation | ReservedAwsCall, OperationSpec> = new Map(
  [
    ...(Object.entries(PAGE_SPECS) as Array<[AwsOperation, SpecParts]>),
    ...(Object.entries(RESERVED_SPECS) as Array<[ReservedAwsCall, SpecParts]>),
  ].map(([key, parts]) => [key, spec(key, parts)]),
);

/** The operation `service.operation`, or undefined when it is not served. */
export function findOperation(service: string, operation: string): OperationSpec | undefined {
  return (OPERATIONS as ReadonlyMap<string, OperationSpec>).get(`${service}.${operation}`);
}

/**
 * The SDK input for one page: the request's params, the page token in the operation's token member and the page
 * size clamped to the service's maximum (the maximum when absent); ISO strings become `Date` where the SDK wants one.
 */
export function buildInput(
  spec: OperationSpec,
  params: Record<string, unknown>,
  pageToken: string | null,
): Record<string, unknown> {
  const input: Record<string, unknown> = { ...params };
  if (spec.paging) {
    const { token, size, max } = spec.paging;
    const asked = params[size];
    input[size] = typeof asked === "number" && asked >= 1 ? Math.min(Math.floor(asked), max) : max;
    if (pageToken) input[token] = pageToken;
    else delete input[token];
  }
  if (spec.regionParam) delete input[spec.regionParam];
  for (const name of spec.dateParams ?? []) {
    const v = input[name];
    if (typeof v === "string" || typeof v === "number") input[name] = new Date(v);
  }
  return input;
}

/** An SDK output as a JSON-safe page: `$metadata` dropped, Dates as ISO strings, bytes as base64, no undefined. */
export function toJsonPage(output: unknown): Record<string, unknown> {
  const v = jsonSafe(output);
  if (typeof v !== "object" || v === null || Array.isArray(v)) return {};
  const page = v as Record<string, unknown>;
  delete page.$metadata;
  return page;
}

function jsonSafe(v: unknown): unknown {
  if (v === null || v === undefined) return v;
  if (v instanceof Date) return v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Number.isFinite(v) ? v : null;
  if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : jsonSafe(x)));
  if (typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined || typeof x === "function") continue;
      out[k] = jsonSafe(x);
    }
    return out;
  }
  return v;
}
