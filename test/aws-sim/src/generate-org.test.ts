import { describe, expect, it } from "vitest";
import { generateOrg } from "./generate-org.ts";
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
    expect(ms).toBeLessThan(5000);
    const store = new Store(d);
    expect(JSON.stringify(store.exportOrg()).length).toBeGreaterThan(1000);
  });
});
