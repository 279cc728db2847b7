import { describe, expect, it } from "vitest";
import { generateOrg, PRESETS } from "./generate-org.ts";
import type { Preset } from "./generate-org.ts";
import { OrgDocument } from "./org-document.ts";
import { Store } from "./store.ts";

describe("generateOrg", () => {
  it("is deterministic per seed and valid against the schema", () => {
    const a = generateOrg("small", 42);
    expect(JSON.stringify(generateOrg("small", 42))).toBe(JSON.stringify(a));
    expect(JSON.stringify(generateOrg("small", 43))).not.toBe(JSON.stringify(a));
    expect(() => OrgDocument.parse(a)).not.toThrow();
  });

  it("tiny preset has a handful of everything with realistic ids", () => {
    const d = generateOrg("tiny", 1);
    const ic = d.identityCenter!;
    expect(d.accounts.length).toBeGreaterThanOrEqual(3);
    expect(ic.permissionSets).toHaveLength(3);
    expect(ic.users).toHaveLength(8);
    expect(ic.groups).toHaveLength(3);
    expect(d.organization.id).toMatch(/^o-[a-z0-9]{10}$/);
    expect(d.accounts.every((a) => /^\d{12}$/.test(a.id))).toBe(true);
    expect(ic.instanceArn).toMatch(/^arn:aws:sso:::instance\/ssoins-[0-9a-f]{16}$/);
    expect(d.accounts.some((a) => a.status === "SUSPENDED")).toBe(true);
  });

  it("large preset: sizes, skew and speed", () => {
    const t0 = Date.now();
    const d = generateOrg("large", 1);
    const ms = Date.now() - t0;
    const ic = d.identityCenter!;
    expect(d.accounts).toHaveLength(1000);
    expect(ic.permissionSets).toHaveLength(200);
    expect(ic.users).toHaveLength(20000);
    expect(ic.groups).toHaveLength(2000);
    expect(ic.memberships.length).toBeGreaterThan(55000);
    expect(ic.assignments).toHaveLength(20000);
    expect(ic.permissionSets.reduce((s, p) => s + p.provisionedTo.length, 0)).toBe(8000);
    const sizes = new Map<string, number>();
    for (const m of ic.memberships) sizes.set(m.groupId, (sizes.get(m.groupId) ?? 0) + 1);
    const sorted = [...sizes.values()].sort((a, b) => b - a);
    expect(sorted[0]!).toBeGreaterThan(1000);
    expect(sorted.filter((n) => n < 20).length).toBeGreaterThan(500);
    const inGroup = new Set(ic.memberships.map((m) => m.userId));
    expect(ic.users.length - inGroup.size).toBeGreaterThan(1000);
    const assignedPairs = new Set(ic.assignments.map((a) => `${a.accountId}|${a.permissionSetArn}`));
    expect(8000 - assignedPairs.size).toBeGreaterThan(100);
    // ~1 s alone; the bound leaves room for a loaded shared CI machine (reserved roles, SCPs and dates added ~25%).
    expect(ms).toBeLessThan(8000);
    const store = new Store(d);
    expect(JSON.stringify(store.exportOrg()).length).toBeGreaterThan(1000);
  });

  /** Every date invariant AWS guarantees, checked over a whole generated document. */
  function dateProblems(d: OrgDocument): string[] {
    const out: string[] = [];
    const now = new Date().toISOString();
    const le = (a: string | undefined, b: string | undefined, what: string): void => {
      if (a !== undefined && b !== undefined && !(a <= b)) out.push(`${what}: ${a} > ${b}`);
    };
    const mgmt = d.accounts.find((a) => a.id === d.organization.managementAccountId)!;
    for (const a of d.accounts) {
      le(mgmt.joinedTimestamp, a.joinedTimestamp, `account ${a.id} joined before the organization existed`);
      le(a.joinedTimestamp, now, `account ${a.id} joined in the future`);
      const floor = a.joinedMethod === "CREATED" ? a.joinedTimestamp : undefined;
      for (const u of a.iam.users) {
        le(floor, u.createDate, `user ${u.name} before its (created) account`);
        le(u.createDate, u.passwordLastUsed, `user ${u.name} password used before creation`);
        le(u.passwordLastUsed, now, `user ${u.name} password used in the future`);
        for (const k of u.accessKeys) {
          le(u.createDate, k.createDate, `key ${k.id} before its user`);
          le(k.createDate, k.lastUsed?.date, `key ${k.id} used before creation`);
          le(k.lastUsed?.date, now, `key ${k.id} used in the future`);
        }
      }
      for (const g of a.iam.groups) le(floor, g.createDate, `group ${g.name} before its account`);
      for (const r of a.iam.roles) le(floor, r.createDate, `role ${r.name} before its account`);
      for (const p of a.iam.policies) {
        le(floor, p.createDate, `policy ${p.name} before its account`);
        for (const v of p.versions)
          le(p.createDate, v.createDate, `policy ${p.name} ${v.versionId} before the policy`);
        le(
          p.versions.at(-1)!.createDate,
          p.updateDate ?? p.createDate,
          `policy ${p.name} updated before its last version`,
        );
      }
      for (const sp of a.iam.samlProviders)
        le(a.joinedTimestamp, sp.createDate, `provider ${sp.name} before its account`);
    }
    const ic = d.identityCenter!;
    le(mgmt.joinedTimestamp, ic.createdDate, "Identity Center before the organization");
    const psByName = new Map(ic.permissionSets.map((p) => [p.name, p]));
    for (const ps of ic.permissionSets)
      le(ic.createdDate, ps.createdDate, `permission set ${ps.name} before Identity Center`);
    for (const a of d.accounts)
      for (const r of a.iam.roles.filter((x) => x.path === "/aws-reserved/sso.amazonaws.com/")) {
        const ps = psByName.get(/^AWSReservedSSO_(.+)_[0-9a-f]{16}$/.exec(r.name)![1]!)!;
        le(ps.createdDate, r.createDate, `role ${r.name} before its permission set`);
        le(a.joinedTimestamp, r.createDate, `role ${r.name} before its account`);
        le(a.iam.samlProviders[0]!.createDate, r.createDate, `role ${r.name} before its SAML provider`);
      }
    return out;
  }

  it.each(Object.keys(PRESETS) as Preset[])(
    "%s preset: dates are consistent, access extras present",
    (preset) => {
      for (const seed of [1, 7]) {
        const d = generateOrg(preset, seed);
        expect(dateProblems(d)).toEqual([]);
        const ic = d.identityCenter!;
        // One reserved role per provisioned (account, set), with the set's policies.
        const pairs = ic.permissionSets.flatMap((ps) => ps.provisionedTo.map((a) => ({ a, ps })));
        const reserved = d.accounts.flatMap((a) =>
          a.iam.roles
            .filter((r) => r.path === "/aws-reserved/sso.amazonaws.com/")
            .map((r) => ({ a: a.id, r })),
        );
        expect(reserved).toHaveLength(pairs.length);
        for (const { a, ps } of pairs.slice(0, 50)) {
          const acct = d.accounts.find((x) => x.id === a)!;
          const role = acct.iam.roles.find((r) => r.name.startsWith(`AWSReservedSSO_${ps.name}_`))!;
          expect(role.name).toMatch(/_[0-9a-f]{16}$/);
          expect(role.attachedPolicies).toEqual(expect.arrayContaining(ps.managedPolicies));
          expect(JSON.parse(role.trustPolicy).Statement[0].Principal.Federated).toBe(
            acct.iam.samlProviders[0]!.arn,
          );
          expect(acct.iam.samlProviders[0]!.name).toMatch(/^AWSSSO_[0-9a-f]{16}_DO_NOT_DELETE$/);
        }
        // SCPs enabled everywhere with FullAWSAccess on every root, OU and account; RCPs beyond small.
        const full = d.policies.find((p) => p.id === "p-FullAWSAccess")!;
        expect(full.targets.sort()).toEqual(
          [d.roots[0]!.id, ...d.organizationalUnits.map((o) => o.id), ...d.accounts.map((a) => a.id)].sort(),
        );
        expect(
          d.policies.filter((p) => !p.awsManaged && p.type === "SERVICE_CONTROL_POLICY" && p.targets.length)
            .length,
        ).toBeGreaterThan(1);
        const rcp = d.policies.some((p) => p.type === "RESOURCE_CONTROL_POLICY");
        expect(rcp).toBe(preset === "medium" || preset === "large");
        // Boundaries: some users, roles and permission sets.
        const users = d.accounts.flatMap((a) => a.iam.users).filter((u) => u.permissionsBoundary);
        expect(users.length).toBeGreaterThan(0);
        expect(ic.permissionSets.some((p) => p.permissionsBoundary)).toBe(true);
        expect(() => OrgDocument.parse(d)).not.toThrow();
      }
    },
  );
});
