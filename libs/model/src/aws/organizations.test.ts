import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { mapPage } from "../map-page.ts";
import { pageResult, testRequests } from "./page-result.fixture.ts";
import { orgPoliciesScope, orgPolicyTargetsScope } from "../ids.ts";

const RUN = "00000000-0000-4000-8000-000000000002";
// AWS's documented examples for these calls (see the fixture's `_source`).
const aws = JSON.parse(
  readFileSync(new URL("./__fixtures__/organizations-policies.json", import.meta.url), "utf8"),
) as Record<string, Record<string, unknown>>;
const page = (op: string): Record<string, unknown> => structuredClone(aws[op]!);

const req = testRequests(RUN);
const result = pageResult;

const SCP = "SERVICE_CONTROL_POLICY";
const RCP = "RESOURCE_CONTROL_POLICY";

describe("Organizations SCPs and RCPs", () => {
  it("a root starts ListPolicies only for the synced types it reports ENABLED", () => {
    const b = mapPage(result(req("organizations", "ListRoots", {}), page("ListRoots")));
    const lists = b.children.filter((c) => c.operation === "ListPolicies");
    // RCP is still PENDING_ENABLE and tag policies are not synced: only the SCPs are read.
    expect(lists.map((c) => [c.params, c.scope])).toEqual([[{ Filter: SCP }, orgPoliciesScope(SCP)]]);
    expect(b.children.filter((c) => c.operation === "ListOrganizationalUnitsForParent")).toHaveLength(1);
    expect(b.resources[0]?.attrs.policyTypes).toEqual([
      { type: RCP, status: "PENDING_ENABLE" },
      { type: SCP, status: "ENABLED" },
      { type: "TAG_POLICY", status: "ENABLED" },
    ]);

    const both = page("ListRoots");
    const root = (both.Roots as Array<Record<string, unknown>>)[0]!;
    root.PolicyTypes = [
      { Type: RCP, Status: "ENABLED" },
      { Type: SCP, Status: "ENABLED" },
    ];
    const b2 = mapPage(result(req("organizations", "ListRoots", {}), both));
    expect(b2.children.filter((c) => c.operation === "ListPolicies").map((c) => c.params.Filter)).toEqual([
      RCP,
      SCP,
    ]);
    root.PolicyTypes = [];
    const none = mapPage(result(req("organizations", "ListRoots", {}), both));
    expect(none.children.filter((c) => c.operation === "ListPolicies")).toEqual([]);
  });

  it("ListPolicies asks for each policy's details and targets, and never closes its scope", () => {
    const r = req("organizations", "ListPolicies", { Filter: SCP }, { scope: orgPoliciesScope(SCP) });
    const b = mapPage(result(r, page("ListPolicies")));
    const ids = ["p-examplepolicyid111", "p-examplepolicyid222", "p-FullAWSAccess"];
    expect(b.resources).toEqual([]);
    expect(b.children.filter((c) => c.operation === "DescribePolicy").map((c) => c.params)).toEqual(
      ids.map((PolicyId) => ({ PolicyId })),
    );
    const targets = b.children.filter((c) => c.operation === "ListTargetsForPolicy");
    expect(targets.map((c) => [c.params, c.scope])).toEqual(
      ids.map((PolicyId) => [{ PolicyId }, orgPolicyTargetsScope(SCP, PolicyId)]),
    );
    // Policies are written by DescribePolicy tasks that may commit after this page: no sweep here.
    expect(b.scopeComplete).toBe(false);
  });

  it("keeps paging when a page is empty but NextToken is set", () => {
    const r = req("organizations", "ListPolicies", { Filter: SCP }, { scope: orgPoliciesScope(SCP) });
    const b = mapPage(result(r, { Policies: [], NextToken: "tok-2" }));
    expect(b.children).toHaveLength(1);
    expect(b.children[0]).toMatchObject({
      operation: "ListPolicies",
      params: { Filter: SCP },
      pageToken: "tok-2",
      pageIndex: 1,
      scope: orgPoliciesScope(SCP),
    });
  });

  it("DescribePolicy writes the policy (content as its document) and its attached entitlement in the type's scope", () => {
    const b = mapPage(
      result(
        req("organizations", "DescribePolicy", { PolicyId: "p-examplepolicyid111" }),
        page("DescribePolicy"),
      ),
    );
    const desc = page("DescribePolicy").Policy as { Content: string };
    expect(b.resources).toEqual([
      {
        type: "org_policy",
        id: "p-examplepolicyid111",
        parentType: null,
        parentId: null,
        name: "AllowAllS3Actions",
        attrs: {
          arn: "arn:aws:organizations::111111111111:policy/o-exampleorgid/service_control_policy/p-examplepolicyid111",
          policyType: SCP,
          awsManaged: false,
          description: "Enables admins to delegate S3 permissions",
          document: desc.Content,
        },
        scope: orgPoliciesScope(SCP),
      },
    ]);
    expect(JSON.parse(String(b.resources[0]!.attrs.document))).toMatchObject({ Version: "2012-10-17" });
    expect(b.entitlements).toEqual([
      {
        id: "org_policy:p-examplepolicyid111:attached",
        resourceType: "org_policy",
        resourceId: "p-examplepolicyid111",
        slug: "attached",
        name: "AllowAllS3Actions attached",
        attrs: {},
        scope: orgPoliciesScope(SCP),
      },
    ]);
    // The request's own scope is none, so its (single-page) chain sweeps nothing.
    expect(b.scope).toBeNull();
  });

  it("ListTargetsForPolicy grants the policy to each root, OU and account, and closes the policy's targets scope", () => {
    const scope = orgPolicyTargetsScope(SCP, "p-FullAWSAccess");
    const r = req("organizations", "ListTargetsForPolicy", { PolicyId: "p-FullAWSAccess" }, { scope });
    const b = mapPage(result(r, page("ListTargetsForPolicy")));
    const ent = "org_policy:p-FullAWSAccess:attached";
    expect(b.grants.map((g) => [g.id, g.principalType, g.principalId, g.expandable])).toEqual([
      [`${ent}:root:r-examplerootid111`, "root", "r-examplerootid111", false],
      [`${ent}:account:333333333333`, "account", "333333333333", false],
      [
        `${ent}:organizational_unit:ou-examplerootid111-exampleouid111`,
        "organizational_unit",
        "ou-examplerootid111-exampleouid111",
        false,
      ],
    ]);
    expect(b.scope).toBe(scope);
    expect(b.scopeComplete).toBe(true);
    const more = mapPage(result(r, { ...page("ListTargetsForPolicy"), NextToken: "t2" }));
    expect(more.scopeComplete).toBe(false);
  });

  it("a denied ListPolicies keeps the type's scope, and by prefix every policy's targets", () => {
    const r = req("organizations", "ListPolicies", { Filter: RCP }, { scope: orgPoliciesScope(RCP) });
    const b = mapPage({ ...result(r, {}), skipped: "AccessDenied", warnings: ["denied"] });
    expect(b.keepScopes).toEqual([orgPoliciesScope(RCP)]);
    expect(orgPolicyTargetsScope(RCP, "p-1").startsWith(b.keepScopes[0]!)).toBe(true);
    expect(orgPolicyTargetsScope(SCP, "p-1").startsWith(b.keepScopes[0]!)).toBe(false);
  });
});

describe("account state and Identity Store user status", () => {
  const parents = (account: Record<string, unknown>) => {
    const list = mapPage(
      result(req("organizations", "ListAccounts", { iamCrossAccount: true }), {
        Accounts: [{ Id: "333333333333", Name: "Dev", Email: "dev@example.com", ...account }],
      }),
    );
    const lp = list.children[0]!;
    return mapPage(result(lp, { Parents: [{ Id: "r-examplerootid111", Type: "ROOT" }] }));
  };

  it.each([
    [{ Status: "ACTIVE", State: "ACTIVE" }, "ACTIVE", "ACTIVE", false, true],
    [{ Status: "SUSPENDED", State: "SUSPENDED" }, "SUSPENDED", "SUSPENDED", true, false],
    [
      { Status: "PENDING_CLOSURE", State: "PENDING_CLOSURE" },
      "PENDING_CLOSURE",
      "PENDING_CLOSURE",
      true,
      false,
    ],
    // After Status retires: State alone, with CLOSED.
    [{ State: "CLOSED" }, null, "CLOSED", true, false],
    [{ State: "ACTIVE" }, null, "ACTIVE", false, true],
    // Before State existed: Status alone.
    [{ Status: "SUSPENDED" }, "SUSPENDED", "SUSPENDED", true, false],
  ])("%j → status %s, state %s, suspended %s (IAM synced: %s)", (fields, status, state, suspended, iam) => {
    const b = parents(fields);
    expect(b.resources[0]!.attrs).toMatchObject({ status, state, suspended });
    expect(b.children.some((c) => c.operation === "GetAccountAuthorizationDetails")).toBe(iam);
  });

  it("a ListAccounts page that brings each account's parents writes those accounts as their own pages would", () => {
    const r = req("organizations", "ListAccounts", { iamCrossAccount: true });
    const dev = { Id: "333333333333", Name: "Dev", Email: "dev@example.com", State: "ACTIVE" };
    const gone = { Id: "444444444444", Name: "Old", Email: "old@example.com", State: "ACTIVE" };
    const rootParent = [{ Id: "r-examplerootid111", Type: "ROOT" }];
    const b = mapPage(result(r, { Accounts: [{ ...dev, Parents: rootParent }, gone] }));
    // What the account's own ListParents task writes and queues.
    const own = mapPage(
      result(mapPage(result(r, { Accounts: [dev] })).children[0]!, { Parents: rootParent }),
    );
    expect(b.resources).toEqual(own.resources.map((x) => ({ ...x, scope: own.scope })));
    expect(b.resources[0]).toMatchObject({
      id: "333333333333",
      parentType: "root",
      parentId: "r-examplerootid111",
    });
    expect(b.children.filter((c) => c.operation !== "ListParents")).toEqual(own.children);
    expect(own.children.some((c) => c.operation === "GetAccountAuthorizationDetails")).toBe(true);
    // The account without its parents gets its own ListParents task, carrying its fields.
    expect(b.children.filter((c) => c.operation === "ListParents").map((c) => c.params.ChildId)).toEqual([
      "444444444444",
    ]);
  });

  it("users' status is Identity Store's UserStatus, null when it does not say", () => {
    const store = "d-1234567890";
    const b = mapPage(
      result(req("identitystore", "ListUsers", { IdentityStoreId: store }), {
        Users: [
          { UserId: "u-1", UserName: "ana", IdentityStoreId: store, UserStatus: "DISABLED" },
          { UserId: "u-2", UserName: "bo", IdentityStoreId: store, UserStatus: "ENABLED" },
          { UserId: "u-3", UserName: "cy", IdentityStoreId: store },
        ],
      }),
    );
    expect(b.resources.map((r) => [r.id, r.attrs.status])).toEqual([
      ["u-1", "DISABLED"],
      ["u-2", "ENABLED"],
      ["u-3", null],
    ]);
  });
});
