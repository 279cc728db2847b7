import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SourceConfig } from "@grantline/config";
import type { PageRequest } from "@grantline/contracts";
import { createLogger } from "@grantline/log";
import { createJsonCache, createRateLimiter, createRedis } from "@grantline/redis";
import { startAwsSim } from "@grantline/aws-sim";
import type { AwsSim } from "@grantline/aws-sim";
import { testInfra, uniqueName } from "@grantline/testing";
import type { AwsCallEvent } from "./budgeted-call.ts";
import { createAwsExecutor } from "./create-aws-executor.ts";
import type { AwsExecutor } from "./create-aws-executor.ts";

const keyPrefix = `${uniqueName("iamrefresh")}:`;
const logger = createLogger({ service: "iam-refresh-test", level: "silent" });
const redis = createRedis({ url: testInfra().redisUrl, keyPrefix, name: "iam-refresh-test" });
let sim: AwsSim;
let ex: AwsExecutor;
let src: SourceConfig;
let acct: string;
const calls: AwsCallEvent[] = [];
const ctx = () => ({ signal: new AbortController().signal, deliveryCount: 1 });
const DOC = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:List*","Resource":"*"}]}';
const TRUST =
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}';

beforeAll(async () => {
  sim = await startAwsSim({ preset: "tiny", seed: 11 });
  acct = sim.managementAccountId;
  const m = sim.mutate;
  m.createIamUser({ accountId: acct, userName: "rf-user", path: "/team/" });
  m.createIamGroup({ accountId: acct, groupName: "rf-group" });
  m.createIamGroup({ accountId: acct, groupName: "rf-other" });
  m.addIamUserToGroup({ accountId: acct, groupName: "rf-group", userName: "rf-user" });
  m.addIamUserToGroup({ accountId: acct, groupName: "rf-other", userName: "rf-user" });
  m.createIamRole({ accountId: acct, roleName: "rf-role", trustPolicy: TRUST, description: "not in GAAD" });
  for (const [principalType, principalName] of [
    ["user", "rf-user"],
    ["group", "rf-group"],
    ["role", "rf-role"],
  ] as const) {
    m.putInlinePolicy({
      accountId: acct,
      principalType,
      principalName,
      policyName: "inline-a",
      document: DOC,
    });
    m.attachPolicy({
      accountId: acct,
      principalType,
      principalName,
      policyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess",
    });
  }
  m.putPermissionsBoundary({
    accountId: acct,
    principal: "role",
    name: "rf-role",
    policyArn: "arn:aws:iam::aws:policy/PowerUserAccess",
  });
  src = SourceConfig.parse({
    id: uniqueName("src"),
    endpoint: sim.url,
    staticCredentials: sim.managementCredentials,
  });
  ex = createAwsExecutor({
    sources: [src],
    rateLimiter: createRateLimiter(redis, { prefix: "aws:rl:" }),
    permissionSetCache: createJsonCache(redis, { prefix: "aws:ps:", ttlSeconds: 60, logger }),
    logger,
    onCall: (e) => calls.push(e),
  });
});

afterAll(async () => {
  await ex.close();
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length) await redis.del(...keys.map((k) => k.slice(keyPrefix.length)));
  await redis.quit();
  await sim.close();
});

function req(operation: string, params: Record<string, unknown>): PageRequest {
  return {
    v: 1,
    taskId: randomUUID(),
    runId: randomUUID(),
    sourceId: src.id,
    service: "iam",
    operation,
    params,
    pageToken: null,
    accountId: acct,
    scope: null,
    pageIndex: 0,
  };
}

type Item = Record<string, unknown>;

/** The account's whole GAAD, as the full sync reads it. */
async function gaad(): Promise<Record<string, Item[]>> {
  const out: Record<string, Item[]> = {
    UserDetailList: [],
    GroupDetailList: [],
    RoleDetailList: [],
    Policies: [],
  };
  let token: string | null = null;
  do {
    const r = { ...req("GetAccountAuthorizationDetails", {}), pageToken: token };
    const { page } = await ex.execute(r, ctx());
    for (const k of Object.keys(out)) out[k]!.push(...((page[k] as Item[] | undefined) ?? []));
    token = page.IsTruncated === true ? (page.Marker as string) : null;
  } while (token);
  return out;
}

/** A GAAD entry as the mapper reads it: members GAAD has that the mapping ignores, and empty tags, dropped. */
function comparable(e: Item | undefined): Item {
  const { InstanceProfileList: _i, RoleLastUsed: _r, ...rest } = e ?? {};
  if (Array.isArray(rest.Tags) && rest.Tags.length === 0) delete rest.Tags;
  return rest;
}

async function refresh(operation: string, params: Item): Promise<{ page: Item; ops: string[] }> {
  const from = calls.length;
  const out = await ex.execute(req(operation, params), ctx());
  expect(out.skipped ?? null).toBeNull();
  return { page: out.page, ops: calls.slice(from).map((c) => c.operation) };
}

describe("iam.Refresh* composites against aws-sim", () => {
  it("RefreshRole: the role's GAAD entry (trust, boundary, attached, inline), from budgeted calls", async () => {
    const all = await gaad();
    const { page, ops } = await refresh("RefreshRole", { RoleName: "rf-role" });
    const entry = (page.RoleDetailList as Item[])[0];
    expect(comparable(entry)).toEqual(comparable(all.RoleDetailList!.find((r) => r.RoleName === "rf-role")));
    expect(entry).not.toHaveProperty("Description");
    expect(ops).toEqual(["GetRole", "ListAttachedRolePolicies", "ListRolePolicies", "GetRolePolicy"]);
    expect(calls.slice(-4).every((c) => c.scope.startsWith(`${src.id}:`) && c.outcome === "ok")).toBe(true);
  });

  it("RefreshUser: the user's GAAD entry, plus its groups' ARNs", async () => {
    const all = await gaad();
    const { page, ops } = await refresh("RefreshUser", { UserName: "rf-user" });
    const entry = (page.UserDetailList as Item[])[0];
    expect(comparable(entry)).toEqual(comparable(all.UserDetailList!.find((u) => u.UserName === "rf-user")));
    expect(entry).not.toHaveProperty("PasswordLastUsed");
    const groupArn = (n: string) => all.GroupDetailList!.find((g) => g.GroupName === n)?.Arn;
    expect(page.GroupArns).toEqual({ "rf-group": groupArn("rf-group"), "rf-other": groupArn("rf-other") });
    expect(ops).toContain("ListGroupsForUser");
  });

  it("RefreshGroup: the group's GAAD entry and the members GAAD lists it in", async () => {
    const all = await gaad();
    const { page } = await refresh("RefreshGroup", { GroupName: "rf-group" });
    expect(comparable((page.GroupDetailList as Item[])[0])).toEqual(
      comparable(all.GroupDetailList!.find((g) => g.GroupName === "rf-group")),
    );
    const members = all
      .UserDetailList!.filter((u) => (u.GroupList as string[]).includes("rf-group"))
      .map((u) => ({
        UserName: u.UserName,
        Arn: u.Arn,
      }));
    expect(page.GroupMembers).toEqual(members);
  });

  it("RefreshPolicy: the policy as GAAD lists it, with its default version only", async () => {
    const all = await gaad();
    const { page, ops } = await refresh("RefreshPolicy", {
      PolicyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess",
    });
    const gaadPolicy = all.Policies!.find((p) => p.Arn === "arn:aws:iam::aws:policy/ReadOnlyAccess")!;
    const onlyDefault = {
      ...gaadPolicy,
      PolicyVersionList: (gaadPolicy.PolicyVersionList as Item[]).filter((v) => v.IsDefaultVersion === true),
    };
    expect((page.Policies as Item[])[0]).toEqual(onlyDefault);
    expect(ops).toEqual(["GetPolicy", "GetPolicyVersion"]);
  });

  it("a vanished entity is an empty list, not a skipped page or an error", async () => {
    sim.mutate.createIamRole({ accountId: acct, roleName: "rf-gone", trustPolicy: TRUST });
    sim.mutate.deleteIamRole({ accountId: acct, roleName: "rf-gone" });
    for (const [op, params, list] of [
      ["RefreshRole", { RoleName: "rf-gone" }, "RoleDetailList"],
      ["RefreshUser", { UserName: "nobody" }, "UserDetailList"],
      ["RefreshGroup", { GroupName: "nobody" }, "GroupDetailList"],
      ["RefreshPolicy", { PolicyArn: `arn:aws:iam::${acct}:policy/nothing` }, "Policies"],
    ] as const) {
      const { page } = await refresh(op, params);
      expect(page[list], op).toEqual([]);
      expect(page.Gone).toBe(true);
    }
  });

  it("refuses a request without the entity's name (a permanent error, not a retry)", async () => {
    await expect(ex.execute(req("RefreshRole", {}), ctx())).rejects.toMatchObject({
      reason: "invalid-params",
    });
  });
});
