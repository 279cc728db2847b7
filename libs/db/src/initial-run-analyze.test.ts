import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSubjects, pageRequest } from "@grantline/contracts";
import { applyBatch, startRun, type Db } from "./index.ts";
import { openMigratedTestDb } from "./migrated-test-db.fixture.ts";

const subjects = createSubjects("t");
let close: () => Promise<void>;
let db: Db;

beforeAll(async () => {
  ({ db, close } = await openMigratedTestDb());
});
afterAll(async () => {
  await close();
});

/** Tables with planner statistics: ANALYZE (or autovacuum) has run on them. */
async function analyzed(): Promise<string[]> {
  const r = await sql<{ t: string }>`
    SELECT DISTINCT tablename AS t FROM pg_stats
     WHERE schemaname = 'public' AND tablename IN ('resources', 'entitlements', 'grants') ORDER BY 1`.execute(
    db,
  );
  return r.rows.map((x) => x.t);
}

describe("a source's first run", () => {
  it("leaves the synced tables analyzed, so access queries are planned on statistics right away", async () => {
    const runId = randomUUID();
    const root = pageRequest({
      runId,
      sourceId: "first",
      service: "diag",
      operation: "Pages",
      params: {},
      pageToken: null,
      accountId: null,
      scope: null,
      pageIndex: 0,
    });
    await startRun(db, { sourceId: "first", runId, roots: [root], subjects });
    expect(await analyzed()).toEqual([]);
    const result = await applyBatch(db, subjects, {
      v: 1,
      taskId: root.taskId,
      runId,
      sourceId: "first",
      scope: null,
      resources: [{ type: "sso_user", id: "u", parentType: null, parentId: null, name: "U", attrs: {} }],
      entitlements: [
        {
          id: "sso_group:g:member",
          resourceType: "sso_group",
          resourceId: "g",
          slug: "member",
          name: "m",
          attrs: {},
        },
      ],
      grants: [
        {
          id: "sso_group:g:member:sso_user:u",
          entitlementId: "sso_group:g:member",
          principalType: "sso_user",
          principalId: "u",
          expandable: false,
          attrs: {},
        },
      ],
      children: [],
      scopeComplete: false,
      keepScopes: [],
      stats: { awsCalls: 1, throttled: 0 },
      warnings: [],
    });
    expect(result.runFinished).toBe("succeeded");
    expect(await analyzed()).toEqual(["entitlements", "grants", "resources"]);
  });
});
