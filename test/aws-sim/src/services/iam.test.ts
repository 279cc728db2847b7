import {
  AddUserToGroupCommand,
  AttachGroupPolicyCommand,
  AttachRolePolicyCommand,
  AttachUserPolicyCommand,
  CreateUserCommand,
  DetachGroupPolicyCommand,
  DetachRolePolicyCommand,
  DetachUserPolicyCommand,
  GetAccessKeyLastUsedCommand,
  GetGroupPolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  ListAccountAliasesCommand,
  ListAttachedGroupPoliciesCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListGroupPoliciesCommand,
  ListGroupsForUserCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  ListUsersCommand,
  RemoveUserFromGroupCommand,
  paginateGetAccountAuthorizationDetails,
  paginateGetGroup,
  paginateListGroups,
  paginateListPolicies,
  paginateListRoles,
  paginateListUsers,
} from "@aws-sdk/client-iam";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim } from "../sim.ts";
import type { AwsSim } from "../sim.ts";
import { clients, collect } from "../test-support.ts";

let sim: AwsSim;
let c: ReturnType<typeof clients>;
let acct: string;
beforeAll(async () => {
  sim = await startAwsSim({ preset: "tiny", seed: 7 });
  c = clients(sim);
  acct = sim.managementAccountId;
  for (let i = 0; i < 230; i++)
    sim.mutate.createIamUser({ accountId: acct, userName: `bulk-${i}`, path: i % 2 ? "/bulk/" : "/" });
  sim.mutate.createIamGroup({ accountId: acct, groupName: "big" });
  for (let i = 0; i < 120; i++)
    sim.mutate.addIamUserToGroup({ accountId: acct, groupName: "big", userName: `bulk-${i}` });
});
afterAll(async () => {
  await sim.close();
});
const iamOf = () => sim.exportOrg().accounts.find((a) => a.id === acct)!.iam;

describe("IAM conformance", () => {
  it("paginates ListUsers across many pages; the last page has no Marker", async () => {
    const { items, pages } = await collect(
      paginateListUsers({ client: c.iam, pageSize: 17 }, {}),
      (p) => p.Users,
    );
    expect(items.map((u) => u.UserName).sort()).toEqual(
      iamOf()
        .users.map((u) => u.name)
        .sort(),
    );
    expect(pages).toBe(Math.ceil(items.length / 17));
    const last = await c.iam.send(new ListUsersCommand({ MaxItems: 1000 }));
    expect(last.IsTruncated).toBe(false);
    expect(last.Marker).toBeUndefined();
    const first = await c.iam.send(new ListUsersCommand({}));
    expect(first.Users).toHaveLength(100);
    expect(first.IsTruncated).toBe(true);
    const bulk = await collect(
      paginateListUsers({ client: c.iam }, { PathPrefix: "/bulk/" }),
      (p) => p.Users,
    );
    expect(bulk.items).toHaveLength(115);
    expect(items[0]!.UserId).toMatch(/^AIDA[A-Z0-9]{17}$/);
    expect(items[0]!.Arn).toMatch(new RegExp(`^arn:aws:iam::${acct}:user/`));
  });

  it("GetGroup pages members; ListGroups, ListRoles, ListPolicies paginate", async () => {
    const { items, pages } = await collect(
      paginateGetGroup({ client: c.iam, pageSize: 50 }, { GroupName: "big" }),
      (p) => p.Users,
    );
    expect(items).toHaveLength(120);
    expect(pages).toBe(3);
    const groups = await collect(paginateListGroups({ client: c.iam, pageSize: 1 }, {}), (p) => p.Groups);
    expect(groups.items.map((g) => g.GroupName).sort()).toEqual(
      iamOf()
        .groups.map((g) => g.name)
        .sort(),
    );
    expect(groups.items[0]!.GroupId).toMatch(/^AGPA/);
    const roles = await collect(paginateListRoles({ client: c.iam, pageSize: 1 }, {}), (p) => p.Roles);
    expect(roles.items.map((r) => r.RoleName)).toEqual(iamOf().roles.map((r) => r.name));
    const local = await collect(
      paginateListPolicies({ client: c.iam, pageSize: 1 }, { Scope: "Local" }),
      (p) => p.Policies,
    );
    expect(local.items.map((p) => p.PolicyName).sort()).toEqual(
      iamOf()
        .policies.map((p) => p.name)
        .sort(),
    );
    expect(local.items[0]!.PolicyId).toMatch(/^ANPA/);
    const aws = await collect(
      paginateListPolicies({ client: c.iam }, { Scope: "AWS", OnlyAttached: true }),
      (p) => p.Policies,
    );
    expect(
      aws.items.every((p) => p.Arn!.startsWith("arn:aws:iam::aws:policy/") && p.AttachmentCount! > 0),
    ).toBe(true);
  });

  it("GetUser (self and named), GetRole with URL-encoded trust policy, GetPolicy/GetPolicyVersion", async () => {
    const me = await c.iam.send(new GetUserCommand({}));
    expect(me.User?.UserName).toBe("grantline-sync");
    const alice = await c.iam.send(new GetUserCommand({ UserName: "alice@example.com" }));
    expect(alice.User?.Tags).toEqual([{ Key: "team", Value: "platform" }]);
    const role = await c.iam.send(new GetRoleCommand({ RoleName: "app-runtime" }));
    const trust = JSON.parse(decodeURIComponent(role.Role!.AssumeRolePolicyDocument!)) as {
      Statement: Array<{ Principal: { Service: string } }>;
    };
    expect(trust.Statement[0]!.Principal.Service).toBe("ec2.amazonaws.com");
    const pol = iamOf().policies[0]!;
    const arn = `arn:aws:iam::${acct}:policy${pol.path}${pol.name}`;
    const gp = await c.iam.send(new GetPolicyCommand({ PolicyArn: arn }));
    expect(gp.Policy).toMatchObject({
      PolicyName: pol.name,
      DefaultVersionId: pol.defaultVersionId,
      IsAttachable: true,
    });
    const v = await c.iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: "v1" }));
    expect(JSON.parse(decodeURIComponent(v.PolicyVersion!.Document!))).toEqual(
      JSON.parse(pol.versions[0]!.document),
    );
    expect(v.PolicyVersion!.IsDefaultVersion).toBe(pol.defaultVersionId === "v1");
    const awsPol = await c.iam.send(
      new GetPolicyCommand({ PolicyArn: "arn:aws:iam::aws:policy/ReadOnlyAccess" }),
    );
    expect(awsPol.Policy?.PolicyName).toBe("ReadOnlyAccess");
  });

  it("attached and inline policies for users, groups and roles", async () => {
    const au = await c.iam.send(new ListAttachedUserPoliciesCommand({ UserName: "ci+deploy" }));
    expect(au.AttachedPolicies).toHaveLength(1);
    const ag = await c.iam.send(new ListAttachedGroupPoliciesCommand({ GroupName: "developers" }));
    expect(ag.AttachedPolicies!.map((p) => p.PolicyArn)).toEqual(
      iamOf().groups.find((g) => g.name === "developers")!.attachedPolicies,
    );
    const ar = await c.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: "app-runtime" }));
    expect(ar.AttachedPolicies).toHaveLength(1);
    expect((await c.iam.send(new ListUserPoliciesCommand({ UserName: "ci+deploy" }))).PolicyNames).toEqual([
      "ci-extra",
    ]);
    expect((await c.iam.send(new ListGroupPoliciesCommand({ GroupName: "developers" }))).PolicyNames).toEqual(
      ["dev-inline"],
    );
    expect((await c.iam.send(new ListRolePoliciesCommand({ RoleName: "app-runtime" }))).PolicyNames).toEqual([
      "runtime-inline",
    ]);
    const up = await c.iam.send(new GetUserPolicyCommand({ UserName: "ci+deploy", PolicyName: "ci-extra" }));
    expect(JSON.parse(decodeURIComponent(up.PolicyDocument!))).toMatchObject({ Version: "2012-10-17" });
    const gp = await c.iam.send(
      new GetGroupPolicyCommand({ GroupName: "developers", PolicyName: "dev-inline" }),
    );
    expect(gp.GroupName).toBe("developers");
    const rp = await c.iam.send(
      new GetRolePolicyCommand({ RoleName: "app-runtime", PolicyName: "runtime-inline" }),
    );
    expect(rp.RoleName).toBe("app-runtime");
  });

  it("access keys, last used (incl. never used), aliases, groups for user", async () => {
    const keys = await c.iam.send(new ListAccessKeysCommand({ UserName: "alice@example.com" }));
    expect(keys.AccessKeyMetadata![0]!.AccessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
    for (const u of iamOf().users)
      for (const k of u.accessKeys) {
        const lu = await c.iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: k.id }));
        expect(lu.UserName).toBe(u.name);
        if (k.lastUsed)
          expect(lu.AccessKeyLastUsed).toMatchObject({
            ServiceName: k.lastUsed.service,
            Region: k.lastUsed.region,
          });
        else expect(lu.AccessKeyLastUsed).toEqual({ ServiceName: "N/A", Region: "N/A" });
      }
    expect((await c.iam.send(new ListAccountAliasesCommand({}))).AccountAliases).toEqual(["acme-management"]);
    const gfu = await c.iam.send(new ListGroupsForUserCommand({ UserName: "bob.ops" }));
    expect(gfu.Groups!.map((g) => g.GroupName)).toEqual(["developers", "read-only=team"]);
  });

  it("GetAccountAuthorizationDetails pages one sequence and honours Filter", async () => {
    const all = await collect(
      paginateGetAccountAuthorizationDetails({ client: c.iam, pageSize: 40 }, {}),
      (p) => [
        ...(p.UserDetailList ?? []),
        ...(p.GroupDetailList ?? []),
        ...(p.RoleDetailList ?? []),
        ...(p.Policies ?? []),
      ],
    );
    const iam = iamOf();
    expect(all.items.length).toBeGreaterThanOrEqual(
      iam.users.length + iam.groups.length + iam.roles.length + iam.policies.length,
    );
    const roles = await collect(
      paginateGetAccountAuthorizationDetails({ client: c.iam }, { Filter: ["Role"] }),
      (p) => p.RoleDetailList,
    );
    expect(roles.items.map((r) => r.RoleName)).toEqual(iam.roles.map((r) => r.name));
    const users = await collect(
      paginateGetAccountAuthorizationDetails({ client: c.iam }, { Filter: ["User"] }),
      (p) => p.UserDetailList,
    );
    const bob = users.items.find((u) => u.UserName === "bob.ops")!;
    expect(bob.GroupList).toEqual(["developers", "read-only=team"]);
    const pols = await collect(
      paginateGetAccountAuthorizationDetails({ client: c.iam }, { Filter: ["LocalManagedPolicy"] }),
      (p) => p.Policies,
    );
    expect(pols.items[0]!.PolicyVersionList!.length).toBeGreaterThan(0);
  });

  it("writes: CreateUser, group membership, attach/detach — visible in reads and the export", async () => {
    const created = await c.iam.send(
      new CreateUserCommand({ UserName: "new.user+x@corp", Tags: [{ Key: "k", Value: "v" }] }),
    );
    expect(created.User?.UserId).toMatch(/^AIDA/);
    await c.iam.send(new AddUserToGroupCommand({ GroupName: "admins", UserName: "new.user+x@corp" }));
    expect(iamOf().users.find((u) => u.name === "new.user+x@corp")!.groups).toEqual(["admins"]);
    await c.iam.send(new RemoveUserFromGroupCommand({ GroupName: "admins", UserName: "new.user+x@corp" }));
    const ro = "arn:aws:iam::aws:policy/ReadOnlyAccess";
    await c.iam.send(new AttachUserPolicyCommand({ UserName: "new.user+x@corp", PolicyArn: ro }));
    await c.iam.send(new AttachGroupPolicyCommand({ GroupName: "admins", PolicyArn: ro }));
    await c.iam.send(new AttachRolePolicyCommand({ RoleName: "app-runtime", PolicyArn: ro }));
    const iam = iamOf();
    expect(iam.users.find((u) => u.name === "new.user+x@corp")!.attachedPolicies).toEqual([ro]);
    expect(iam.groups.find((g) => g.name === "admins")!.attachedPolicies).toContain(ro);
    await c.iam.send(new DetachUserPolicyCommand({ UserName: "new.user+x@corp", PolicyArn: ro }));
    await c.iam.send(new DetachGroupPolicyCommand({ GroupName: "admins", PolicyArn: ro }));
    await c.iam.send(new DetachRolePolicyCommand({ RoleName: "app-runtime", PolicyArn: ro }));
    expect(iamOf().roles.find((r) => r.name === "app-runtime")!.attachedPolicies).not.toContain(ro);
  });

  it("errors: NoSuchEntity (404), EntityAlreadyExists, ValidationError — not retried", async () => {
    const e1 = await c.iam.send(new GetUserCommand({ UserName: "nobody" })).catch((e: unknown) => e);
    expect(e1).toMatchObject({
      name: "NoSuchEntityException",
      message: "The user with name nobody cannot be found.",
      $metadata: { httpStatusCode: 404, attempts: 1 },
    });
    const e2 = await c.iam.send(new CreateUserCommand({ UserName: "bob.ops" })).catch((e: unknown) => e);
    expect(e2).toMatchObject({ name: "EntityAlreadyExistsException", $metadata: { httpStatusCode: 409 } });
    const e3 = await c.iam.send(new ListUsersCommand({ MaxItems: 0 })).catch((e: unknown) => e);
    expect(e3).toMatchObject({ name: "ValidationError", $metadata: { httpStatusCode: 400 } });
    const e4 = await c.iam.send(new GetRoleCommand({ RoleName: "nope" })).catch((e: unknown) => e);
    expect(e4).toMatchObject({
      name: "NoSuchEntityException",
      message: "The role with name nope cannot be found.",
    });
    const e5 = await c.iam
      .send(new AttachUserPolicyCommand({ UserName: "bob.ops", PolicyArn: "arn:aws:iam::aws:policy/Nope" }))
      .catch((e: unknown) => e);
    expect(e5).toMatchObject({ name: "NoSuchEntityException" });
  });
});
