import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSubjects, pageRequest, type ResultBatch } from "@grantline/contracts";
import { applyBatch, startRun, syncedCounts, type Db } from "./index.ts";
import { openMigratedTestDb } from "./migrated-test-db.fixture.ts";

const subjects = createSubjects("t");
let close: () => Promise<void>;
let db: Db;

beforeAll(async () => {
  ({ db, close } = await openMigratedTestDb({ poolSize: 2 }));
});
afterAll(async () => {
  await close();
});

/** A whole run of one page: the group `g` with `members`. */
async function sync(members: string[]): Promise<void> {
  const runId = randomUUID();
  const root = pageRequest({
    runId,
    sourceId: "acme",
    service: "diag",
    operation: "Pages",
    params: {},
    pageToken: null,
    accountId: null,
    scope: null,
    pageIndex: 0,
  });
  await startRun(db, { sourceId: "acme", runId, roots: [root], subjects });
  const batch: ResultBatch = {
    v: 1,
    taskId: root.taskId,
    runId,
    sourceId: "acme",
    scope: null,
    resources: [
      { type: "sso_group", id: "g", parentType: null, parentId: null, name: "G", attrs: {} },
      ...members.map((u) => ({
        type: "sso_user" as const,
        id: u,
        parentType: null,
        parentId: null,
        name: u,
        attrs: {},
      })),
    ],
    entitlements: [
      { id: "g:member", resourceType: "sso_group", resourceId: "g", slug: "member", name: "G", attrs: {} },
    ],
    grants: members.map((u) => ({
      id: `g:member|${u}`,
      entitlementId: "g:member",
      principalType: "sso_user",
      principalId: u,
      expandable: false,
      attrs: {},
    })),
    children: [],
    scopeComplete: false,
    keepScopes: [],
    stats: { awsCalls: 1, throttled: 0 },
    warnings: [],
  };
  expect((await applyBatch(db, subjects, batch)).runFinished).toBe("succeeded");
}

describe("syncedCounts", () => {
  it("counts live rows only: what a later run swept away is gone", async () => {
    expect(await syncedCounts(db)).toEqual({ resources: {}, entitlements: 0, grants: 0, effectiveGrants: 0 });
    await sync(["alice", "bob", "carol"]);
    await sync(["alice", "bob"]);
    expect(await syncedCounts(db)).toEqual({
      resources: { sso_group: 1, sso_user: 2 },
      entitlements: 1,
      grants: 2,
      effectiveGrants: 2,
    });
  });
});
