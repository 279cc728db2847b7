import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSubjects, pageRequest, type PageRequest, type ResultBatch } from "@grantline/contracts";
import { applyBatch, cancelRun, republishStalledTasks, runSummaries, startRun } from "./index.ts";
import { useMigratedTestDb } from "./migrated-test-db.fixture.ts";

const subjects = createSubjects("t");
const testDb = useMigratedTestDb();

function request(runId: string, sourceId: string, page: number): PageRequest {
  return pageRequest({
    runId,
    sourceId,
    service: "diag",
    operation: "Pages",
    params: { page },
    pageToken: null,
    accountId: null,
    scope: `s${page}`,
    pageIndex: 0,
  });
}

function batchFor(r: PageRequest, children: PageRequest[] = []): ResultBatch {
  return {
    v: 1,
    taskId: r.taskId,
    runId: r.runId,
    sourceId: r.sourceId,
    scope: r.scope,
    resources: [
      { type: "diag_item", id: `u${r.taskId}`, parentType: null, parentId: null, name: "u", attrs: {} },
    ],
    entitlements: [],
    grants: [],
    children,
    scopeComplete: false,
    keepScopes: [],
    stats: { awsCalls: 1, throttled: 0 },
    warnings: [],
  };
}

async function started(sourceId: string, pages: number) {
  const runId = randomUUID();
  const roots = Array.from({ length: pages }, (_, i) => request(runId, sourceId, i));
  await startRun(testDb.db, { sourceId, runId, roots, subjects });
  return { runId, roots };
}

const outboxOf = (runId: string) =>
  testDb.db
    .selectFrom("outbox")
    .select(["id", "subject", "payload", "published_at"])
    .where(({ eb, fn }) => eb(fn("strpos", ["payload", eb.val(runId)]), ">", 0))
    .execute();

describe("cancelRun", () => {
  it("settles pending tasks, drops unpublished requests and writes run.cancelled, in one go", async () => {
    const { runId, roots } = await started("cancel-a", 3);
    // One task is done before the cancel: it stays done; the other two are settled as cancelled.
    expect((await applyBatch(testDb.db, subjects, batchFor(roots[0]!))).applied).toBe(true);
    // Requests already published stay in the outbox (the stream purge handles them); mark one so.
    await testDb.db
      .updateTable("outbox")
      .set({ published_at: new Date() })
      .where("id", "=", `req:${roots[1]!.taskId}`)
      .execute();

    const r = await cancelRun(testDb.db, subjects, runId);
    expect(r).toEqual({
      kind: "cancelled",
      runId,
      sourceId: "cancel-a",
      tasksCancelled: 2,
      // Roots 0 and 2: nothing publishes the outbox in this test; root 1 counts as published.
      requestsDropped: 2,
    });
    const tasks = await testDb.db
      .selectFrom("tasks")
      .select(["id", "status"])
      .where("run_id", "=", runId)
      .execute();
    expect(Object.fromEntries(tasks.map((t) => [t.id, t.status]))).toEqual({
      [roots[0]!.taskId]: "done",
      [roots[1]!.taskId]: "cancelled",
      [roots[2]!.taskId]: "cancelled",
    });
    const outbox = await outboxOf(runId);
    expect(outbox.filter((o) => o.id.startsWith("req:") && o.published_at === null)).toEqual([]);
    const cancelled = outbox.filter((o) => o.subject === subjects.event("cancel-a", "run.cancelled"));
    expect(cancelled).toHaveLength(1);
    expect(JSON.parse(cancelled[0]!.payload)).toMatchObject({
      type: "dev.grantline.run.cancelled",
      // The done batch wrote one resource; its change stands and is counted.
      data: { runId, status: "cancelled", stats: { tasksDone: 1, tasksCancelled: 2, resourcesCreated: 1 } },
    });
    const [summary] = await runSummaries(testDb.db, { runId });
    expect(summary).toMatchObject({ status: "cancelled", tasksPending: 0, tasksDone: 1 });
    expect(summary?.finishedAt).not.toBeNull();
  });

  it("is idempotent, refuses finished and unknown runs, and frees the source for a new run", async () => {
    const { runId } = await started("cancel-b", 2);
    expect((await cancelRun(testDb.db, subjects, runId)).kind).toBe("cancelled");
    const events = (await outboxOf(runId)).length;
    expect(await cancelRun(testDb.db, subjects, runId)).toEqual({
      kind: "already-cancelled",
      runId,
      sourceId: "cancel-b",
    });
    expect((await outboxOf(runId)).length).toBe(events);
    const unknown = randomUUID();
    expect(await cancelRun(testDb.db, subjects, unknown)).toEqual({ kind: "unknown", runId: unknown });

    const next = await started("cancel-b", 1);
    const again = await startRun(testDb.db, {
      sourceId: "cancel-b",
      runId: randomUUID(),
      roots: [],
      subjects,
    });
    expect(again).toEqual({ runId: next.runId, alreadyRunning: true });
    expect((await applyBatch(testDb.db, subjects, batchFor(next.roots[0]!))).runFinished).toBe("succeeded");
    expect(await cancelRun(testDb.db, subjects, next.runId)).toEqual({
      kind: "finished",
      runId: next.runId,
      sourceId: "cancel-b",
      status: "succeeded",
    });
  });

  it("a batch of a cancelled run writes nothing and adds no child; stalled tasks are not re-published", async () => {
    const { runId, roots } = await started("cancel-c", 2);
    await cancelRun(testDb.db, subjects, runId);
    const child = request(runId, "cancel-c", 99);
    const r = await applyBatch(testDb.db, subjects, batchFor(roots[0]!, [child]));
    expect(r).toMatchObject({ applied: false, children: 0 });
    expect(await testDb.db.selectFrom("tasks").select("id").where("id", "=", child.taskId).execute()).toEqual(
      [],
    );
    expect(
      await testDb.db.selectFrom("resources").select("id").where("source_id", "=", "cancel-c").execute(),
    ).toEqual([]);
    await testDb.db
      .updateTable("tasks")
      .set({ published_at: new Date(0) })
      .where("run_id", "=", runId)
      .execute();
    expect(await republishStalledTasks(testDb.db, subjects, 1000)).toBe(0);
  });

  it("waits for a batch being applied, so the batch's child tasks are cancelled too", async () => {
    const { runId, roots } = await started("cancel-d", 1);
    const children = Array.from({ length: 5 }, (_, i) => request(runId, "cancel-d", 10 + i));
    // Both race; whichever order the database picks, no task of the run may be left pending.
    const [applied, cancelled] = await Promise.all([
      applyBatch(testDb.db, subjects, batchFor(roots[0]!, children)),
      cancelRun(testDb.db, subjects, runId),
    ]);
    const pending = await testDb.db
      .selectFrom("tasks")
      .select("id")
      .where("run_id", "=", runId)
      .where("status", "=", "pending")
      .execute();
    expect(pending).toEqual([]);
    expect(cancelled.kind).toBe("cancelled");
    if (cancelled.kind === "cancelled") expect(cancelled.tasksCancelled).toBe(applied.applied ? 5 : 1);
    const unpublished = (await outboxOf(runId)).filter((o) => o.id.startsWith("req:") && !o.published_at);
    expect(unpublished).toEqual([]);
  });
});
