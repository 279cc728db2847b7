import { describe, expect, it } from "vitest";
import type { ResultBatch } from "@grantline/contracts";
import { splitBatch } from "./split-batch.ts";

function batch(resources: number, grants: number): ResultBatch {
  return {
    v: 1,
    taskId: "t",
    runId: "00000000-0000-4000-8000-000000000000",
    sourceId: "s",
    scope: "sc",
    resources: Array.from({ length: resources }, (_, i) => ({
      type: "sso_user",
      id: `u${i}`,
      parentType: null,
      parentId: null,
      name: `u${i}`,
      attrs: {},
    })),
    entitlements: [
      { id: "e", resourceType: "sso_group", resourceId: "g", slug: "member", name: "m", attrs: {} },
    ],
    grants: Array.from({ length: grants }, (_, i) => ({
      id: `g${i}`,
      entitlementId: "e",
      principalType: "sso_user",
      principalId: `u${i}`,
      expandable: false,
      attrs: {},
    })),
    children: [],
    scopeComplete: true,
    keepScopes: ["k"],
    warnings: ["w"],
    stats: { awsCalls: 3, throttled: 1 },
  };
}

describe("splitBatch", () => {
  it("leaves a batch within the bound alone", () => {
    const b = batch(10, 10);
    expect(splitBatch(b, 21)).toEqual([b]);
  });

  it("splits rows in order into bounded parts; only the last concludes the page", () => {
    const b = batch(7, 5); // 13 rows
    const parts = splitBatch(b, 5);
    expect(parts.map((p) => p.part)).toEqual([
      { index: 0, count: 3 },
      { index: 1, count: 3 },
      { index: 2, count: 3 },
    ]);
    expect(parts.map((p) => p.resources.length + p.entitlements.length + p.grants.length)).toEqual([5, 5, 3]);
    expect(parts.flatMap((p) => p.resources.map((r) => r.id))).toEqual(b.resources.map((r) => r.id));
    expect(parts.flatMap((p) => p.entitlements)).toEqual(b.entitlements);
    expect(parts.flatMap((p) => p.grants.map((g) => g.id))).toEqual(b.grants.map((g) => g.id));
    for (const p of parts.slice(0, -1))
      expect(p).toMatchObject({
        scopeComplete: false,
        keepScopes: [],
        warnings: [],
        children: [],
        stats: { awsCalls: 0 },
      });
    expect(parts[2]).toMatchObject({
      scopeComplete: true,
      keepScopes: ["k"],
      warnings: ["w"],
      stats: { awsCalls: 3 },
    });
  });
});
