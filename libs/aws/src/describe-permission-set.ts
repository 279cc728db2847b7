import {
  DescribePermissionSetCommand,
  GetInlinePolicyForPermissionSetCommand,
  GetPermissionsBoundaryForPermissionSetCommand,
  ListCustomerManagedPolicyReferencesInPermissionSetCommand,
  ListManagedPoliciesInPermissionSetCommand,
} from "@aws-sdk/client-sso-admin";
import { PermanentError } from "@grantline/contracts";
import { awsErrorCode } from "./classify-aws-error.ts";
import { toJsonPage } from "./operations.ts";
import type { CommandCtor, DescribePermissionSetCall } from "./operations.ts";

/**
 * The part of a shared JSON cache the permission-set page uses: `createJsonCache` of `@grantline/redis` is one
 * (create it with the prefix `"aws:ps:"` and the TTL permission sets may be reused for). Declared here rather
 * than imported so that AWS code does not depend on Redis. A cache that is unavailable must miss, not throw.
 */
export interface JsonCache {
  /** Values found for `keys`; missing or unreadable entries are absent. */
  getMany(keys: readonly string[]): Promise<Map<string, unknown>>;
  /** Stores each value for the cache's lifetime. */
  setMany(entries: Iterable<readonly [string, unknown]>): Promise<void>;
}

/** One budgeted SSO Admin call of the request being served. */
export type SsoAdminCall = (
  operation: DescribePermissionSetCall,
  command: CommandCtor,
  input: Record<string, unknown>,
) => Promise<unknown>;

const ctor = (c: new (input: never) => object): CommandCtor => c as unknown as CommandCtor;

/**
 * The version of a cached page's shape: an entry of another version (written by a fetcher that predates a member,
 * e.g. `PermissionsBoundary`, added in version 2) is a miss, so an upgrade never serves a page without it.
 */
const CACHE_VERSION = 2;

/**
 * A request param (not an AWS input member, so the SDK ignores it) that makes the composite read AWS and
 * overwrite its cache entry instead of answering from it. Duplicated as a literal in libs/model (which does not
 * depend on libs/aws): `refreshRequests` sets it.
 */
export const BYPASS_CACHE_PARAM = "BypassCache";

/**
 * The composite `sso-admin DescribePermissionSet` page: the permission set with its managed and customer-managed
 * policies, its inline policy and its permissions boundary, from five calls, cached by ARN so repeated runs and
 * every replica skip them while the cache holds the page.
 */
export async function describePermissionSet(
  params: Record<string, unknown>,
  cache: JsonCache,
  call: SsoAdminCall,
): Promise<Record<string, unknown>> {
  const arn = params.PermissionSetArn;
  const instanceArn = params.InstanceArn;
  if (typeof arn !== "string" || typeof instanceArn !== "string") {
    throw new PermanentError(
      "invalid-params",
      "sso-admin DescribePermissionSet needs string params InstanceArn and PermissionSetArn",
    );
  }
  // A targeted refresh (a feed saw the set change) must learn the new state: it reads AWS and overwrites the entry.
  const hit =
    params[BYPASS_CACHE_PARAM] === true
      ? undefined
      : ((await cache.getMany([arn])).get(arn) as { v?: unknown; page?: unknown } | undefined);
  if (hit && typeof hit === "object" && hit.v === CACHE_VERSION && typeof hit.page === "object" && hit.page)
    return hit.page as Record<string, unknown>;
  const base = { InstanceArn: instanceArn, PermissionSetArn: arn };
  const described = (await call("DescribePermissionSet", ctor(DescribePermissionSetCommand), base)) as {
    PermissionSet?: unknown;
  };
  const all = async (
    operation: DescribePermissionSetCall,
    command: CommandCtor,
    member: string,
  ): Promise<unknown[]> => {
    const items: unknown[] = [];
    let token: string | undefined;
    do {
      const out = (await call(operation, command, {
        ...base,
        MaxResults: 100,
        ...(token ? { NextToken: token } : {}),
      })) as Record<string, unknown>;
      const got = out[member];
      if (Array.isArray(got)) items.push(...(got as unknown[]));
      token = typeof out.NextToken === "string" && out.NextToken ? out.NextToken : undefined;
    } while (token);
    return items;
  };
  const managed = await all(
    "ListManagedPoliciesInPermissionSet",
    ctor(ListManagedPoliciesInPermissionSetCommand),
    "AttachedManagedPolicies",
  );
  const customer = await all(
    "ListCustomerManagedPolicyReferencesInPermissionSet",
    ctor(ListCustomerManagedPolicyReferencesInPermissionSetCommand),
    "CustomerManagedPolicyReferences",
  );
  const inline = (await call(
    "GetInlinePolicyForPermissionSet",
    ctor(GetInlinePolicyForPermissionSetCommand),
    base,
  )) as { InlinePolicy?: string };
  const boundary = await permissionsBoundary(call, base);
  const page = toJsonPage({
    PermissionSet: described.PermissionSet ?? null,
    ManagedPolicies: managed,
    CustomerManagedPolicyReferences: customer,
    InlinePolicy: inline.InlinePolicy ? inline.InlinePolicy : null,
    PermissionsBoundary: boundary,
  });
  await cache.setMany([[arn, { v: CACHE_VERSION, page }]]);
  return page;
}

/**
 * The set's boundary, or null when it has none: AWS answers that with ResourceNotFoundException rather than an
 * empty result. The set itself was described a moment ago, so here the error means "no boundary", not "no set".
 */
async function permissionsBoundary(call: SsoAdminCall, base: Record<string, unknown>): Promise<unknown> {
  try {
    const out = (await call(
      "GetPermissionsBoundaryForPermissionSet",
      ctor(GetPermissionsBoundaryForPermissionSetCommand),
      base,
    )) as { PermissionsBoundary?: unknown };
    return out.PermissionsBoundary ?? null;
  } catch (err) {
    if (awsErrorCode(err) === "ResourceNotFoundException") return null;
    throw err;
  }
}
