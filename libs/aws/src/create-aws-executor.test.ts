import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ListAccountsCommand } from "@aws-sdk/client-organizations";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { SourceConfig } from "@grantline/config";
import type { PageRequest } from "@grantline/contracts";
import { PermanentError, RetryableError } from "@grantline/contracts";
import { createLogger } from "@grantline/log";
import { createJsonCache, createRateLimiter, createRedis } from "@grantline/redis";
import type { Redis } from "@grantline/redis";
import { AUDIT_ROLE, EXTERNAL_ID, startAwsSim } from "@grantline/aws-sim";
import type { AwsSim, OrgDocument } from "@grantline/aws-sim";
import { testInfra, uniqueName, waitFor } from "@grantline/testing";
import { CircuitOpenError } from "./breakers.ts";
import type { AwsBreakerEvent } from "./breakers.ts";
import type { AwsBudgetEvent, AwsCallEvent } from "./budgeted-call.ts";
import { budgetLimits } from "./budgets.ts";
import { createAwsExecutor } from "./create-aws-executor.ts";
import type { AwsExecutor, AwsExecutorOptions } from "./create-aws-executor.ts";
import { OPERATIONS } from "./operations.ts";

const keyPrefix = `${uniqueName("awsexec")}:`;
const logger = createLogger({ service: "aws-test", level: "silent" });
let sim: AwsSim;
let org: OrgDocument;
let redis: Redis;
const executors: AwsExecutor[] = [];
const onCleanup: Array<() => Promise<unknown>> = [];
const ctx = () => ({ signal: new AbortController().signal, deliveryCount: 1 });

beforeAll(async () => {
  sim = await startAwsSim({ preset: "tiny" });
  redis = createRedis({ url: testInfra().redisUrl, keyPrefix, name: "aws-exec-test" });
  const mgmt = sim.managementAccountId;
  org = sim.exportOrg();
  const acct = org.accounts.find((a) => a.id === mgmt)!;
  // Inline policies on a user and a group of the management account, so every Get*Policy has something to read.
  const doc = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:List*","Resource":"*"}]}';
  sim.mutate.putInlinePolicy({
    accountId: mgmt,
    principalType: "user",
    principalName: acct.iam.users[0]!.name,
    policyName: "u-inline",
    document: doc,
  });
  sim.mutate.putInlinePolicy({
    accountId: mgmt,
    principalType: "group",
    principalName: acct.iam.groups[0]!.name,
    policyName: "g-inline",
    document: doc,
  });
  org = sim.exportOrg();
});

afterAll(async () => {
  await Promise.all(executors.map((e) => e.close()));
  await Promise.all(onCleanup.map((f) => f()));
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length) await redis.del(...keys.map((k) => k.slice(keyPrefix.length)));
  await redis.quit();
  await sim.close();
});

function source(extra: Record<string, unknown> = {}): SourceConfig {
  return SourceConfig.parse({
    id: uniqueName("src"),
    endpoint: sim.url,
    staticCredentials: sim.managementCredentials,
    ...extra,
  });
}

/** The shared budgets and permission-set cache the fetcher builds from its Redis. */
function shared(client: Redis = redis) {
  return {
    rateLimiter: createRateLimiter(client, { prefix: "aws:rl:" }),
    permissionSetCache: createJsonCache(client, { prefix: "aws:ps:", ttlSeconds: 60, logger }),
  };
}

function executor(
  sources: SourceConfig[],
  options: AwsExecutorOptions = {},
  onCall?: (e: AwsCallEvent) => void,
  client: Redis = redis,
): AwsExecutor {
  const ex = createAwsExecutor({
    sources,
    ...shared(client),
    logger,
    options,
    ...(onCall ? { onCall } : {}),
  });
  executors.push(ex);
  return ex;
}

function req(
  src: SourceConfig,
  service: PageRequest["service"],
  operation: string,
  params: Record<string, unknown> = {},
  more: { pageToken?: string | null; accountId?: string | null } = {},
): PageRequest {
  return {
    v: 1,
    taskId: randomUUID(),
    runId: randomUUID(),
    sourceId: src.id,
    service,
    operation,
    params,
    pageToken: more.pageToken ?? null,
    accountId: more.accountId ?? null,
    scope: null,
    pageIndex: 0,
  };
}

const mgmtAccount = () => org.accounts.find((a) => a.id === sim.managementAccountId)!;
const memberAccount = () =>
  org.accounts.find((a) => a.id !== sim.managementAccountId && a.status === "ACTIVE")!;
const suspendedAccount = () => org.accounts.find((a) => a.status === "SUSPENDED")!;

/** An SCP of the org: the generated one's first, else AWS's FullAWSAccess (attached everywhere by default). */
const orgPolicyId = (): string =>
  (org as { policies?: Array<{ id: string }> }).policies?.[0]?.id ?? "p-FullAWSAccess";

/** Params that make every registered operation succeed against the tiny org. */
function paramsFor(key: string): Record<string, unknown> {
  const ic = org.identityCenter!;
  const ps = ic.permissionSets.find((p) => p.provisionedTo.length > 0)!;
  const a = ic.assignments[0]!;
  const m = mgmtAccount().iam;
  const user = m.users.find((u) => u.inlinePolicies.length > 0)!;
  const keyed = m.users.find((u) => u.accessKeys.length > 0)!;
  const group = m.groups.find((g) => g.inlinePolicies.length > 0)!;
  const role = m.roles.find((r) => r.inlinePolicies.length > 0)!;
  const policy = m.policies[0]!;
  const inst = { InstanceArn: ic.instanceArn };
  const store = { IdentityStoreId: ic.identityStoreId };
  const member = memberAccount().id;
  const table: Record<string, Record<string, unknown>> = {
    "organizations.ListOrganizationalUnitsForParent": { ParentId: org.roots[0]!.id },
    "organizations.ListParents": { ChildId: member },
    "organizations.DescribeAccount": { AccountId: member },
    "organizations.ListPolicies": { Filter: "SERVICE_CONTROL_POLICY" },
    "organizations.DescribePolicy": { PolicyId: orgPolicyId() },
    "organizations.ListTargetsForPolicy": { PolicyId: orgPolicyId() },
    "sso-admin.ListInstances": {},
    "sso-admin.ListPermissionSets": inst,
    "sso-admin.ListAccountsForProvisionedPermissionSet": { ...inst, PermissionSetArn: ps.arn },
    "sso-admin.ListPermissionSetsProvisionedToAccount": { ...inst, AccountId: ps.provisionedTo[0] },
    "sso-admin.ListAccountAssignments": {
      ...inst,
      AccountId: a.accountId,
      PermissionSetArn: a.permissionSetArn,
    },
    "sso-admin.ListAccountAssignmentsForPrincipal": {
      ...inst,
      PrincipalId: a.principalId,
      PrincipalType: a.principalType,
    },
    "sso-admin.DescribePermissionSet": { ...inst, PermissionSetArn: ps.arn },
    "identitystore.ListUsers": store,
    "identitystore.ListGroups": store,
    "identitystore.ListGroupMemberships": { ...store, GroupId: ic.memberships[0]!.groupId },
    "identitystore.DescribeUser": { ...store, UserId: ic.memberships[0]!.userId },
    "identitystore.DescribeGroup": { ...store, GroupId: ic.memberships[0]!.groupId },
    "identitystore.ListGroupMembershipsForMember": {
      ...store,
      MemberId: { UserId: ic.memberships[0]!.userId },
    },
    "iam.GetGroup": { GroupName: group.name },
    "iam.GetUser": { UserName: user.name },
    "iam.ListGroupsForUser": { UserName: user.name },
    "iam.RefreshRole": { RoleName: role.name },
    "iam.RefreshUser": { UserName: user.name },
    "iam.RefreshGroup": { GroupName: group.name },
    "iam.RefreshPolicy": {
      PolicyArn: `arn:aws:iam::${sim.managementAccountId}:policy${policy.path}${policy.name}`,
    },
    "iam.GetRole": { RoleName: role.name },
    "iam.ListPolicies": { Scope: "Local" },
    "iam.GetPolicy": {
      PolicyArn: `arn:aws:iam::${sim.managementAccountId}:policy${policy.path}${policy.name}`,
    },
    "iam.GetPolicyVersion": {
      PolicyArn: `arn:aws:iam::${sim.managementAccountId}:policy${policy.path}${policy.name}`,
      VersionId: policy.defaultVersionId,
    },
    "iam.ListAccessKeys": { UserName: keyed.name },
    "iam.GetAccessKeyLastUsed": { AccessKeyId: keyed.accessKeys[0]!.id },
    "iam.ListAttachedUserPolicies": { UserName: user.name },
    "iam.ListAttachedGroupPolicies": { GroupName: group.name },
    "iam.ListAttachedRolePolicies": { RoleName: role.name },
    "iam.ListUserPolicies": { UserName: user.name },
    "iam.ListGroupPolicies": { GroupName: group.name },
    "iam.ListRolePolicies": { RoleName: role.name },
    "iam.GetUserPolicy": { UserName: user.name, PolicyName: user.inlinePolicies[0]!.name },
    "iam.GetGroupPolicy": { GroupName: group.name, PolicyName: group.inlinePolicies[0]!.name },
    "iam.GetRolePolicy": { RoleName: role.name, PolicyName: role.inlinePolicies[0]!.name },
    "cloudtrail.LookupEvents": { StartTime: new Date(Date.now() - 86_400_000).toISOString() },
    "cloudtrail.PollFeeds": {
      Polls: [{ AccountId: sim.managementAccountId, Params: pollParams(sim.managementAccountId) }],
    },
  };
  return table[key] ?? {};
}

/** One IAM feed's LookupEvents params in `account` (as libs/model feedPollRequest makes them). */
function pollParams(account: string): Record<string, unknown> {
  return {
    LookupAttributes: [{ AttributeKey: "EventSource", AttributeValue: "iam.amazonaws.com" }],
    StartTime: new Date(Date.now() - 3_600_000).toISOString(),
    EndTime: new Date().toISOString(),
    Region: "us-east-1",
    FeedId: `${account}/us-east-1/iam.amazonaws.com`,
  };
}

describe("createAwsExecutor against aws-sim", () => {
  it("executes every registered operation and returns a JSON-safe page without $metadata", async () => {
    const src = source();
    const calls: AwsCallEvent[] = [];
    const ex = executor([src], {}, (e) => calls.push(e));
    for (const [key, spec] of OPERATIONS) {
      const out = await ex.execute(req(src, spec.service, spec.operation, paramsFor(key)), ctx());
      expect({ key, skipped: out.skipped ?? null, warnings: out.warnings }).toEqual({
        key,
        skipped: null,
        warnings: [],
      });
      expect(out.page).not.toHaveProperty("$metadata");
      expect(JSON.parse(JSON.stringify(out.page))).toEqual(out.page);
      expect(Object.keys(out.page).length, key).toBeGreaterThan(0);
    }
    const users = await ex.execute(req(src, "iam", "ListUsers"), ctx());
    expect(typeof (users.page.Users as Array<{ CreateDate: unknown }>)[0]?.CreateDate).toBe("string");
    const ps = await ex.execute(
      req(src, "sso-admin", "DescribePermissionSet", paramsFor("sso-admin.DescribePermissionSet")),
      ctx(),
    );
    expect(Object.keys(ps.page).sort()).toEqual([
      "CustomerManagedPolicyReferences",
      "InlinePolicy",
      "ManagedPolicies",
      "PermissionSet",
      "PermissionsBoundary",
    ]);
    // AWS answers "this set has no boundary" with ResourceNotFoundException: an error to the call metrics, no
    // error to the page.
    const noBoundary = (c: AwsCallEvent) =>
      c.operation === "GetPermissionsBoundaryForPermissionSet" && c.outcome === "error";
    expect(calls.every((c) => c.scope.startsWith(`${src.id}:`))).toBe(true);
    expect(calls.filter((c) => c.outcome !== "ok" && !noBoundary(c))).toEqual([]);
    expect(calls.length).toBeGreaterThanOrEqual(OPERATIONS.size);
  });

  it("round-trips page tokens (identitystore NextToken, IAM Marker)", async () => {
    const src = source();
    const ex = executor([src]);
    const store = { IdentityStoreId: org.identityCenter!.identityStoreId, MaxResults: 3 };
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const out = await ex.execute(
        req(src, "identitystore", "ListUsers", store, { pageToken: token }),
        ctx(),
      );
      seen.push(...(out.page.Users as Array<{ UserId: string }>).map((u) => u.UserId));
      token = (out.page.NextToken as string | undefined) ?? null;
      pages++;
    } while (token);
    expect(pages).toBeGreaterThan(1);
    expect(seen.sort()).toEqual(org.identityCenter!.users.map((u) => u.userId).sort());

    const first = await ex.execute(req(src, "iam", "ListUsers", { MaxItems: 1 }), ctx());
    expect(first.page.IsTruncated).toBe(true);
    const second = await ex.execute(
      req(src, "iam", "ListUsers", { MaxItems: 1 }, { pageToken: first.page.Marker as string }),
      ctx(),
    );
    const name = (p: Record<string, unknown>) => (p.Users as Array<{ UserName: string }>)[0]!.UserName;
    expect(name(second.page)).not.toBe(name(first.page));
  });

  it("caches the composite DescribePermissionSet: a second execute makes no DescribePermissionSet call", async () => {
    const src = source();
    // A Redis namespace of its own, so pages cached by other tests do not count.
    const own = createRedis({ url: testInfra().redisUrl, keyPrefix: `${keyPrefix}ps:`, name: "aws-ps" });
    onCleanup.push(() => own.quit());
    const ex = executor([src], {}, undefined, own);
    const ps = org.identityCenter!.permissionSets.find((p) => p.managedPolicies.length > 0)!;
    const r = req(src, "sso-admin", "DescribePermissionSet", {
      InstanceArn: org.identityCenter!.instanceArn,
      PermissionSetArn: ps.arn,
    });
    sim.resetCounters();
    const first = await ex.execute(r, ctx());
    expect(sim.counters().operations["sso:DescribePermissionSet"]?.calls).toBe(1);
    expect(sim.counters().operations["sso:ListManagedPoliciesInPermissionSet"]?.calls).toBe(1);
    expect((first.page.PermissionSet as { Name: string }).Name).toBe(ps.name);
    expect(first.page.ManagedPolicies).toHaveLength(ps.managedPolicies.length);
    sim.resetCounters();
    const second = await executor([src], {}, undefined, own).execute(r, ctx());
    expect(second.page).toEqual(first.page);
    expect(sim.counters().operations["sso:DescribePermissionSet"]?.calls ?? 0).toBe(0);
  });

  it("works without Redis: cache misses and in-process budgets, never a failure", async () => {
    const src = source();
    const dead = createRedis({ url: "redis://127.0.0.1:1", maxRetriesPerRequest: 0, name: "dead" });
    try {
      const ex = executor([src], {}, undefined, dead);
      const out = await ex.execute(
        req(src, "sso-admin", "DescribePermissionSet", paramsFor("sso-admin.DescribePermissionSet")),
        ctx(),
      );
      expect(out.page.PermissionSet).toBeTruthy();
      const users = await ex.execute(req(src, "iam", "ListUsers"), ctx());
      expect(users.page.Users).toBeTruthy();
    } finally {
      dead.disconnect();
    }
  });

  it("assumes a role with an external id, and two hops", async () => {
    const member = memberAccount().id;
    const audit = `arn:aws:iam::${member}:role/${AUDIT_ROLE}`;
    const one = source({ assumeRole: [{ roleArn: audit, externalId: EXTERNAL_ID }] });
    sim.mutate.createIamRole({
      accountId: sim.managementAccountId,
      roleName: "grantline-hub",
      trustPolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: `arn:aws:iam::${sim.managementAccountId}:root` },
            Action: "sts:AssumeRole",
          },
        ],
      }),
    });
    const hub = `arn:aws:iam::${sim.managementAccountId}:role/grantline-hub`;
    const two = source({ assumeRole: [{ roleArn: hub }, { roleArn: audit, externalId: EXTERNAL_ID }] });
    const ex = executor([one, two]);
    for (const src of [one, two]) {
      const who = await ex.execute(req(src, "sts", "GetCallerIdentity"), ctx());
      expect(who.page.Account).toBe(member);
      expect(who.page.Arn).toContain(`assumed-role/${AUDIT_ROLE}/grantline`);
      const users = await ex.execute(req(src, "iam", "ListUsers"), ctx());
      const names = (users.page.Users as Array<{ UserName: string }>).map((u) => u.UserName).sort();
      expect(names).toEqual(
        memberAccount()
          .iam.users.map((u) => u.name)
          .sort(),
      );
    }
  });

  it("says clearly which hop failed when the external id is wrong, and retries rather than dead-letters", async () => {
    const audit = `arn:aws:iam::${memberAccount().id}:role/${AUDIT_ROLE}`;
    const src = source({ assumeRole: [{ roleArn: audit, externalId: "wrong-external-id" }] });
    const err: unknown = await executor([src])
      .execute(req(src, "sts", "GetCallerIdentity"), ctx())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryableError);
    expect((err as Error).message).toMatch(
      new RegExp(`source ${src.id}: cannot assume ${audit} \\(source ${src.id} hop 1 of 1\\): AccessDenied`),
    );
  });

  it("polls several feeds in one request, each in its own account; a denied one is that feed's outcome", async () => {
    const src = source({ iam: { crossAccount: true } });
    const ex = executor([src]);
    const member = memberAccount().id;
    const suspended = suspendedAccount().id;
    const out = await ex.execute(
      req(src, "cloudtrail", "PollFeeds", {
        Polls: [member, suspended, sim.managementAccountId].map((a) => ({
          AccountId: a,
          Params: pollParams(a),
        })),
      }),
      ctx(),
    );
    const feeds = out.page.Feeds as Array<Record<string, unknown>>;
    expect(feeds.map((f) => [f.FeedId, "Page" in f, f.Skipped ?? null])).toEqual([
      [`${member}/us-east-1/iam.amazonaws.com`, true, null],
      [`${suspended}/us-east-1/iam.amazonaws.com`, false, "AccessDenied"],
      [`${sim.managementAccountId}/us-east-1/iam.amazonaws.com`, true, null],
    ]);
    expect(out.stats).toEqual({ awsCalls: 3, throttled: 0 });
  });

  it("answers cross-account IAM from the member account, and skips an account whose role cannot be assumed", async () => {
    const src = source({ iam: { crossAccount: true } });
    const events: AwsCallEvent[] = [];
    const ex = executor([src], {}, (e) => events.push(e));
    const member = memberAccount();
    const users = await ex.execute(req(src, "iam", "ListUsers", {}, { accountId: member.id }), ctx());
    expect((users.page.Users as Array<{ UserName: string }>).map((u) => u.UserName).sort()).toEqual(
      member.iam.users.map((u) => u.name).sort(),
    );
    // Its own account is served by the source's credentials, without an AssumeRole.
    sim.resetCounters();
    const own = await ex.execute(
      req(src, "iam", "ListUsers", {}, { accountId: sim.managementAccountId }),
      ctx(),
    );
    expect((own.page.Users as Array<{ UserName: string }>).map((u) => u.UserName).sort()).toEqual(
      mgmtAccount()
        .iam.users.map((u) => u.name)
        .sort(),
    );
    expect(sim.counters().operations["sts:AssumeRole"]?.calls ?? 0).toBe(0);

    const suspended = suspendedAccount().id;
    const out = await ex.execute(req(src, "iam", "ListUsers", {}, { accountId: suspended }), ctx());
    expect(out.skipped).toBe("AccessDenied");
    expect(out.page).toEqual({});
    expect(out.warnings).toEqual([
      expect.stringMatching(
        new RegExp(
          `^account ${suspended}: cannot assume arn:aws:iam::${suspended}:role/OrganizationAccountAccessRole: `,
        ),
      ),
    ]);
    // AssumeRole calls are budgeted on the source's STS scope and reported like any other call.
    expect(events.filter((e) => e.operation === "AssumeRole").map((e) => [e.scope, e.outcome])).toEqual([
      [`${src.id}:sts`, "ok"],
      [`${src.id}:sts`, "denied"],
    ]);
  });

  it("refreshes short-lived credentials: calls keep succeeding past expiry", async () => {
    const member = memberAccount().id;
    // One source behind an AssumeRole hop, one reaching a member account through the cross-account role.
    const src = source({
      assumeRole: [{ roleArn: `arn:aws:iam::${member}:role/${AUDIT_ROLE}`, externalId: EXTERNAL_ID }],
    });
    const cross = source({ iam: { crossAccount: true } });
    const ex = executor([src, cross]);
    sim.setFaults({ sessionDurationOverrideSeconds: 2 });
    try {
      sim.resetCounters();
      const until = Date.now() + 5_000;
      let n = 0;
      while (Date.now() < until) {
        const who = await ex.execute(req(src, "sts", "GetCallerIdentity"), ctx());
        expect(who.page.Account).toBe(member);
        const users = await ex.execute(req(cross, "iam", "ListUsers", {}, { accountId: member }), ctx());
        expect(users.skipped ?? null).toBeNull();
        n++;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(n).toBeGreaterThan(10);
      // Sessions of 2 s over 5 s: refreshed a few times, not on every call.
      const assumes = sim.counters().operations["sts:AssumeRole"]?.calls ?? 0;
      expect(assumes).toBeGreaterThanOrEqual(3);
      expect(assumes).toBeLessThan(2 * n);
    } finally {
      sim.setFaults({ sessionDurationOverrideSeconds: null });
    }
  });

  it("turns credentials that expire in flight into a retryable error and fresh credentials", async () => {
    const member = memberAccount().id;
    const src = source({
      assumeRole: [{ roleArn: `arn:aws:iam::${member}:role/${AUDIT_ROLE}`, externalId: EXTERNAL_ID }],
    });
    const ex = executor([src], { maxAttempts: 1 });
    sim.setFaults({ sessionDurationOverrideSeconds: 2 });
    try {
      await ex.execute(req(src, "sts", "GetCallerIdentity"), ctx());
      // Fresh 2 s credentials, signed at once, arrive after 2.5 s: expired on the way.
      sim.setFaults({ latency: { minMs: 2500, maxMs: 2500 } });
      const err: unknown = await ex
        .execute(req(src, "sts", "GetCallerIdentity"), ctx())
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RetryableError);
      expect((err as Error).message).toMatch(/credentials rejected, refreshing: .*ExpiredToken/);
      sim.setFaults({ latency: null });
      const again = await ex.execute(req(src, "sts", "GetCallerIdentity"), ctx());
      expect(again.page.Account).toBe(member);
    } finally {
      sim.setFaults({ sessionDurationOverrideSeconds: null, latency: null });
    }
  });

  it("lists a user's access keys with each key's last use, as GetAccessKeyLastUsed reads it", async () => {
    const src = source();
    const calls: AwsCallEvent[] = [];
    const ex = executor([src], {}, (e) => calls.push(e));
    const params = paramsFor("iam.ListAccessKeys");
    const out = await ex.execute(req(src, "iam", "ListAccessKeys", params), ctx());
    const keys = out.page.AccessKeyMetadata as Array<{ AccessKeyId: string; AccessKeyLastUsed?: unknown }>;
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) {
      const own = await ex.execute(
        req(src, "iam", "GetAccessKeyLastUsed", { AccessKeyId: k.AccessKeyId }),
        ctx(),
      );
      expect(k.AccessKeyLastUsed).toEqual(own.page.AccessKeyLastUsed);
    }
    // Every call is budgeted and counted like a page's own: the list, then one per key.
    expect(out.stats).toEqual({ awsCalls: 1 + keys.length, throttled: 0 });
    expect(calls.slice(0, 1 + keys.length).map((c) => c.operation)).toEqual([
      "ListAccessKeys",
      ...keys.map(() => "GetAccessKeyLastUsed"),
    ]);
  });

  it("lists accounts with each account's parents, as ListParents reads them", async () => {
    const src = source();
    const calls: AwsCallEvent[] = [];
    const ex = executor([src], {}, (e) => calls.push(e));
    const out = await ex.execute(req(src, "organizations", "ListAccounts", { MaxResults: 3 }), ctx());
    const accounts = out.page.Accounts as Array<{ Id: string; Parents?: unknown }>;
    expect(accounts).toHaveLength(3);
    for (const a of accounts) {
      const own = await ex.execute(req(src, "organizations", "ListParents", { ChildId: a.Id }), ctx());
      expect(a.Parents).toEqual(own.page.Parents);
    }
    expect(out.page.NextToken).toEqual(expect.any(String));
    expect(out.stats).toEqual({ awsCalls: 4, throttled: 0 });
    expect(calls.slice(0, 4).map((c) => c.operation)).toEqual([
      "ListAccounts",
      ...accounts.map(() => "ListParents"),
    ]);
  });

  it("lists a permission set's accounts with each account's assignments, as ListAccountAssignments reads them", async () => {
    const src = source();
    const calls: AwsCallEvent[] = [];
    const ex = executor([src], { listPagesReadItems: true }, (e) => calls.push(e));
    const params = paramsFor("sso-admin.ListAccountsForProvisionedPermissionSet");
    // Off (the executor's default; LIST_PAGES_READ_ITEMS=false): a plain page, one call.
    const plain = await executor([src]).execute(
      req(src, "sso-admin", "ListAccountsForProvisionedPermissionSet", params),
      ctx(),
    );
    expect(plain.page.AccountAssignmentsByAccount).toBeUndefined();
    expect(plain.page.AccountIds).toEqual(expect.any(Array));
    const out = await ex.execute(
      req(src, "sso-admin", "ListAccountsForProvisionedPermissionSet", params),
      ctx(),
    );
    const accounts = out.page.AccountIds as string[];
    const read = out.page.AccountAssignmentsByAccount as Record<string, unknown>;
    expect(accounts.length).toBeGreaterThan(0);
    expect(Object.keys(read).sort()).toEqual([...accounts].sort());
    for (const AccountId of accounts) {
      const own = await ex.execute(
        req(src, "sso-admin", "ListAccountAssignments", { ...params, AccountId }),
        ctx(),
      );
      expect(read[AccountId]).toEqual(own.page.AccountAssignments);
    }
    expect(Object.values(read).some((a) => (a as unknown[]).length > 0)).toBe(true);
    expect(out.stats).toEqual({ awsCalls: 1 + accounts.length, throttled: 0 });
    expect(calls.slice(0, 1 + accounts.length).map((c) => c.operation)).toEqual([
      "ListAccountsForProvisionedPermissionSet",
      ...accounts.map(() => "ListAccountAssignments"),
    ]);
  });

  it("lists groups with each group's members, as ListGroupMemberships reads them", async () => {
    const src = source();
    const ex = executor([src], { listPagesReadItems: true });
    const params = { IdentityStoreId: org.identityCenter!.identityStoreId, MaxResults: 5 };
    const out = await ex.execute(req(src, "identitystore", "ListGroups", params), ctx());
    const groups = out.page.Groups as Array<{ GroupId: string; GroupMemberships?: unknown }>;
    expect(groups.length).toBeGreaterThan(1);
    for (const g of groups) {
      const own = await ex.execute(
        req(src, "identitystore", "ListGroupMemberships", {
          IdentityStoreId: params.IdentityStoreId,
          GroupId: g.GroupId,
        }),
        ctx(),
      );
      expect(g.GroupMemberships).toEqual(own.page.GroupMemberships);
    }
    expect(groups.some((g) => (g.GroupMemberships as unknown[]).length > 0)).toBe(true);
    expect(out.stats).toEqual({ awsCalls: 1 + groups.length, throttled: 0 });
  });

  it("skips AccessDenied and vanished scopes; rejects an unknown operation permanently", async () => {
    const member = memberAccount().id;
    const src = source({
      assumeRole: [{ roleArn: `arn:aws:iam::${member}:role/${AUDIT_ROLE}`, externalId: EXTERNAL_ID }],
    });
    const ex = executor([src]);
    const denied = await ex.execute(
      req(src, "identitystore", "ListUsers", { IdentityStoreId: org.identityCenter!.identityStoreId }),
      ctx(),
    );
    expect(denied).toMatchObject({ page: {}, skipped: "AccessDenied" });
    expect(denied.warnings[0]).toMatch(/identitystore ListUsers: access denied/);
    const gone = await ex.execute(req(src, "iam", "GetRole", { RoleName: "no-such-role" }), ctx());
    expect(gone).toMatchObject({ page: {}, skipped: "NotFound" });
    const unknown = ex.execute(req(src, "iam", "DeleteUser", { UserName: "x" }), ctx());
    await expect(unknown).rejects.toBeInstanceOf(PermanentError);
    await expect(unknown).rejects.toMatchObject({ reason: "unknown-operation" });
  });

  it("fails an invalid request (ValidationException) permanently with AWS's message, not as a vanished scope", async () => {
    const src = source();
    const ex = executor([src]);
    const invalid = ex.execute(
      req(src, "identitystore", "ListUsers", { IdentityStoreId: "not-a-store" }),
      ctx(),
    );
    await expect(invalid).rejects.toBeInstanceOf(PermanentError);
    await expect(invalid).rejects.toMatchObject({
      reason: "aws-invalid-request",
      message: expect.stringMatching(
        /^AWS rejected the request: identitystore ListUsers: ValidationException: 1 validation error detected: Value 'not-a-store'/,
      ),
    });
  });

  it("survives a throttling storm: SDK retries succeed, and without retries it is retryable, never permanent", async () => {
    const src = source();
    const store = { IdentityStoreId: org.identityCenter!.identityStoreId };
    const events: AwsCallEvent[] = [];
    sim.setFaults({ throttleFirstAttempt: ["identitystore:ListUsers"] });
    try {
      const retrying = executor([src], { maxAttempts: 3 }, (e) => events.push(e));
      const ok = await retrying.execute(req(src, "identitystore", "ListUsers", store), ctx());
      expect(ok.page.Users).toBeTruthy();
      // The throttled attempt lowered the shared budget of the scope.
      const scope = `${src.id}:identitystore:${store.IdentityStoreId}:ListUsers`;
      const limiter = createRateLimiter(redis, { prefix: "aws:rl:" });
      expect(await limiter.multiplier(scope)).toBeLessThan(1);

      const single = executor([src], { maxAttempts: 1 }, (e) => events.push(e));
      const err: unknown = await single
        .execute(req(src, "identitystore", "ListUsers", store), ctx())
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RetryableError);
      expect(err).not.toBeInstanceOf(PermanentError);
      expect((err as RetryableError).retryAfterMs).toBeGreaterThanOrEqual(1000);
      expect(events.map((e) => e.outcome)).toEqual(["ok", "throttled"]);
    } finally {
      sim.setFaults({ throttleFirstAttempt: false });
    }
  });

  it("opens the circuit on repeated server errors, but not on denials, and reports breakers and budgets", async () => {
    const src = source({ budgets: { organizations: 100, iam: 100, sts: 100 } });
    const breakerEvents: AwsBreakerEvent[] = [];
    const budgetEvents: AwsBudgetEvent[] = [];
    const ex = createAwsExecutor({
      sources: [src],
      ...shared(),
      logger,
      options: { maxAttempts: 1, breakerResetMs: 500 },
      onBreaker: (e) => breakerEvents.push(e),
      onBudget: (e) => budgetEvents.push(e),
    });
    executors.push(ex);
    const member = memberAccount().id;
    // Denials (cross-account into a suspended account) do not count.
    for (let i = 0; i < 12; i++) {
      const out = await ex.execute(
        req(src, "iam", "ListUsers", {}, { accountId: suspendedAccount().id }),
        ctx(),
      );
      expect(out.skipped).toBe("AccessDenied");
    }
    sim.setFaults({ errorRate: 1 });
    const messages: string[] = [];
    try {
      for (let i = 0; i < 14; i++) {
        const err = (await ex
          .execute(req(src, "organizations", "ListAccounts"), ctx())
          .catch((e: unknown) => e)) as RetryableError;
        expect(err).toBeInstanceOf(RetryableError);
        messages.push(err.message);
        // A refusal is typed, and asks for redelivery after the configured reset.
        if (err instanceof CircuitOpenError) expect(err.retryAfterMs).toBe(500);
      }
    } finally {
      sim.setFaults({ errorRate: 0 });
    }
    expect(messages.slice(0, 10).every((m) => /AWS server error/.test(m))).toBe(true);
    expect(messages.at(-1)).toMatch(/^circuit open for organizations/);
    // Other services of the source have their own breaker.
    const iam = await ex.execute(req(src, "iam", "ListUsers", {}, { accountId: member }), ctx());
    expect(iam.page.Users).toBeTruthy();
    // Refused calls until breakerResetMs has passed, then a trial call that succeeds and closes the circuit.
    const again = await waitFor(
      async () => {
        const out = await ex
          .execute(req(src, "organizations", "ListAccounts"), ctx())
          .catch((e: unknown) => e);
        if (out instanceof CircuitOpenError) return null;
        if (out instanceof Error) throw out;
        return out as { page: Record<string, unknown> };
      },
      { timeoutMs: 10_000, message: "the circuit lets a trial call through after breakerResetMs" },
    );
    expect(again.page.Accounts).toBeTruthy();
    // The breaker's state changes reach metrics: opened by the errors, closed by the successful trial call.
    expect(breakerEvents).toEqual([
      { sourceId: src.id, service: "organizations", account: "self", open: true },
      { sourceId: src.id, service: "organizations", account: "self", open: false },
    ]);
    // Every call took a budget grant, named without the account (IAM's per-account budgets share a name) — the
    // trial ListAccounts page's ListParents calls too.
    const names = new Set(budgetEvents.map((e) => e.budget));
    expect(names).toEqual(
      new Set(["organizations:ListAccounts", "organizations:ListParents", "iam:ListUsers", "sts"]),
    );
    expect(budgetEvents.find((e) => e.budget === "organizations:ListAccounts")).toMatchObject({
      service: "organizations",
      ratePerSec: 100,
    });
    expect(budgetEvents.every((e) => e.waitedMs >= 0)).toBe(true);
  });

  it("aborts an attempt callTimeoutMs after its budget grant; without that limit the slow call succeeds", async () => {
    const src = source({ budgets: { organizations: 100 } });
    const events: AwsCallEvent[] = [];
    const short = executor([src], { maxAttempts: 1, callTimeoutMs: 200 }, (e) => events.push(e));
    const patient = executor([src], { maxAttempts: 1 });
    sim.setFaults({ latency: { minMs: 1500, maxMs: 1500 } });
    try {
      const started = performance.now();
      const err: unknown = await short
        .execute(req(src, "organizations", "ListAccounts"), ctx())
        .catch((e: unknown) => e);
      const ms = performance.now() - started;
      expect(err).toBeInstanceOf(RetryableError);
      expect((err as Error).message).toMatch(/^AWS call failed: organizations ListAccounts: /);
      expect(ms).toBeLessThan(1500);
      expect(events.map((e) => [e.operation, e.outcome])).toEqual([["ListAccounts", "error"]]);
      const slow = await patient.execute(req(src, "organizations", "ListAccounts"), ctx());
      expect(slow.page.Accounts).toBeTruthy();
    } finally {
      sim.setFaults({ latency: null });
    }
  });

  it("resolves a client's middleware stack once per operation, yet aborts only the call whose caller aborted", async () => {
    const src = source({ budgets: { organizations: 100 } });
    const budgetEvents: AwsBudgetEvent[] = [];
    const ex = createAwsExecutor({
      sources: [src],
      ...shared(),
      logger,
      onBudget: (e) => budgetEvents.push(e),
    });
    executors.push(ex);
    // Not a stand-in: the SDK's own method, counted (the SDK resolves it per send unless the client caches it).
    const resolves = vi.spyOn(ListAccountsCommand.prototype, "resolveMiddleware");
    sim.setFaults({ latency: { minMs: 600, maxMs: 600 } });
    try {
      for (let i = 0; i < 3; i++) await ex.execute(req(src, "organizations", "ListAccounts"), ctx());
      expect(resolves).toHaveBeenCalledTimes(1);
      // The budget middleware is the client's, not the cached command's: every call still took a grant.
      expect(budgetEvents.filter((e) => e.budget === "organizations:ListAccounts")).toHaveLength(3);

      // Two calls in flight on the one client and its one cached stack: each request carries its own signal.
      const caller = new AbortController();
      const started = performance.now();
      const aborted = ex
        .execute(req(src, "organizations", "ListAccounts"), { signal: caller.signal, deliveryCount: 1 })
        .catch((e: unknown) => e);
      const other = ex.execute(req(src, "organizations", "ListAccounts"), ctx());
      setTimeout(() => caller.abort(new Error("run cancelled")), 100);
      expect(await aborted).toBeInstanceOf(Error);
      expect(performance.now() - started).toBeLessThan(600);
      expect((await other).page.Accounts).toBeTruthy();
      expect(resolves).toHaveBeenCalledTimes(1);
    } finally {
      resolves.mockRestore();
      sim.setFaults({ latency: null });
    }
  });

  it("looks up the source's own account without dropping its STS client's cached middleware stack", async () => {
    const src = source();
    const ex = executor([src]);
    const resolves = vi.spyOn(GetCallerIdentityCommand.prototype, "resolveMiddleware");
    try {
      await ex.execute(req(src, "sts", "GetCallerIdentity"), ctx());
      // A call in the management account asks for the source's own account id: GetCallerIdentity on the same
      // client. With per-call options (its abort signal) the SDK would drop the client's cached stack.
      await ex.execute(req(src, "iam", "ListUsers", {}, { accountId: sim.managementAccountId }), ctx());
      await ex.execute(req(src, "sts", "GetCallerIdentity"), ctx());
      expect(resolves).toHaveBeenCalledTimes(1);
    } finally {
      resolves.mockRestore();
    }
  });

  it("keeps two replicas sharing Redis within the budget (rate × time + burst)", async () => {
    const src = source({ budgets: { identitystore: 10 } });
    const other = createRedis({ url: testInfra().redisUrl, keyPrefix, name: "aws-exec-test-2" });
    try {
      const replicas = [executor([src]), executor([src], {}, undefined, other)];
      const r = req(src, "identitystore", "ListUsers", {
        IdentityStoreId: org.identityCenter!.identityStoreId,
      });
      sim.resetCounters();
      const started = performance.now();
      const stopAt = Date.now() + 2_000;
      await Promise.all(
        replicas.flatMap((ex) =>
          Array.from({ length: 4 }, async () => {
            while (Date.now() < stopAt) await ex.execute(r, ctx());
          }),
        ),
      );
      const seconds = (performance.now() - started) / 1000;
      const calls = sim.counters().operations["identitystore:ListUsers"]?.calls ?? 0;
      // One call of slack: the budget runs on Redis's wall clock, `seconds` on this process's monotonic one, and a
      // wall clock being slewed runs up to 0.05 % fast (29 calls against a bound of 28.99 once). Two replicas each
      // with a budget of their own make twice the calls.
      expect(calls).toBeLessThanOrEqual(10 * seconds + budgetLimits(10).burst + 1);
      // …and runs close to it: the budget is shared, not split or wasted.
      expect(calls).toBeGreaterThanOrEqual(0.85 * 10 * seconds);
    } finally {
      await other.quit();
    }
  });
});
