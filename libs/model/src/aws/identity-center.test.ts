import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { PermanentError, type PageResult, type ResultBatch } from "@grantline/contracts";
import { mapPage } from "../map-page.ts";
import { chooseAssignmentRoute } from "./identity-center.ts";

// Pages recorded from aws-sim's `tiny` organization through the fetcher's AWS executor
// (libs/model/scripts/record-identity-center-pages.ts), with the organization they came from.
interface Walk {
  org: {
    organization: { id: string };
    roots: Array<{ id: string }>;
    accounts: Array<{ id: string; name: string; parentId: string; status: string }>;
    identityCenter: {
      instanceArn: string;
      users: Array<{ userId: string; userName: string }>;
      groups: Array<{ groupId: string }>;
      memberships: Array<{ groupId: string; userId: string }>;
      permissionSets: Array<{
        arn: string;
        name: string;
        managedPolicies: string[];
        provisionedTo: string[];
      }>;
      assignments: Array<{
        accountId: string;
        permissionSetArn: string;
        principalType: string;
        principalId: string;
      }>;
    };
  };
  pages: PageResult[];
}
const walk = JSON.parse(
  readFileSync(new URL("./__fixtures__/identity-center-walk.json", import.meta.url), "utf8"),
) as Walk;
const batches: ResultBatch[] = walk.pages.map(mapPage);
const resources = batches.flatMap((b) => b.resources);
const grants = batches.flatMap((b) => b.grants);
const ic = walk.org.identityCenter;

describe("Identity Center and Organizations mappers (recorded pages)", () => {
  it("accounts are written once each, with their parent and status", () => {
    const accounts = resources.filter((r) => r.type === "account");
    expect(accounts.map((a) => a.id).sort()).toEqual(walk.org.accounts.map((a) => a.id).sort());
    for (const a of walk.org.accounts) {
      const r = accounts.find((x) => x.id === a.id)!;
      expect(r.parentId).toBe(a.parentId);
      expect(r.parentType).toBe(a.parentId.startsWith("r-") ? "root" : "organizational_unit");
      expect(r.name).toBe(a.name);
      expect(r.attrs.suspended).toBe(a.status === "SUSPENDED");
    }
  });

  it("roots hang off the organization", () => {
    const roots = resources.filter((r) => r.type === "root");
    expect(roots.map((r) => r.id)).toEqual(walk.org.roots.map((r) => r.id));
    expect(
      roots.every((r) => r.parentType === "organization" && r.parentId === walk.org.organization.id),
    ).toBe(true);
  });

  it("group memberships become member grants on the group's entitlement", () => {
    const members = grants.filter((g) => g.entitlementId.endsWith(":member"));
    expect(members.map((g) => g.id).sort()).toEqual(
      ic.memberships.map((m) => `sso_group:${m.groupId}:member:sso_user:${m.userId}`).sort(),
    );
  });

  it("assignments become account|permission-set grants; a group's is expandable", () => {
    const provisioned = new Set(
      ic.permissionSets.flatMap((p) => p.provisionedTo.map((a) => `${a}|${p.arn}`)),
    );
    const want = ic.assignments
      .filter((a) => provisioned.has(`${a.accountId}|${a.permissionSetArn}`))
      .map(
        (a) =>
          `${a.accountId}|${a.permissionSetArn}:${a.principalType === "GROUP" ? "sso_group" : "sso_user"}:${a.principalId}`,
      );
    const got = grants.filter((g) => g.entitlementId.includes("|"));
    expect(got.map((g) => g.id).sort()).toEqual(want.sort());
    expect(got.every((g) => g.expandable === (g.principalType === "sso_group"))).toBe(true);
  });

  it("permission sets carry their policies; users their identity store and emails", () => {
    for (const ps of ic.permissionSets) {
      const r = resources.find((x) => x.type === "permission_set" && x.id === ps.arn)!;
      expect(r.name).toBe(ps.name);
      expect(r.parentId).toBe(ic.instanceArn);
      expect(r.attrs.managedPolicies).toEqual([...ps.managedPolicies].sort());
    }
    const users = resources.filter((r) => r.type === "sso_user");
    expect(users).toHaveLength(ic.users.length);
    for (const u of users) if (u.name.includes("@")) expect(u.attrs.emails).toContain(u.name);
  });

  it("a permission set's boundary: a managed ARN, a customer-managed name and path, or null", () => {
    const described = walk.pages.find((p) => p.request.operation === "DescribePermissionSet")!;
    const boundaryOf = (b: unknown) =>
      mapPage({ ...described, page: { ...described.page, PermissionsBoundary: b } }).resources[0]!.attrs
        .permissionsBoundary;
    expect(boundaryOf({ ManagedPolicyArn: "arn:aws:iam::aws:policy/PowerUserAccess" })).toEqual({
      managedPolicyArn: "arn:aws:iam::aws:policy/PowerUserAccess",
    });
    expect(boundaryOf({ CustomerManagedPolicyReference: { Name: "Boundary", Path: "/org/" } })).toEqual({
      customerManagedPolicy: { name: "Boundary", path: "/org/" },
    });
    expect(boundaryOf({ CustomerManagedPolicyReference: { Name: "Boundary" } })).toEqual({
      customerManagedPolicy: { name: "Boundary", path: "/" },
    });
    expect(boundaryOf(null)).toBeNull();
    // A page cached before boundaries were read has no member at all.
    expect(boundaryOf(undefined)).toBeNull();
  });

  it("chains close their scope on the last page only", () => {
    for (const b of batches) {
      const hasNext = b.children.some(
        (c) =>
          c.operation === walk.pages.find((p) => p.request.taskId === b.taskId)!.request.operation &&
          c.pageToken !== null,
      );
      expect(b.scopeComplete).toBe(!hasNext);
    }
  });

  it("a denied page keeps its scope and records a warning; an unreadable one is permanent", () => {
    const assign = walk.pages.find((p) => p.request.operation === "ListAccountAssignments")!;
    const denied = mapPage({ ...assign, page: {}, skipped: "AccessDenied", warnings: ["denied"] });
    expect(denied).toMatchObject({
      grants: [],
      children: [],
      scopeComplete: false,
      keepScopes: [assign.request.scope],
      warnings: ["denied"],
    });
    expect(() => mapPage({ ...assign, page: { AccountAssignments: "nope" } })).toThrow(PermanentError);
    expect(() => mapPage({ ...assign, request: { ...assign.request, operation: "Nope" } })).toThrow(
      /no mapper/,
    );
  });
});

describe("the principal assignment route", () => {
  const withRoute = (p: PageResult): PageResult => ({
    ...p,
    request: {
      ...p.request,
      params: { ...p.request.params, AssignmentRoute: "principals", InstanceArn: ic.instanceArn },
    },
  });
  const pageOf = (op: string) => walk.pages.find((p) => p.request.operation === op)!;

  it("spreads the route from the instance to users, groups and permission sets, and drops pair discovery", () => {
    const instances = mapPage(withRoute(pageOf("ListInstances")));
    expect(instances.children.map((c) => c.params.AssignmentRoute)).toEqual([
      "principals",
      "principals",
      "principals",
    ]);
    const sets = mapPage(withRoute(pageOf("ListPermissionSets")));
    expect(sets.children.map((c) => c.operation)).not.toContain("ListAccountsForProvisionedPermissionSet");
    const users = mapPage(withRoute(pageOf("ListUsers")));
    const forPrincipal = users.children.filter((c) => c.operation === "ListAccountAssignmentsForPrincipal");
    expect(forPrincipal.map((c) => c.params.PrincipalId).sort()).toEqual(
      ic.users.map((u) => u.userId).sort(),
    );
    expect(forPrincipal[0]?.scope).toMatch(/^sso-assign-principal:USER:/);
    const groups = mapPage(withRoute(pageOf("ListGroups")));
    expect(groups.children.filter((c) => c.operation === "ListAccountAssignmentsForPrincipal")).toHaveLength(
      ic.groups.length,
    );
  });

  it("maps a principal's assignments to the very grants the pair route produces", () => {
    const a = ic.assignments[0]!;
    const page: PageResult = {
      ...pageOf("ListUsers"),
      request: {
        ...pageOf("ListUsers").request,
        service: "sso-admin",
        operation: "ListAccountAssignmentsForPrincipal",
        params: { InstanceArn: ic.instanceArn, PrincipalType: a.principalType, PrincipalId: a.principalId },
      },
      page: {
        AccountAssignments: [
          {
            ...a,
            PrincipalType: a.principalType,
            PrincipalId: a.principalId,
            AccountId: a.accountId,
            PermissionSetArn: a.permissionSetArn,
          },
        ],
      },
    };
    const [g] = mapPage(page).grants;
    expect(grants.map((x) => x.id)).toContain(g?.id);
    expect(grants.find((x) => x.id === g?.id)).toEqual(g);
  });

  it("is chosen from counts: pairs without a pair count, else whichever needs fewer calls", () => {
    expect(chooseAssignmentRoute("auto", null)).toBe("pairs");
    expect(chooseAssignmentRoute("auto", { principals: 5, pairs: null })).toBe("pairs");
    expect(chooseAssignmentRoute("auto", { principals: 5, pairs: 40 })).toBe("principals");
    expect(chooseAssignmentRoute("auto", { principals: 400, pairs: 40 })).toBe("pairs");
    expect(chooseAssignmentRoute("principals", { principals: 400, pairs: 40 })).toBe("principals");
    expect(chooseAssignmentRoute("pairs", { principals: 1, pairs: 40 })).toBe("pairs");
  });
});

describe("a permission set's accounts page that brings each account's assignments", () => {
  const listed = walk.pages.find(
    (p) =>
      p.request.operation === "ListAccountsForProvisionedPermissionSet" &&
      (p.page.AccountIds as string[]).length >= 2,
  )!;
  const accounts = listed.page.AccountIds as string[];
  // The pair tasks the page queues without the assignments, and what each pair's own page maps to.
  const pairTasks = mapPage(listed).children.filter((c) => c.operation === "ListAccountAssignments");
  const ownPage = (task: PageResult["request"]) =>
    walk.pages.find(
      (p) =>
        p.request.operation === "ListAccountAssignments" &&
        p.request.params.AccountId === task.params.AccountId &&
        p.request.params.PermissionSetArn === task.params.PermissionSetArn,
    )!;

  it("writes the pairs as their own pages would, in their scopes, sweeps those, and queues the rest", () => {
    const [unread, ...read] = accounts;
    const byAccount = Object.fromEntries(
      read.map((a) => [a, ownPage(pairTasks.find((t) => t.params.AccountId === a)!).page.AccountAssignments]),
    );
    const b = mapPage({ ...listed, page: { ...listed.page, AccountAssignmentsByAccount: byAccount } });
    const own = read.map((a) => mapPage(ownPage(pairTasks.find((t) => t.params.AccountId === a)!)));
    expect(own.every((o) => o.scopeComplete && o.scope !== null)).toBe(true);
    expect(b.grants).toEqual(own.flatMap((o) => o.grants.map((g) => ({ ...g, scope: o.scope }))));
    expect(b.grants.length).toBeGreaterThan(0);
    expect(b.sweepScopes).toEqual(own.map((o) => o.scope));
    // A pair read with no assignments is still swept: its scope is in the list whatever it held.
    const none = mapPage({
      ...listed,
      page: { ...listed.page, AccountAssignmentsByAccount: { [read[0]!]: [] } },
    });
    expect(none.grants).toEqual([]);
    expect(none.sweepScopes).toEqual([own[0]!.scope]);
    // The account whose assignments did not come (denied, a partial answer) gets its pair's task, as before.
    expect(b.children.filter((c) => c.operation === "ListAccountAssignments")).toEqual(
      pairTasks.filter((t) => t.params.AccountId === unread),
    );
  });

  it("a page without them (an older fetcher) queues every pair and sweeps nothing itself", () => {
    const b = mapPage(listed);
    expect(b.children.filter((c) => c.operation === "ListAccountAssignments")).toHaveLength(accounts.length);
    expect(b.grants).toEqual([]);
    expect(b.sweepScopes).toBeUndefined();
  });
});

describe("a groups page that brings each group's members", () => {
  const listed = walk.pages.find(
    (p) => p.request.operation === "ListGroups" && (p.page.Groups as unknown[]).length >= 2,
  )!;
  const groups = listed.page.Groups as Array<Record<string, unknown>>;
  const memberTasks = mapPage(listed).children.filter((c) => c.operation === "ListGroupMemberships");
  const ownBatch = (groupId: unknown) =>
    mapPage(
      walk.pages.find(
        (p) => p.request.operation === "ListGroupMemberships" && p.request.params.GroupId === groupId,
      )!,
    );

  it("writes the groups' members as their own pages would, in their scopes, sweeps those, and queues the rest", () => {
    const [unread, ...read] = groups;
    const withMembers = read.map((g) => {
      const own = walk.pages.find(
        (p) => p.request.operation === "ListGroupMemberships" && p.request.params.GroupId === g.GroupId,
      )!;
      return { ...g, GroupMemberships: own.page.GroupMemberships };
    });
    const b = mapPage({ ...listed, page: { ...listed.page, Groups: [unread, ...withMembers] } });
    const plain = mapPage(listed);
    expect(b.resources).toEqual(plain.resources);
    expect(b.entitlements).toEqual(plain.entitlements);
    const own = read.map((g) => ownBatch(g.GroupId));
    expect(own.every((o) => o.scopeComplete && o.scope !== null)).toBe(true);
    expect(b.grants).toEqual(own.flatMap((o) => o.grants.map((g) => ({ ...g, scope: o.scope }))));
    expect(b.grants.length).toBeGreaterThan(0);
    expect(b.sweepScopes).toEqual(own.map((o) => o.scope));
    expect(b.children.filter((c) => c.operation === "ListGroupMemberships")).toEqual(
      memberTasks.filter((t) => t.params.GroupId === unread!.GroupId),
    );
  });

  it("a page without them (an older fetcher) queues every group's members and sweeps nothing itself", () => {
    const b = mapPage(listed);
    expect(memberTasks).toHaveLength(groups.length);
    expect(b.grants).toEqual([]);
    expect(b.sweepScopes).toBeUndefined();
  });
});
