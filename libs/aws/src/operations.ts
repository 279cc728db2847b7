import * as ct from "@aws-sdk/client-cloudtrail";
import * as iam from "@aws-sdk/client-iam";
import * as ids from "@aws-sdk/client-identitystore";
import * as org from "@aws-sdk/client-organizations";
import * as sso from "@aws-sdk/client-sso-admin";
import * as sts from "@aws-sdk/client-sts";
import type { BudgetService } from "./budgets.ts";

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
  /** Served by several calls instead of `command` (see `describePermissionSet`). */
  composite?: "DescribePermissionSet";
}

const asCtor = (c: new (input: never) => object): CommandCtor => c as unknown as CommandCtor;

const IAM: Paging = { token: "Marker", size: "MaxItems", max: 1000 };
const SSO: Paging = { token: "NextToken", size: "MaxResults", max: 100 };
const IDS: Paging = { token: "NextToken", size: "MaxResults", max: 100 };
const ORG: Paging = { token: "NextToken", size: "MaxResults", max: 20 };
const TRAIL: Paging = { token: "NextToken", size: "MaxResults", max: 50 };

function specs(
  service: BudgetService,
  list: Record<string, [new (input: never) => object, Paging?]>,
): OperationSpec[] {
  return Object.entries(list).map(([operation, [command, paging]]) => ({
    service,
    operation,
    command: asCtor(command),
    ...(paging ? { paging } : {}),
  }));
}

const ALL: OperationSpec[] = [
  ...specs("organizations", {
    DescribeOrganization: [org.DescribeOrganizationCommand],
    ListRoots: [org.ListRootsCommand, ORG],
    ListOrganizationalUnitsForParent: [org.ListOrganizationalUnitsForParentCommand, ORG],
    ListAccounts: [org.ListAccountsCommand, ORG],
    ListParents: [org.ListParentsCommand, ORG],
    DescribeAccount: [org.DescribeAccountCommand],
  }),
  ...specs("sso-admin", {
    ListInstances: [sso.ListInstancesCommand, SSO],
    ListPermissionSets: [sso.ListPermissionSetsCommand, SSO],
    ListAccountsForProvisionedPermissionSet: [sso.ListAccountsForProvisionedPermissionSetCommand, SSO],
    ListPermissionSetsProvisionedToAccount: [sso.ListPermissionSetsProvisionedToAccountCommand, SSO],
    ListAccountAssignments: [sso.ListAccountAssignmentsCommand, SSO],
    ListAccountAssignmentsForPrincipal: [sso.ListAccountAssignmentsForPrincipalCommand, SSO],
  }),
  {
    service: "sso-admin",
    operation: "DescribePermissionSet",
    command: asCtor(sso.DescribePermissionSetCommand),
    composite: "DescribePermissionSet",
  },
  ...specs("identitystore", {
    ListUsers: [ids.ListUsersCommand, IDS],
    ListGroups: [ids.ListGroupsCommand, IDS],
    ListGroupMemberships: [ids.ListGroupMembershipsCommand, IDS],
    ListGroupMembershipsForMember: [ids.ListGroupMembershipsForMemberCommand, IDS],
  }),
  ...specs("iam", {
    GetAccountAuthorizationDetails: [iam.GetAccountAuthorizationDetailsCommand, IAM],
    ListUsers: [iam.ListUsersCommand, IAM],
    ListGroups: [iam.ListGroupsCommand, IAM],
    GetGroup: [iam.GetGroupCommand, IAM],
    ListRoles: [iam.ListRolesCommand, IAM],
    GetRole: [iam.GetRoleCommand],
    ListPolicies: [iam.ListPoliciesCommand, IAM],
    GetPolicy: [iam.GetPolicyCommand],
    GetPolicyVersion: [iam.GetPolicyVersionCommand],
    ListAccessKeys: [iam.ListAccessKeysCommand, IAM],
    GetAccessKeyLastUsed: [iam.GetAccessKeyLastUsedCommand],
    ListAccountAliases: [iam.ListAccountAliasesCommand, IAM],
    ListAttachedUserPolicies: [iam.ListAttachedUserPoliciesCommand, IAM],
    ListAttachedGroupPolicies: [iam.ListAttachedGroupPoliciesCommand, IAM],
    ListAttachedRolePolicies: [iam.ListAttachedRolePoliciesCommand, IAM],
    ListUserPolicies: [iam.ListUserPoliciesCommand, IAM],
    ListGroupPolicies: [iam.ListGroupPoliciesCommand, IAM],
    ListRolePolicies: [iam.ListRolePoliciesCommand, IAM],
    GetUserPolicy: [iam.GetUserPolicyCommand],
    GetGroupPolicy: [iam.GetGroupPolicyCommand],
    GetRolePolicy: [iam.GetRolePolicyCommand],
  }),
  ...specs("sts", { GetCallerIdentity: [sts.GetCallerIdentityCommand] }),
  {
    service: "cloudtrail",
    operation: "LookupEvents",
    command: asCtor(ct.LookupEventsCommand),
    paging: TRAIL,
    dateParams: ["StartTime", "EndTime"],
  },
];

/** Every operation the executor serves, keyed `service.operation` (e.g. `iam.ListUsers`). */
export const OPERATIONS: ReadonlyMap<string, OperationSpec> = new Map(
  ALL.map((s) => [`${s.service}.${s.operation}`, s]),
);

/** The operation `service.operation`, or undefined when it is not served. */
export function findOperation(service: string, operation: string): OperationSpec | undefined {
  return OPERATIONS.get(`${service}.${operation}`);
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
