import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { fingerprint } from "@grantline/policy";
import { mapPage } from "../map-page.ts";
import { pageResult, testRequests } from "./page-result.fixture.ts";
import { rootRequests } from "../root-requests.ts";
import { iamKeysScope, iamScope } from "../ids.ts";
import { trustPrincipals } from "./trust-principals.ts";

const RUN = "00000000-0000-4000-8000-000000000001";
const ACCT = "877091108098";
const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`./__fixtures__/${name}.json`, import.meta.url), "utf8")) as Record<
    string,
    unknown
  >;

const req = testRequests(RUN);
const result = pageResult;

const GAAD_PARAMS = {
  Filter: ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"],
  onlyAttachedPolicies: true,
};
const gaadReq = (acct: string) =>
  req("iam", "GetAccountAuthorizationDetails", GAAD_PARAMS, {
    accountId: acct,
    scope: iamScope(acct),
  });

const enc = (doc: unknown) => encodeURIComponent(JSON.stringify(doc));
const ids = (xs: Array<{ id: string }>) => xs.map((x) => x.id).sort();

describe("IAM task graph", () => {
  const source = {
    id: "acme",
    kind: "aws" as const,
    diag: { pages: 0, itemsPerPage: 0, failUntilDelivery: 0 },
    iam: {
      enabled: true,
      crossAccount: true,
      roleName: "OrganizationAccountAccessRole",
      onlyAttachedPolicies: true,
    },
  };

  it("adds a GetCallerIdentity root only when IAM is enabled, and flags ListAccounts for cross-account", () => {
    const roots = rootRequests(source, RUN);
    expect(roots.map((r) => `${r.service}.${r.operation}`)).toContain("sts.GetCallerIdentity");
    expect(roots.find((r) => r.operation === "ListAccounts")?.params).toEqual({
      iamCrossAccount: true,
      iamOnlyAttachedPolicies: true,
    });
    const off = rootRequests({ ...source, iam: { ...source.iam, enabled: false } }, RUN);
    expect(off.map((r) => r.operation)).not.toContain("GetCallerIdentity");
    expect(off.find((r) => r.operation === "ListAccounts")?.params).toEqual({});
    const noRoot = rootRequests({ ...source, iam: undefined }, RUN);
    expect(noRoot).toHaveLength(4);
  });

  it("GetCallerIdentity (recorded) starts the caller's GAAD chain and alias, identical to ListParents' for that account", () => {
    const root = rootRequests(source, RUN).find((r) => r.operation === "GetCallerIdentity")!;
    const b = mapPage(result(root, fixture("sts-get-caller-identity")));
    expect(b.children.map((c) => [c.operation, c.accountId, c.scope])).toEqual([
      ["GetAccountAuthorizationDetails", ACCT, `iam:${ACCT}`],
      ["ListAccountAliases", ACCT, `iam:${ACCT}:alias`],
    ]);
    expect(b.children[0]?.params).toEqual(GAAD_PARAMS);

    const listAccounts = rootRequests(source, RUN).find((r) => r.operation === "ListAccounts")!;
    const la = mapPage(
      result(listAccounts, {
        Accounts: [
          { Id: ACCT, Name: "mgmt", Status: "ACTIVE" },
          { Id: "222222222222", Name: "gone", Status: "SUSPENDED" },
        ],
      }),
    );
    const parents = la.children.map((c) => mapPage(result(c, { Parents: [{ Id: "r-ab12", Type: "ROOT" }] })));
    expect(parents[0]?.children.map((c) => c.taskId)).toEqual(b.children.map((c) => c.taskId));
    expect(parents[0]?.resources[0]?.type).toBe("account");
    // Suspended accounts get no IAM chain.
    expect(parents[1]?.children).toEqual([]);
  });

  it("without cross-account, ListParents starts no IAM chain", () => {
    const r = req("organizations", "ListParents", { ChildId: ACCT, Account: { status: "ACTIVE" } });
    expect(mapPage(result(r, { Parents: [] })).children).toEqual([]);
  });
});

describe("GetAccountAuthorizationDetails (recorded from aws-sim tiny)", () => {
  const b = mapPage(result(gaadReq(ACCT), fixture("iam-gaad")));
  const a = (path: string) => `arn:aws:iam::${ACCT}:${path}`;

  it("writes users, groups, roles, attached policies and inline policies in the account's scope", () => {
    expect(b.scope).toBe(`iam:${ACCT}`);
    expect(b.scopeComplete).toBe(true);
    const by = (t: string) =>
      b.resources
        .filter((r) => r.type === t)
        .map((r) => r.id)
        .sort();
    expect(by("iam_user")).toEqual(
      [
        "user/alice@example.com",
        "user/automation/ci+deploy",
        "user/bob.ops",
        "user/carol_o=admin",
        "user/dave-ext,contractor",
        "user/grantline-sync",
      ].map(a),
    );
    expect(by("iam_group")).toEqual(["group/admins", "group/developers", "group/read-only=team"].map(a));
    expect(by("iam_role")).toEqual([a("role/app-runtime")]);
    expect(by("iam_policy")).toEqual(
      [
        a("policy/deploy-policy"),
        a("policy/teams/s3-readers+logs"),
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
      ].sort(),
    );
    expect(by("inline_policy")).toEqual([
      `${a("group/developers")}::inline::dev-inline`,
      `${a("role/app-runtime")}::inline::runtime-inline`,
      `${a("user/automation/ci+deploy")}::inline::ci-extra`,
    ]);
    const ci = b.resources.find((r) => r.id === a("user/automation/ci+deploy"))!;
    expect(ci).toMatchObject({ name: "ci+deploy", parentType: "iam_account", parentId: ACCT });
    expect(ci.attrs).toMatchObject({ path: "/automation/", passwordLastUsed: null, emails: [] });
    const alice = b.resources.find((r) => r.id === a("user/alice@example.com"))!;
    expect(alice.attrs).toMatchObject({ emails: ["alice@example.com"], tags: { team: "platform" } });
    const inline = b.resources.find((r) => r.type === "inline_policy" && r.name === "ci-extra")!;
    expect(inline).toMatchObject({ parentType: "iam_user", parentId: a("user/automation/ci+deploy") });
    expect(JSON.parse(String(inline.attrs.document))).toMatchObject({ Version: "2012-10-17" });
    const deploy = b.resources.find((r) => r.id === a("policy/deploy-policy"))!;
    expect(deploy).toMatchObject({ parentType: "iam_account", parentId: ACCT });
    expect(deploy.attrs.defaultVersionId).toBe("v2");
    expect(typeof deploy.attrs.document).toBe("string");
    expect(deploy.attrs).not.toHaveProperty("attachmentCount");
    const admin = b.resources.find((r) => r.id === "arn:aws:iam::aws:policy/AdministratorAccess")!;
    expect(admin).toMatchObject({ parentType: null, parentId: null });
  });

  it("memberships, attachments, inline attachments and trust become grants", () => {
    const g = new Set(ids(b.grants));
    expect(g).toContain(`iam_group:${a("group/developers")}:member:iam_user:${a("user/bob.ops")}`);
    expect(g).toContain(`iam_group:${a("group/read-only=team")}:member:iam_user:${a("user/bob.ops")}`);
    expect(g).toContain(`iam_group:${a("group/admins")}:member:iam_user:${a("user/alice@example.com")}`);
    expect(g).toContain(
      `iam_policy:arn:aws:iam::aws:policy/AdministratorAccess:attached:iam_group:${a("group/admins")}`,
    );
    expect(g).toContain(`iam_policy:${a("policy/deploy-policy")}:attached:iam_role:${a("role/app-runtime")}`);
    expect(g).toContain(
      `inline_policy:${a("user/automation/ci+deploy")}::inline::ci-extra:attached:iam_user:${a("user/automation/ci+deploy")}`,
    );
    expect(g).toContain(`iam_role:${a("role/app-runtime")}:assignment:aws_service:ec2.amazonaws.com`);
    const groupPolicy = b.grants.find(
      (x) => x.principalType === "iam_group" && x.entitlementId.startsWith("iam_policy:"),
    );
    expect(groupPolicy?.expandable).toBe(true);
    const userPolicy = b.grants.find(
      (x) => x.principalType === "iam_user" && x.entitlementId.startsWith("iam_policy:"),
    );
    expect(userPolicy?.expandable).toBe(false);
    // Every grant points at an entitlement of the same batch.
    const ents = new Set(ids(b.entitlements));
    for (const x of b.grants) expect(ents.has(x.entitlementId), x.id).toBe(true);
    expect(ents).toContain(`iam_role:${a("role/app-runtime")}:assignment`);
  });

  it("each user yields a ListAccessKeys child in the account's keys scope, with the user ARN", () => {
    const keys = b.children.filter((c) => c.operation === "ListAccessKeys");
    expect(keys).toHaveLength(6);
    expect(keys.every((c) => c.accountId === ACCT && c.scope === iamKeysScope(ACCT))).toBe(true);
    expect(keys.find((c) => c.params.UserName === "ci+deploy")?.params.UserArn).toBe(
      a("user/automation/ci+deploy"),
    );
  });

  it("customer-managed policies are synced attached or not; onlyAttachedPolicies drops only unattached AWS-managed ones", () => {
    const page = fixture("iam-gaad");
    const pols = (page.Policies as Array<Record<string, unknown>>).map((p) => ({ ...p, AttachmentCount: 0 }));
    const policyIds = (b: { resources: Array<{ type: string; id: string }> }) =>
      b.resources.filter((r) => r.type === "iam_policy").map((r) => r.id);
    const arns = (page.Policies as Array<{ Arn: string }>).map((p) => p.Arn);
    const customer = arns.filter((arn) => !arn.includes(":iam::aws:"));
    const awsManaged = arns.filter((arn) => arn.includes(":iam::aws:"));
    expect(customer.length).toBeGreaterThan(0);
    expect(awsManaged.length).toBeGreaterThan(0);
    const only = mapPage(result(gaadReq(ACCT), { ...page, Policies: pols }));
    expect(policyIds(only).sort()).toEqual(customer.sort());
    expect(only.entitlements.map((e) => e.id)).toEqual(
      expect.arrayContaining(customer.map((arn) => `iam_policy:${arn}:attached`)),
    );
    const all = mapPage(
      result(
        req(
          "iam",
          "GetAccountAuthorizationDetails",
          { ...GAAD_PARAMS, onlyAttachedPolicies: false },
          { accountId: ACCT, scope: iamScope(ACCT) },
        ),
        {
          ...page,
          Policies: pols,
        },
      ),
    );
    expect(policyIds(all).sort()).toEqual([...customer, ...awsManaged].sort());
  });

  it("reads users' and roles' permissions boundaries into attrs (null without one)", () => {
    const page = fixture("iam-gaad");
    const boundary = (arn: string) => ({ PermissionsBoundaryType: "Policy", PermissionsBoundaryArn: arn });
    const users = page.UserDetailList as Array<Record<string, unknown>>;
    const roles = page.RoleDetailList as Array<Record<string, unknown>>;
    const bounded = mapPage(
      result(gaadReq(ACCT), {
        ...page,
        UserDetailList: users.map((u, i) =>
          i === 0 ? { ...u, PermissionsBoundary: boundary(a("policy/deploy-policy")) } : u,
        ),
        RoleDetailList: roles.map((r, i) =>
          i === 0 ? { ...r, PermissionsBoundary: boundary("arn:aws:iam::aws:policy/PowerUserAccess") } : r,
        ),
      }),
    );
    const attr = (type: string, arn: unknown) =>
      bounded.resources.find((r) => r.type === type && r.id === arn)?.attrs.permissionsBoundary;
    expect(attr("iam_user", users[0]!.Arn)).toBe(a("policy/deploy-policy"));
    expect(attr("iam_role", roles[0]!.Arn)).toBe("arn:aws:iam::aws:policy/PowerUserAccess");
    expect(attr("iam_user", users[1]!.Arn)).toBeNull();
    const plain = b.resources.find((r) => r.type === "iam_role" && r.id === roles[0]!.Arn);
    expect(plain?.attrs).toHaveProperty("permissionsBoundary", null);
  });
});

describe("access keys", () => {
  const keysReq = req(
    "iam",
    "ListAccessKeys",
    { UserName: "grantline-sync", UserArn: `arn:aws:iam::${ACCT}:user/grantline-sync` },
    { accountId: ACCT, scope: iamKeysScope(ACCT) },
  );

  /** A user with a `+` and a path in its name: its ListAccessKeys request. */
  const eveKeys = () => {
    const arn = `arn:aws:iam::${ACCT}:user/ops/eve+ops@corp.example`;
    const r = req(
      "iam",
      "ListAccessKeys",
      { UserName: "eve+ops@corp.example", UserArn: arn },
      { accountId: ACCT, scope: iamKeysScope(ACCT) },
    );
    return { arn, r };
  };

  it("ListAccessKeys (recorded, no last use with it) writes nothing, never closes the keys scope, and asks for each key's last use", () => {
    const b = mapPage(result(keysReq, fixture("iam-list-access-keys")));
    expect(b.resources).toEqual([]);
    expect(b.scopeComplete).toBe(false);
    expect(b.children.map((c) => c.params)).toEqual([
      {
        AccessKeyId: "AKIABSWRZ6YJHSXQWGNX",
        UserName: "grantline-sync",
        UserArn: `arn:aws:iam::${ACCT}:user/grantline-sync`,
        Status: "Active",
        CreateDate: "2023-09-09T08:16:09.968Z",
      },
    ]);
    expect(b.children[0]).toMatchObject({ accountId: ACCT, scope: iamKeysScope(ACCT) });
  });

  it("GetAccessKeyLastUsed writes the key under the user's ARN; never used → 'never'", () => {
    const child = mapPage(result(keysReq, fixture("iam-list-access-keys"))).children[0]!;
    const never = mapPage(result(child, fixture("iam-get-access-key-last-used-never")));
    expect(never.scopeComplete).toBe(false);
    expect(never.resources).toEqual([
      {
        type: "access_key",
        id: "AKIABSWRZ6YJHSXQWGNX",
        parentType: "iam_user",
        parentId: `arn:aws:iam::${ACCT}:user/grantline-sync`,
        name: "grantline-sync|AKIABSWRZ6YJHSXQWGNX",
        attrs: {
          status: "Active",
          createDate: "2023-09-09T08:16:09.968Z",
          lastUsedDate: "never",
          lastUsedService: null,
          lastUsedRegion: null,
        },
      },
    ]);
  });

  it("a user with two keys, one used and one never used", () => {
    const { arn, r } = eveKeys();
    const b = mapPage(
      result(r, {
        AccessKeyMetadata: [
          {
            UserName: "eve+ops@corp.example",
            AccessKeyId: "AKIAUSED000000000001",
            Status: "Active",
            CreateDate: "2024-01-01T00:00:00.000Z",
          },
          {
            UserName: "eve+ops@corp.example",
            AccessKeyId: "AKIANEVER00000000002",
            Status: "Inactive",
            CreateDate: "2024-02-01T00:00:00.000Z",
          },
        ],
        IsTruncated: false,
      }),
    );
    expect(b.children).toHaveLength(2);
    const used = mapPage(
      result(b.children[0]!, {
        UserName: "eve+ops@corp.example",
        AccessKeyLastUsed: {
          LastUsedDate: "2026-01-02T03:04:05.000Z",
          ServiceName: "s3",
          Region: "eu-west-1",
        },
      }),
    ).resources[0]!;
    const never = mapPage(
      result(b.children[1]!, {
        UserName: "eve+ops@corp.example",
        AccessKeyLastUsed: { ServiceName: "N/A", Region: "N/A" },
      }),
    ).resources[0]!;
    expect(used).toMatchObject({ parentId: arn, name: "eve+ops@corp.example|AKIAUSED000000000001" });
    expect(used.attrs).toMatchObject({
      lastUsedDate: "2026-01-02T03:04:05.000Z",
      lastUsedService: "s3",
      lastUsedRegion: "eu-west-1",
    });
    expect(never.attrs).toMatchObject({ status: "Inactive", lastUsedDate: "never" });
  });

  it("a page that brings each key's last use writes those keys itself, as their own pages would, and queues the rest", () => {
    const { r } = eveKeys();
    const used = {
      UserName: "eve+ops@corp.example",
      AccessKeyId: "AKIAUSED000000000001",
      Status: "Active",
      CreateDate: "2024-01-01T00:00:00.000Z",
    };
    const denied = { ...used, AccessKeyId: "AKIADENIED0000000002", Status: "Inactive" };
    const lastUse = { LastUsedDate: "2026-01-02T03:04:05.000Z", ServiceName: "s3", Region: "eu-west-1" };
    const b = mapPage(
      result(r, {
        AccessKeyMetadata: [{ ...used, AccessKeyLastUsed: lastUse }, denied],
        IsTruncated: false,
      }),
    );
    // The row the key's own GetAccessKeyLastUsed page writes: a key is the same row whichever way it came.
    const plain = mapPage(result(r, { AccessKeyMetadata: [used], IsTruncated: false }));
    const own = mapPage(result(plain.children[0]!, { UserName: used.UserName, AccessKeyLastUsed: lastUse }));
    expect(b.resources).toEqual(own.resources);
    expect(b.children.map((c) => [c.operation, c.params.AccessKeyId])).toEqual([
      ["GetAccessKeyLastUsed", "AKIADENIED0000000002"],
    ]);
    expect(b.scopeComplete).toBe(false);
    expect(b.scope).toBe(own.scope);
  });
});

describe("ListAccountAliases (recorded)", () => {
  it("names the account's iam_account resource after its alias", () => {
    const r = req("iam", "ListAccountAliases", {}, { accountId: ACCT, scope: `iam:${ACCT}:alias` });
    const b = mapPage(result(r, fixture("iam-list-account-aliases")));
    expect(b.resources).toEqual([
      {
        type: "iam_account",
        id: ACCT,
        parentType: "account",
        parentId: ACCT,
        name: "acme-management",
        attrs: { aliases: ["acme-management"] },
      },
    ]);
    const none = mapPage(result(r, { AccountAliases: [], IsTruncated: false }));
    expect(none.resources[0]?.name).toBe(ACCT);
  });
});

describe("edge cases (hand-written pages)", () => {
  const X = "111122223333";
  const a = (p: string) => `arn:aws:iam::${X}:${p}`;
  const role = (name: string, principal: unknown, extra: Record<string, unknown> = {}) => ({
    Path: "/",
    RoleName: name,
    RoleId: `AROA${name}`,
    Arn: a(`role/${name}`),
    CreateDate: "2024-01-01T00:00:00.000Z",
    AssumeRolePolicyDocument: enc({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: principal, Action: "sts:AssumeRole" }],
    }),
    RolePolicyList: [{ PolicyName: "r-inline", PolicyDocument: enc({ Statement: [] }) }],
    AttachedManagedPolicies: [],
    ...extra,
  });
  const page = {
    UserDetailList: [
      {
        Path: "/dept/eng/",
        UserName: "x+y=z,w.v@q-r",
        UserId: "AIDAEDGE",
        Arn: a("user/dept/eng/x+y=z,w.v@q-r"),
        CreateDate: "2024-01-01T00:00:00.000Z",
        UserPolicyList: [{ PolicyName: "u-inline", PolicyDocument: enc({ Statement: [] }) }],
        GroupList: ["ops.team"],
        AttachedManagedPolicies: [],
        Tags: [
          { Key: "email", Value: "xy@corp.example" },
          { Key: "Email", Value: "other@corp.example" },
        ],
      },
    ],
    GroupDetailList: [
      {
        Path: "/teams/",
        GroupName: "ops.team",
        GroupId: "AGPAEDGE",
        Arn: a("group/teams/ops.team"),
        CreateDate: "2024-01-01T00:00:00.000Z",
        GroupPolicyList: [{ PolicyName: "g-inline", PolicyDocument: enc({ Statement: [] }) }],
        AttachedManagedPolicies: [],
      },
    ],
    RoleDetailList: [
      role("r1", { AWS: a("role/r2") }),
      role("r2", { AWS: [a("role/r1"), a("user/dept/eng/x+y=z,w.v@q-r")] }),
      role("whole-account", { AWS: "arn:aws:iam::444455556666:root" }),
      role("bare-account", { AWS: "444455556666" }),
      role("anyone", "*"),
      role("anyone-aws", { AWS: "*" }),
      {
        ...role("saml", {}),
        AssumeRolePolicyDocument: enc({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Federated: a("saml-provider/AWSSSO_0a1b2c3d4e5f6789_DO_NOT_DELETE") },
              Action: ["sts:AssumeRoleWithSAML", "sts:TagSession"],
              Condition: { StringEquals: { "SAML:aud": "https://signin.aws.amazon.com/saml" } },
            },
          ],
        }),
      },
      // A SAML provider offered only sts:AssumeRole can call nothing: no grant.
      role("saml-wrong-action", { Federated: a("saml-provider/okta") }),
      {
        ...role("denied", {}),
        AssumeRolePolicyDocument: enc({
          Statement: [
            { Effect: "Allow", Principal: { AWS: [a("role/r1"), a("role/r2")] }, Action: "sts:AssumeRole" },
            { Effect: "Deny", Principal: { AWS: a("role/r1") }, Action: "sts:*" },
            {
              Effect: "Allow",
              Principal: { AWS: "444455556666" },
              Action: "sts:AssumeRole",
              Condition: { StringEquals: { "sts:ExternalId": "vendor-42" } },
            },
          ],
        }),
      },
      {
        ...role("mixed", {}),
        AssumeRolePolicyDocument: enc({
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: a("role/r1") },
              Action: ["sts:TagSession", "sts:AssumeRole"],
            },
            { Effect: "Allow", Principal: { AWS: a("role/r2") }, Action: "sts:*" },
            { Effect: "Deny", Principal: { AWS: a("role/anyone") }, Action: "sts:AssumeRole" },
            { Effect: "Allow", Principal: { AWS: a("role/saml") }, Action: "sts:AssumeRoleWithSAML" },
          ],
        }),
      },
    ],
    Policies: [],
    IsTruncated: false,
  };
  const b = mapPage(result(gaadReq(X), page));
  const trust = (r: string) =>
    b.grants
      .filter((g) => g.entitlementId === `iam_role:${a(`role/${r}`)}:assignment`)
      .map((g) => [g.principalType, g.principalId, g.expandable]);

  it("paths and odd characters in names; emails from the name and email tags", () => {
    const u = b.resources.find((r) => r.type === "iam_user")!;
    expect(u).toMatchObject({ id: a("user/dept/eng/x+y=z,w.v@q-r"), name: "x+y=z,w.v@q-r" });
    expect(u.attrs.emails).toEqual(["x+y=z,w.v@q-r", "xy@corp.example", "other@corp.example"]);
    expect(ids(b.grants)).toContain(`iam_group:${a("group/teams/ops.team")}:member:iam_user:${u.id}`);
  });

  it("roles trusting roles in a cycle are expandable role grants", () => {
    expect(trust("r1")).toEqual([["iam_role", a("role/r2"), true]]);
    expect(trust("r2")).toEqual([
      ["iam_role", a("role/r1"), true],
      ["iam_user", a("user/dept/eng/x+y=z,w.v@q-r"), false],
    ]);
  });

  const trustGrant = (r: string, principalId: string) =>
    b.grants.find(
      (g) => g.entitlementId === `iam_role:${a(`role/${r}`)}:assignment` && g.principalId === principalId,
    );

  it("whole accounts, wildcards and federated principals are recorded; non-assume actions ignored", () => {
    expect(trust("whole-account")).toEqual([["aws_account", "444455556666", false]]);
    expect(trust("bare-account")).toEqual([["aws_account", "444455556666", false]]);
    expect(trust("anyone")).toEqual([["wildcard", "*", false]]);
    expect(trust("anyone-aws")).toEqual([["wildcard", "*", false]]);
    expect(trust("saml-wrong-action")).toEqual([]);
    // A Deny for a principal the role never trusted changes nothing; SAML is granted to its provider only.
    expect(trust("mixed")).toEqual([
      ["iam_role", a("role/r1"), true],
      ["iam_role", a("role/r2"), true],
    ]);
    expect(trustGrant("mixed", a("role/r1"))?.attrs).toEqual({
      actions: ["sts:AssumeRole"],
      conditional: false,
      statements: [0],
    });
  });

  it("an Identity Center style SAML trust is a federated grant with the SAML action and its aud", () => {
    const provider = a("saml-provider/AWSSSO_0a1b2c3d4e5f6789_DO_NOT_DELETE");
    expect(trust("saml")).toEqual([["federated", provider, false]]);
    expect(trustGrant("saml", provider)?.attrs).toEqual({
      actions: ["sts:AssumeRoleWithSAML"],
      conditional: true,
      statements: [0],
      conditions: { samlAud: ["https://signin.aws.amazon.com/saml"] },
    });
  });

  it("an explicit Deny removes the principal; conditions ride on their grant", () => {
    expect(trust("denied")).toEqual([
      ["iam_role", a("role/r2"), true],
      ["aws_account", "444455556666", false],
    ]);
    expect(trustGrant("denied", "444455556666")?.attrs).toEqual({
      actions: ["sts:AssumeRole"],
      conditional: true,
      statements: [2],
      // The external id is a shared secret: stored and emitted as its fingerprint only.
      conditions: { externalId: [fingerprint("vendor-42")] },
    });
    // The value rides beside the role's row (for the writer's table), never in its attrs.
    const role = b.resources.find((r) => r.id === a("role/denied"))!;
    expect(role.trustExternalIds).toEqual([{ fingerprint: fingerprint("vendor-42"), value: "vendor-42" }]);
    expect(JSON.stringify(role.attrs)).not.toContain("vendor-42");
    expect(b.resources.find((r) => r.id === a("role/mixed"))?.trustExternalIds).toEqual([]);
  });

  it("inline policies on all three owner types, each with one grant to its owner", () => {
    const inl = b.resources.filter((r) => r.type === "inline_policy");
    expect(inl.map((r) => [r.parentType, r.name]).filter(([t]) => t !== "iam_role")).toEqual([
      ["iam_user", "u-inline"],
      ["iam_group", "g-inline"],
    ]);
    expect(inl.filter((r) => r.parentType === "iam_role")).toHaveLength(10);
    const g = b.grants.find(
      (x) => x.entitlementId === `inline_policy:${a("group/teams/ops.team")}::inline::g-inline:attached`,
    );
    expect(g).toMatchObject({
      principalType: "iam_group",
      principalId: a("group/teams/ops.team"),
      expandable: true,
    });
  });

  it("a membership whose group is on a later page is carried to that page", () => {
    const first = mapPage(
      result(gaadReq(X), { UserDetailList: page.UserDetailList, IsTruncated: true, Marker: "m1" }),
    );
    expect(first.grants.filter((g) => g.entitlementId.startsWith("iam_group:"))).toEqual([]);
    const next = first.children[0]!;
    expect(next).toMatchObject({
      operation: "GetAccountAuthorizationDetails",
      pageToken: "m1",
      pageIndex: 1,
    });
    const second = mapPage(result(next, { GroupDetailList: page.GroupDetailList, IsTruncated: false }));
    expect(ids(second.grants)).toContain(
      `iam_group:${a("group/teams/ops.team")}:member:iam_user:${a("user/dept/eng/x+y=z,w.v@q-r")}`,
    );
    expect(second.scopeComplete).toBe(true);
    expect(second.warnings).toEqual([]);
  });

  it("trustPrincipals tolerates junk", () => {
    expect(trustPrincipals("not json")).toEqual([]);
    expect(trustPrincipals(null)).toEqual([]);
    expect(
      trustPrincipals(
        JSON.stringify({ Statement: { Effect: "Allow", Action: "*", Principal: { AWS: "x" } } }),
      ),
    ).toEqual([
      {
        principalType: "aws_principal",
        principalId: "x",
        expandable: false,
        actions: ["sts:AssumeRole"],
        conditions: null,
        conditional: false,
        statements: [0],
      },
    ]);
  });

  it("a denied GAAD keeps the account's scope (and, by prefix, its keys and alias)", () => {
    const denied = mapPage({ ...result(gaadReq(X), {}), skipped: "AccessDenied" });
    expect(denied.keepScopes).toEqual([`iam:${X}`]);
    expect(denied.resources).toEqual([]);
  });
});
