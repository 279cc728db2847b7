import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSubjects, pageRequest, RetryableError, type ResultBatch } from "@grantline/contracts";
import { splitBatch } from "@grantline/model";
import { applyBatch, runSummaries, startRun } from "./index.ts";
import { useMigratedTestDb } from "./migrated-test-db.fixture.ts";

const subjects = createSubjects("t");
const testDb = useMigratedTestDb();

function page(runId: string, taskId: string, items: number): ResultBatch {
  return {
    v: 1,
    taskId,
    runId,
    sourceId: "parts",
    scope: "diag:parts",
    resources: Array.from({ length: items }, (_, i) => ({
      type: "diag_item",
      id: `item-${i}`,
      parentType: null,
      parentId: null,
      name: `item ${i}`,
      attrs: {},
    })),
    entitlements: [],
    grants: [],
    children: [],
    scopeComplete: true,
    keepScopes: [],
    warnings: ["from the page"],
    stats: { awsCalls: 1, throttled: 0 },
  };
}

describe("a page applied in parts", () => {
  it("applies each part once, settles the task with the last only after the others, and counts them all", async () => {
    const db = testDb.db;
    const runId = randomUUID();
    const root = pageRequest({
      runId,
      sourceId: "parts",
      service: "diag",
      operation: "Pages",
      params: { pages: 1, itemsPerPage: 25 },
      pageToken: null,
      accountId: null,
      scope: "diag:parts",
      pageIndex: 0,
    });
    await startRun(db, { sourceId: "parts", runId, roots: [root], subjects });
    const [p0, p1, p2] = splitBatch(page(runId, root.taskId, 25), 10);
    if (!p0 || !p1 || !p2) throw new Error("expected three parts");

    await expect(applyBatch(db, subjects, p2)).rejects.toBeInstanceOf(RetryableError);
    expect((await applyBatch(db, subjects, p1)).applied).toBe(true);
    expect((await applyBatch(db, subjects, p1)).applied).toBe(false); // redelivered: once
    await expect(applyBatch(db, subjects, p2)).rejects.toBeInstanceOf(RetryableError);
    expect((await applyBatch(db, subjects, p0)).applied).toBe(true);
    const last = await applyBatch(db, subjects, p2);
    expect(last).toMatchObject({ applied: true, runFinished: "succeeded" });

    const rows = await db.selectFrom("resources").select("id").where("source_id", "=", "parts").execute();
    expect(rows).toHaveLength(25);
    const [run] = await runSummaries(db, { runId });
    expect(run?.stats).toMatchObject({ rows: 25, resourcesCreated: 25, awsCalls: 1 });
    expect(run?.warnings).toEqual(["from the page"]);
  });
});
