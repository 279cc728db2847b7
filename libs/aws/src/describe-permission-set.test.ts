import { afterAll, describe, expect, it } from "vitest";
import { ResourceNotFoundException } from "@aws-sdk/client-sso-admin";
import { createLogger } from "@grantline/log";
import { createJsonCache, createRedis } from "@grantline/redis";
import { testInfra, uniqueName } from "@grantline/testing";
import { BYPASS_CACHE_PARAM, describePermissionSet } from "./describe-permission-set.ts";
import type { DescribePermissionSetCall } from "./operations.ts";

const keyPrefix = `${uniqueName("dps")}:`;
const redis = createRedis({ url: testInfra().redisUrl, keyPrefix, name: "dps-test" });
const cache = createJsonCache(redis, {
  prefix: "aws:ps:",
  ttlSeconds: 60,
  logger: createLogger({ service: "dps-test", level: "silent" }),
});

afterAll(async () => {
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length) await redis.del(...keys.map((k) => k.slice(keyPrefix.length)));
  await redis.quit();
});

const InstanceArn = "arn:aws:sso:::instance/ssoins-1111111111111111";
const psArn = (n: string) => `arn:aws:sso:::permissionSet/ssoins-1111111111111111/ps-${n}`;

/**
 * SSO Admin's answers for one permission set, as the SDK returns them; `boundary` undefined means the set has
 * none, which AWS reports as ResourceNotFoundException.
 */
function ssoAdmin(boundary: Record<string, unknown> | undefined) {
  const calls: DescribePermissionSetCall[] = [];
  const call = (op: DescribePermissionSetCall, _cmd: unknown, input: Record<string, unknown>) => {
    calls.push(op);
    switch (op) {
      case "DescribePermissionSet":
        return Promise.resolve({
          PermissionSet: { Name: "Admin", PermissionSetArn: input.PermissionSetArn },
        });
      case "ListManagedPoliciesInPermissionSet":
        return Promise.resolve({ AttachedManagedPolicies: [] });
      case "ListCustomerManagedPolicyReferencesInPermissionSet":
        return Promise.resolve({ CustomerManagedPolicyReferences: [] });
      case "GetInlinePolicyForPermissionSet":
        return Promise.resolve({ InlinePolicy: "" });
      case "GetPermissionsBoundaryForPermissionSet":
        if (boundary) return Promise.resolve({ PermissionsBoundary: boundary, $metadata: {} });
        return Promise.reject(
          new ResourceNotFoundException({ message: "Could not find PermissionsBoundary", $metadata: {} }),
        );
    }
  };
  return { call, calls };
}

describe("describePermissionSet", () => {
  it("reads the permissions boundary: a managed ARN or a customer-managed reference, null when there is none", async () => {
    const managed = { ManagedPolicyArn: "arn:aws:iam::aws:policy/PowerUserAccess" };
    const a = await describePermissionSet(
      { InstanceArn, PermissionSetArn: psArn("a") },
      cache,
      ssoAdmin(managed).call,
    );
    expect(a.PermissionsBoundary).toEqual(managed);
    const ref = { CustomerManagedPolicyReference: { Name: "Boundary", Path: "/org/" } };
    const b = await describePermissionSet(
      { InstanceArn, PermissionSetArn: psArn("b") },
      cache,
      ssoAdmin(ref).call,
    );
    expect(b.PermissionsBoundary).toEqual(ref);
    const none = ssoAdmin(undefined);
    const c = await describePermissionSet({ InstanceArn, PermissionSetArn: psArn("c") }, cache, none.call);
    expect(c.PermissionsBoundary).toBeNull();
    expect(none.calls).toContain("GetPermissionsBoundaryForPermissionSet");
  });

  it("fails on any other boundary error rather than recording no boundary", async () => {
    const denied = async (op: DescribePermissionSetCall) => {
      if (op === "GetPermissionsBoundaryForPermissionSet")
        throw Object.assign(new Error("no"), { name: "AccessDeniedException" });
      return ssoAdmin(undefined).call(op, null, { PermissionSetArn: psArn("d") });
    };
    await expect(
      describePermissionSet({ InstanceArn, PermissionSetArn: psArn("d") }, cache, denied),
    ).rejects.toMatchObject({ name: "AccessDeniedException" });
  });

  it("serves its own cache entries, but treats an entry of the older shape (no boundary) as a miss", async () => {
    const arn = psArn("e");
    // What a fetcher before the boundary cached: the bare page.
    await cache.setMany([[arn, { PermissionSet: { Name: "Old" }, ManagedPolicies: [] }]]);
    const first = ssoAdmin({ ManagedPolicyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess" });
    const page = await describePermissionSet({ InstanceArn, PermissionSetArn: arn }, cache, first.call);
    expect(first.calls).toHaveLength(5);
    expect((page.PermissionSet as { Name: string }).Name).toBe("Admin");
    const second = ssoAdmin(undefined);
    expect(await describePermissionSet({ InstanceArn, PermissionSetArn: arn }, cache, second.call)).toEqual(
      page,
    );
    expect(second.calls).toEqual([]);
  });

  it("a refresh bypasses the cache and overwrites the entry with what AWS answers now", async () => {
    const arn = psArn("f");
    await describePermissionSet({ InstanceArn, PermissionSetArn: arn }, cache, ssoAdmin(undefined).call);
    const managed = { ManagedPolicyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess" };
    const fresh = ssoAdmin(managed);
    const page = await describePermissionSet(
      { InstanceArn, PermissionSetArn: arn, [BYPASS_CACHE_PARAM]: true },
      cache,
      fresh.call,
    );
    expect(fresh.calls).toHaveLength(5);
    expect(page.PermissionsBoundary).toEqual(managed);
    const later = ssoAdmin(undefined);
    const cached = await describePermissionSet({ InstanceArn, PermissionSetArn: arn }, cache, later.call);
    expect(later.calls).toEqual([]);
    expect(cached.PermissionsBoundary).toEqual(managed);
  });

  it("refuses an entry that fails its schema or describes another set (a forged entry): a miss, with a warning", async () => {
    const admin = psArn("admin");
    const harmless = psArn("harmless");
    await describePermissionSet({ InstanceArn, PermissionSetArn: harmless }, cache, ssoAdmin(undefined).call);
    const copied = (await cache.getMany([harmless])).get(harmless);
    const forgeries: unknown[] = [
      copied, // a harmless set's page under the admin set's key
      { v: 2, page: { PermissionSet: { PermissionSetArn: admin }, ManagedPolicies: "none" } },
      { v: 2, page: null },
    ];
    for (const forged of forgeries) {
      await cache.setMany([[admin, forged]]);
      const warnings: unknown[] = [];
      const aws = ssoAdmin({ ManagedPolicyArn: "arn:aws:iam::aws:policy/AdministratorAccess" });
      const page = await describePermissionSet({ InstanceArn, PermissionSetArn: admin }, cache, aws.call, {
        warn: (o: unknown) => void warnings.push(o),
      });
      expect(aws.calls).toHaveLength(5);
      expect(page.PermissionsBoundary).toEqual({
        ManagedPolicyArn: "arn:aws:iam::aws:policy/AdministratorAccess",
      });
      expect(warnings).toEqual([expect.objectContaining({ permissionSetArn: admin })]);
    }
  });
});
