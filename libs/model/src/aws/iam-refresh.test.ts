import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { Grant, ResultBatch } from "@grantline/contracts";
import { mapPage } from "../map-page.ts";
import { iamKeysScope, iamScope } from "../ids.ts";
import { iamRefreshRequests } from "./iam-refresh.ts";
import { pageResult, testRequests } from "./page-result.fixture.ts";

const RUN = "00000000-0000-4000-8000-000000000002";
const ACCT = "877091108098";
const req = testRequests(RUN);
type Item = Record<string, unknown>;
const gaadPage = JSON.parse(
  readFileSync(new URL("./__fixtures__/iam-gaad.json", import.meta.url), "utf8"),
) as Record<string, Item[]> & Item;
const PARAMS = { onlyAttachedPolicies: true };

/** The full sync's mapping of the whole fixture account. */
const full = mapPage(
  pageResult(
    req(
      "iam",
      "GetAccountAuthorizationDetails",
      { Filter: [], ...PARAMS },
      { accountId: ACCT, scope: iamScope(ACCT) },
    ),
    gaadPage,
  ),
);

const refresh = (operation: string, params: Item, page: Item): ResultBatch =>
  mapPage(
    pageResult(
      req("iam", operation, { ...params, ...PARAMS }, { accountId: ACCT, scope: iamScope(ACCT) }),
      page,
    ),
  );

const entTypes = new Map(full.entitlements.map((e) => [e.id, e.resourceType]));
const byId = <T extends { id: string }>(xs: T[]) => [...xs].sort((a, b) => a.id.localeCompare(b.id));

/** The rows GAAD gives one owner: itself and its inline policies, its entitlements, grants on them and the ones it holds. */
function gaadRowsOf(arn: string, held: string[]) {
  const resources = full.resources.filter((r) => r.id === arn || r.parentId === arn);
  const ids = new Set(resources.map((r) => r.id));
  const entitlements = full.entitlements.filter((e) => ids.has(e.resourceId));
  const ents = new Set(entitlements.map((e) => e.id));
  const heldGrant = (g: Grant) => g.principalId === arn && held.includes(entTypes.get(g.entitlementId) ?? "");
  const grants = full.grants.filter((g) => ents.has(g.entitlementId) || heldGrant(g));
  return { resources: byId(resources), entitlements: byId(entitlements), grants: byId(grants) };
}
const rowsOf = (b: ResultBatch) => ({
  resources: byId(b.resources),
  entitlements: byId(b.entitlements),
  grants: byId(b.grants),
});

const entry = (list: string, key: string, name: string): Item => {
  const e = gaadPage[list]!.find((x) => x[key] === name);
  if (!e) throw new Error(`fixture has no ${name}`);
  return e;
};

describe("IAM targeted refresh mappers: the same rows as GAAD, object sweeps instead of a scope sweep", () => {
  it("a role: resource, trust grants, policy grants, inline policy; sweeps itself, its held policy grants, its inline", () => {
    const role = entry("RoleDetailList", "RoleName", "app-runtime");
    const arn = role.Arn as string;
    const b = refresh("RefreshRole", { RoleName: "app-runtime" }, { RoleDetailList: [role] });
    expect(rowsOf(b)).toEqual(gaadRowsOf(arn, ["iam_policy", "inline_policy"]));
    expect(b.grants.length).toBeGreaterThan(1);
    expect(b.scopeComplete).toBe(false);
    expect(b.scope).toBe(iamScope(ACCT));
    expect(b.objectSweeps).toEqual([
      { kind: "resource", type: "iam_role", id: arn },
      {
        kind: "held-by",
        principalType: "iam_role",
        principalId: arn,
        scope: iamScope(ACCT),
        resourceTypes: ["iam_policy", "inline_policy"],
      },
      {
        kind: "children",
        parentType: "iam_role",
        parentId: arn,
        type: "inline_policy",
        except: b.resources.filter((r) => r.type === "inline_policy").map((r) => r.id),
      },
    ]);
  });

  it("a user: its memberships from its groups' ARNs, its policies; no keys re-listed", () => {
    for (const u of gaadPage.UserDetailList!) {
      const groups = Object.fromEntries(
        gaadPage
          .GroupDetailList!.filter((g) => (u.GroupList as string[]).includes(g.GroupName as string))
          .map((g) => [g.GroupName, g.Arn]),
      );
      const b = refresh("RefreshUser", { UserName: u.UserName }, { UserDetailList: [u], GroupArns: groups });
      expect(rowsOf(b), u.UserName as string).toEqual(
        gaadRowsOf(u.Arn as string, ["iam_policy", "inline_policy", "iam_group"]),
      );
      expect(b.children).toEqual([]);
      expect(b.warnings).toEqual([]);
      expect(b.objectSweeps?.map((s) => s.kind)).toEqual(["resource", "held-by", "children"]);
    }
  });

  it("a group: its member grants equal those GAAD derives from users' GroupList", () => {
    for (const g of gaadPage.GroupDetailList!) {
      const members = gaadPage
        .UserDetailList!.filter((u) => (u.GroupList as string[]).includes(g.GroupName as string))
        .map((u) => ({ UserName: u.UserName, Arn: u.Arn }));
      const b = refresh(
        "RefreshGroup",
        { GroupName: g.GroupName },
        { GroupDetailList: [g], GroupMembers: members },
      );
      expect(rowsOf(b), g.GroupName as string).toEqual(
        gaadRowsOf(g.Arn as string, ["iam_policy", "inline_policy"]),
      );
    }
  });

  it("a policy: its resource and entitlement exactly as GAAD has them; nothing swept while it exists", () => {
    for (const p of gaadPage.Policies!) {
      const b = refresh("RefreshPolicy", { PolicyArn: p.Arn }, { Policies: [p] });
      expect(b.resources).toEqual(full.resources.filter((r) => r.id === p.Arn));
      expect(b.entitlements).toEqual(full.entitlements.filter((e) => e.resourceId === p.Arn));
      expect(b.grants).toEqual([]);
      expect(b.objectSweeps).toEqual([]);
    }
  });

  it("an AWS-managed policy this account no longer attaches is neither upserted nor swept (other accounts may)", () => {
    const p: Item = { ...entry("Policies", "PolicyName", "ReadOnlyAccess"), AttachmentCount: 0 };
    const b = refresh("RefreshPolicy", { PolicyArn: p.Arn }, { Policies: [p] });
    expect(b.resources).toEqual([]);
    expect(b.objectSweeps).toEqual([]);
  });

  it("vanished entities: all sweeps, no rows; the synced ARN when the request carries it", () => {
    const arn = `arn:aws:iam::${ACCT}:role/svc/deleted`;
    const role = refresh(
      "RefreshRole",
      { RoleName: "deleted", Arn: arn },
      { RoleDetailList: [], Gone: true },
    );
    expect(role.resources).toEqual([]);
    expect(role.grants).toEqual([]);
    expect(role.objectSweeps).toContainEqual({ kind: "resource", type: "iam_role", id: arn });
    expect(role.objectSweeps).toContainEqual({
      kind: "children",
      parentType: "iam_role",
      parentId: arn,
      type: "inline_policy",
      except: [],
    });
    const user = refresh("RefreshUser", { UserName: "gone" }, { UserDetailList: [], Gone: true });
    const userArn = `arn:aws:iam::${ACCT}:user/gone`;
    expect(user.objectSweeps).toContainEqual({
      kind: "children",
      parentType: "iam_user",
      parentId: userArn,
      type: "access_key",
      except: [],
    });
    expect(user.warnings.join()).toMatch(/assumed/);
    const custom = `arn:aws:iam::${ACCT}:policy/deploy-policy`;
    const pol = refresh("RefreshPolicy", { PolicyArn: custom }, { Policies: [], Gone: true });
    expect(pol.objectSweeps).toEqual([{ kind: "resource", type: "iam_policy", id: custom }]);
    const awsPol = refresh("RefreshPolicy", { PolicyArn: "arn:aws:iam::aws:policy/X" }, { Policies: [] });
    expect(awsPol.objectSweeps).toEqual([]);
  });

  it("an entity whose ARN moved (a new path) also sweeps the synced ARN as gone", () => {
    const g = entry("GroupDetailList", "GroupName", "admins");
    const old = `arn:aws:iam::${ACCT}:group/old-path/admins`;
    const b = refresh(
      "RefreshGroup",
      { GroupName: "admins", Arn: old },
      { GroupDetailList: [g], GroupMembers: [] },
    );
    expect(b.resources.map((r) => r.id)).toContain(g.Arn);
    expect(b.objectSweeps).toContainEqual({ kind: "resource", type: "iam_group", id: old });
    expect(b.objectSweeps).toContainEqual({ kind: "resource", type: "iam_group", id: g.Arn });
  });

  it("a keys refresh of a known user closes with that user's keys but the listed ones", () => {
    const userArn = `arn:aws:iam::${ACCT}:user/bob.ops`;
    const b = mapPage(
      pageResult(
        req(
          "iam",
          "ListAccessKeys",
          { UserName: "bob.ops", UserArn: userArn, sweepKeys: true },
          { accountId: ACCT, scope: iamKeysScope(ACCT) },
        ),
        { AccessKeyMetadata: [{ UserName: "bob.ops", AccessKeyId: "AKIAEXAMPLE1", Status: "Active" }] },
      ),
    );
    expect(b.children.map((c) => c.operation)).toEqual(["GetAccessKeyLastUsed"]);
    expect(b.scopeComplete).toBe(false);
    expect(b.objectSweeps).toEqual([
      {
        kind: "children",
        parentType: "iam_user",
        parentId: userArn,
        type: "access_key",
        except: ["AKIAEXAMPLE1"],
      },
    ]);
  });

  it("a user refresh asked for keys lists them like GAAD does, then sweeps them", () => {
    const u = entry("UserDetailList", "UserName", "bob.ops");
    const b = refresh(
      "RefreshUser",
      { UserName: "bob.ops", withKeys: true },
      { UserDetailList: [u], GroupArns: {} },
    );
    expect(b.children).toHaveLength(1);
    expect(b.children[0]).toMatchObject({
      operation: "ListAccessKeys",
      params: { UserName: "bob.ops", UserArn: u.Arn, sweepKeys: true },
      scope: iamKeysScope(ACCT),
    });
  });
});

describe("iamRefreshRequests", () => {
  const base = { runId: RUN, sourceId: "acme" };
  it("one composite request per entity, in the intent's account and its IAM scope", () => {
    const [role] = iamRefreshRequests({ kind: "iam-role", accountId: ACCT, roleName: "r" }, base);
    expect(role).toMatchObject({
      service: "iam",
      operation: "RefreshRole",
      params: { RoleName: "r", onlyAttachedPolicies: true },
      accountId: ACCT,
      scope: iamScope(ACCT),
      runId: RUN,
    });
    const [user] = iamRefreshRequests(
      { kind: "iam-user", accountId: ACCT, userName: "u" },
      { ...base, arn: "A" },
    );
    expect(user?.params).toEqual({ UserName: "u", Arn: "A", onlyAttachedPolicies: true });
    const [group] = iamRefreshRequests({ kind: "iam-group", accountId: ACCT, groupName: "g" }, base);
    expect(group?.operation).toBe("RefreshGroup");
    const [pol] = iamRefreshRequests({ kind: "iam-policy", accountId: ACCT, policyArn: "P" }, base);
    expect(pol?.params).toMatchObject({ PolicyArn: "P" });
  });

  it("iam-user-keys: ListAccessKeys when the user's ARN is known, else the user's refresh with its keys", () => {
    const keys = { kind: "iam-user-keys" as const, accountId: ACCT, userName: "u" };
    const [direct] = iamRefreshRequests(keys, { ...base, arn: "arn:u" });
    expect(direct).toMatchObject({
      operation: "ListAccessKeys",
      params: { UserName: "u", UserArn: "arn:u", sweepKeys: true },
      scope: iamKeysScope(ACCT),
    });
    const [viaUser] = iamRefreshRequests(keys, base);
    expect(viaUser).toMatchObject({ operation: "RefreshUser", params: { UserName: "u", withKeys: true } });
  });

  it("iam-account: exactly the full sync's GAAD chain and alias requests of that account", () => {
    const reqs = iamRefreshRequests(
      { kind: "iam-account", accountId: ACCT },
      { ...base, onlyAttachedPolicies: false },
    );
    // The full sync's own: GetCallerIdentity's children for the same account (same task ids, so a refresh run's
    // chain is the full sync's chain).
    const sync = mapPage(
      pageResult(req("sts", "GetCallerIdentity", { onlyAttachedPolicies: false }), { Account: ACCT }),
    );
    expect(reqs).toEqual(sync.children);
  });
});
