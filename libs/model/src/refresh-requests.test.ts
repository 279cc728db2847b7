import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { PageResult, RefreshIntent } from "@grantline/contracts";
import { pageResult } from "./aws/page-result.fixture.ts";
import { mapPage } from "./map-page.ts";
import { BYPASS_CACHE_PARAM, refreshRequests } from "./refresh-requests.ts";

// Pages recorded from aws-sim's `tiny` organization (see aws/identity-center.test.ts): a targeted refresh of one
// object must write exactly the row the full sync's list page wrote for it.
const walk = JSON.parse(
  readFileSync(new URL("./aws/__fixtures__/identity-center-walk.json", import.meta.url), "utf8"),
) as { pages: PageResult[] };
const page = (operation: string): PageResult => walk.pages.find((p) => p.request.operation === operation)!;
const base = { runId: "00000000-0000-4000-8000-000000000001", sourceId: "acme" };
const one = (intent: RefreshIntent) => {
  const rs = refreshRequests(intent, base);
  expect(rs).toHaveLength(1);
  return rs[0]!;
};
const ACCOUNT = "644332811608";
const INSTANCE = "arn:aws:sso:::instance/ssoins-1";
const PS = "arn:aws:sso:::permissionSet/ssoins-1/ps-1";

describe("refreshRequests", () => {
  it("names the full sync's operation, params and scope for each kind", () => {
    const cases: Array<[RefreshIntent, string, Record<string, unknown>, string | null]> = [
      [
        { kind: "assignments", instanceArn: INSTANCE, accountId: ACCOUNT, permissionSetArn: PS },
        "sso-admin.ListAccountAssignments",
        { InstanceArn: INSTANCE, AccountId: ACCOUNT, PermissionSetArn: PS },
        `sso-assign:${ACCOUNT}|${PS}`,
      ],
      [
        { kind: "permission-set-accounts", instanceArn: INSTANCE, permissionSetArn: PS },
        "sso-admin.ListAccountsForProvisionedPermissionSet",
        { InstanceArn: INSTANCE, PermissionSetArn: PS },
        null,
      ],
      [
        { kind: "permission-set", instanceArn: INSTANCE, permissionSetArn: PS },
        "sso-admin.DescribePermissionSet",
        { InstanceArn: INSTANCE, PermissionSetArn: PS, [BYPASS_CACHE_PARAM]: true },
        null,
      ],
      [
        { kind: "group-members", identityStoreId: "d-1", groupId: "g-1" },
        "identitystore.ListGroupMemberships",
        { IdentityStoreId: "d-1", GroupId: "g-1" },
        "sso-members:g-1",
      ],
      [
        { kind: "sso-user", identityStoreId: "d-1", userId: "u-1" },
        "identitystore.DescribeUser",
        { IdentityStoreId: "d-1", UserId: "u-1" },
        "idstore-users:d-1",
      ],
      [
        { kind: "sso-group", identityStoreId: "d-1", groupId: "g-1" },
        "identitystore.DescribeGroup",
        { IdentityStoreId: "d-1", GroupId: "g-1" },
        "idstore-groups:d-1",
      ],
      [
        { kind: "account", accountId: ACCOUNT },
        "organizations.DescribeAccount",
        { AccountId: ACCOUNT },
        null,
      ],
      [{ kind: "org-policy", policyId: "p-1" }, "organizations.DescribePolicy", { PolicyId: "p-1" }, null],
      [{ kind: "organization-tree" }, "organizations.ListRoots", { SweepChildren: true }, null],
    ];
    for (const [intent, op, params, scope] of cases) {
      const r = one(intent);
      expect(`${r.service}.${r.operation}`, intent.kind).toBe(op);
      expect(r.params, intent.kind).toEqual(params);
      expect(r.scope, intent.kind).toBe(scope);
      expect(r.runId).toBe(base.runId);
    }
    expect(refreshRequests({ kind: "source" }, base)).toEqual([]);
    expect(refreshRequests({ kind: "membership", identityStoreId: "d-1", membershipId: "m" }, base)).toEqual(
      [],
    );
  });

  it("IAM intents are the translation table's IAM refreshes; iam-account is the account's GAAD chain", () => {
    const rs = refreshRequests({ kind: "iam-role", accountId: ACCOUNT, roleName: "r" }, base);
    expect(rs.map((r) => [r.operation, r.accountId, r.scope])).toEqual([
      ["RefreshRole", ACCOUNT, `iam:${ACCOUNT}`],
    ]);
    const account = refreshRequests({ kind: "iam-account", accountId: ACCOUNT }, base);
    expect(account.map((r) => [r.operation, r.accountId, r.scope])).toEqual([
      ["GetAccountAuthorizationDetails", ACCOUNT, `iam:${ACCOUNT}`],
      ["ListAccountAliases", ACCOUNT, `iam:${ACCOUNT}:alias`],
    ]);
  });

  it("a user or group read alone is the row its list page wrote, in the list's scope, never closing it", () => {
    const users = mapPage(page("ListUsers"));
    const u = page("ListUsers").page.Users as Array<Record<string, unknown>>;
    const store = u[0]!.IdentityStoreId as string;
    const r = one({ kind: "sso-user", identityStoreId: store, userId: u[0]!.UserId as string });
    const b = mapPage(pageResult(r, u[0]!));
    expect(b.resources).toEqual([users.resources[0]]);
    expect(b.scope).toBe(users.scope);
    expect(b.scopeComplete).toBe(false);

    const groups = mapPage(page("ListGroups"));
    const g = (page("ListGroups").page.Groups as Array<Record<string, unknown>>)[0]!;
    const gb = mapPage(
      pageResult(one({ kind: "sso-group", identityStoreId: store, groupId: g.GroupId as string }), g),
    );
    expect(gb.resources).toEqual([groups.resources[0]]);
    expect(gb.entitlements).toEqual([groups.entitlements[0]]);
    expect(gb.scopeComplete).toBe(false);
    expect(gb.children).toEqual([]);
  });

  it("an account read alone hands its ListParents task the fields ListAccounts hands it", () => {
    const listed = mapPage(page("ListAccounts")).children[0]!;
    const a = (page("ListAccounts").page.Accounts as Array<Record<string, unknown>>)[0]!;
    const r = one({ kind: "account", accountId: a.Id as string });
    const b = mapPage(pageResult(r, { Account: a }));
    expect(b.children).toHaveLength(1);
    expect(b.children[0]!.operation).toBe("ListParents");
    expect(b.children[0]!.params).toEqual(listed.params);
    expect(b.resources).toEqual([]);
  });

  it("a vanished object is deleted by object sweeps; a vanished group's or pair's list empties its scope", () => {
    const vanished = (intent: RefreshIntent) =>
      mapPage({ ...pageResult(one(intent), {}), skipped: "NotFound", warnings: ["gone"] });
    const user = vanished({ kind: "sso-user", identityStoreId: "d-1", userId: "u-1" });
    expect(user.objectSweeps).toEqual([
      { kind: "resource", type: "sso_user", id: "u-1" },
      { kind: "held-by", principalType: "sso_user", principalId: "u-1", scope: null },
    ]);
    expect(user.keepScopes).toEqual([]);
    expect(user.scopeComplete).toBe(false);
    expect(vanished({ kind: "sso-group", identityStoreId: "d-1", groupId: "g-1" }).objectSweeps).toEqual([
      { kind: "resource", type: "sso_group", id: "g-1" },
      { kind: "held-by", principalType: "sso_group", principalId: "g-1", scope: null },
    ]);
    expect(vanished({ kind: "account", accountId: ACCOUNT }).objectSweeps).toEqual([
      { kind: "resource", type: "account", id: ACCOUNT },
    ]);
    expect(vanished({ kind: "org-policy", policyId: "p-1" }).objectSweeps).toEqual([
      { kind: "resource", type: "org_policy", id: "p-1" },
    ]);
    expect(
      vanished({ kind: "permission-set", instanceArn: INSTANCE, permissionSetArn: PS }).objectSweeps,
    ).toEqual([{ kind: "resource", type: "permission_set", id: PS }]);
    const members = vanished({ kind: "group-members", identityStoreId: "d-1", groupId: "g-1" });
    expect([members.scopeComplete, members.keepScopes, members.grants]).toEqual([true, [], []]);
    // Denied stays kept, as in a full run.
    const denied = mapPage({
      ...pageResult(one({ kind: "sso-user", identityStoreId: "d-1", userId: "u-1" }), {}),
      skipped: "AccessDenied",
    });
    expect([denied.objectSweeps, denied.keepScopes]).toEqual([undefined, ["idstore-users:d-1"]]);
  });

  it("the tree walk deletes OUs it did not see under each parent; policy targets come from DescribePolicy", () => {
    const roots = mapPage(
      pageResult(one({ kind: "organization-tree" }), {
        Roots: [{ Id: "r-1", Arn: "arn:aws:organizations::1:root/o-1/r-1", PolicyTypes: [] }],
      }),
    );
    const ous = roots.children.find((c) => c.operation === "ListOrganizationalUnitsForParent")!;
    const b = mapPage(pageResult(ous, { OrganizationalUnits: [{ Id: "ou-1-1", Name: "A" }] }));
    expect(b.objectSweeps).toEqual([
      { kind: "children", parentType: "root", parentId: "r-1", type: "organizational_unit", except: [] },
    ]);
    expect(b.children[0]!.params).toEqual({ ParentId: "ou-1-1", SweepChildren: true });
    // A full run's walk leaves deletions to its source-wide sweep.
    const full = mapPage(pageResult({ ...ous, params: { ParentId: "r-1" } }, { OrganizationalUnits: [] }));
    expect(full.objectSweeps).toBeUndefined();

    const p = mapPage(
      pageResult(one({ kind: "org-policy-targets", policyId: "p-1" }), {
        Policy: { PolicySummary: { Id: "p-1", Name: "x", Type: "SERVICE_CONTROL_POLICY" }, Content: "{}" },
      }),
    );
    expect(p.children.map((c) => [c.operation, c.params, c.scope])).toEqual([
      ["ListTargetsForPolicy", { PolicyId: "p-1" }, "org-policies:SERVICE_CONTROL_POLICY:p-1:targets"],
    ]);
  });
});
