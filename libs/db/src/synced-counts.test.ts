import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSubjects, pageRequest, type ResultBatch } from "@grantline/contracts";
import { createTestDatabase, testInfra, type TestDatabase } from "@grantline/testing";
import { applyBatch, createDb, migrateToLatest, startRun, syncedCounts, type Db } from "./index.ts";

const subjects = createSubjects("t");
let tdb: TestDatabase;
let db: Db;

beforeAll(async () => {
  tdb = await createTestDatabase(testInfra().databaseUrl);
  db = createDb({ url: tdb.url, poolSize: 2 });
  expect((await migrateToLatest(db)).error).toBeUndefined();
});
afterAll(async () => {
  await db.destroy();
  await tdb.drop();
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
