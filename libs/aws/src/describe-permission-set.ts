import {
  DescribePermissionSetCommand,
  GetInlinePolicyForPermissionSetCommand,
  GetPermissionsBoundaryForPermissionSetCommand,
  ListCustomerManagedPolicyReferencesInPermissionSetCommand,
  ListManagedPoliciesInPermissionSetCommand,
} from "@aws-sdk/client-sso-admin";
import { z } from "zod";
import { PermanentError } from "@grantline/contracts";
import type { Logger } from "@grantline/log";
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
 * A cache entry as the fetcher writes it. Anyone who can write to Redis can write an entry, so one that does not
 * have this shape — or describes another permission set than the key's (a harmless set's page copied under
 * AdministratorAccess's ARN) — is refused: a miss, with a warning, and AWS is read again.
 */
const PermissionSetCacheEntry = z.object({
  v: z.literal(CACHE_VERSION),
  page: z.object({
    PermissionSet: z.looseObject({ PermissionSetArn: z.string() }),
    ManagedPolicies: z.array(z.looseObject({ Arn: z.string() })),
    CustomerManagedPolicyReferences: z.array(z.looseObject({ Name: z.string() })),
    InlinePolicy: z.string().nullable(),
    PermissionsBoundary: z.record(z.string(), z.unknown()).nullable(),
  }),
});

/** The cached page of `arn`, or undefined when there is none or it is refused. */
function cachedPage(
  arn: string,
  hit: unknown,
  logger: Pick<Logger, "warn"> | undefined,
): Record<string, unknown> | undefined {
  if (hit === undefined) return undefined;
  // Another version is an upgrade's leftover, not a forgery: a quiet miss.
  if (typeof hit === "object" && hit !== null && (hit as { v?: unknown }).v !== CACHE_VERSION)
    return undefined;
  const r = PermissionSetCacheEntry.safeParse(hit);
  const problem = !r.success
    ? z.prettifyError(r.error).split("\n").slice(0, 3).join("; ")
    : r.data.page.PermissionSet.PermissionSetArn !== arn
      ? `it describes ${r.data.page.PermissionSet.PermissionSetArn}`
      : null;
  if (problem === null) return (hit as { page: Record<string, unknown> }).page;
  logger?.warn({ permissionSetArn: arn, problem }, "permission-set cache entry refused; reading AWS");
  return undefined;
}

/**
 * The composite `sso-admin DescribePermissionSet` page: the permission set with its managed and customer-managed
 * policies, its inline policy and its permissions boundary, from five calls, cached by ARN so repeated runs and
 * every replica skip them while the cache holds the page. The page is trusted until its entry's TTL lapses, a
 * feed page shows the set changed (the fetcher deletes the entry: `withPermissionSetInvalidation`), or a targeted
 * refresh bypasses and overwrites it (docs/freshness.md, "Feeds and the permission-set cache").
 */
export async function describePermissionSet(
  params: Record<string, unknown>,
  cache: JsonCache,
  call: SsoAdminCall,
  logger?: Pick<Logger, "warn">,
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
  const hit = params[BYPASS_CACHE_PARAM] === true ? undefined : (await cache.getMany([arn])).get(arn);
  const cached = cachedPage(arn, hit, logger);
  if (cached) return cached;
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
  // Only an entry this fetcher would accept back is stored (AWS answering with no permission set is not).
  if (PermissionSetCacheEntry.safeParse({ v: CACHE_VERSION, page }).success)
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
