import {
  DescribePermissionSetCommand,
  GetInlinePolicyForPermissionSetCommand,
  ListCustomerManagedPolicyReferencesInPermissionSetCommand,
  ListManagedPoliciesInPermissionSetCommand,
} from "@aws-sdk/client-sso-admin";
import { PermanentError } from "@grantline/contracts";
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
 * The composite `sso-admin DescribePermissionSet` page: the permission set with its managed and customer-managed
 * policies and its inline policy, from four calls, cached by ARN so repeated runs and every replica skip them
 * while the cache holds the page.
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
  const hit = (await cache.getMany([arn])).get(arn);
  if (hit && typeof hit === "object") return hit as Record<string, unknown>;
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
  const page = toJsonPage({
    PermissionSet: described.PermissionSet ?? null,
    ManagedPolicies: managed,
    CustomerManagedPolicyReferences: customer,
    InlinePolicy: inline.InlinePolicy ? inline.InlinePolicy : null,
  });
  await cache.setMany([[arn, page]]);
  return page;
}
