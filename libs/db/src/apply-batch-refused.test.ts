import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { PermanentError, type ResultBatch } from "@grantline/contracts";
import { applyBatch, failTask, startRun } from "./index.ts";
import { useMigratedTestDb } from "./migrated-test-db.fixture.ts";
import { diagRequest, resource, subjects } from "./sync-run.fixture.ts";

const testDb = useMigratedTestDb({ poolSize: 2 });

async function pendingTask(sourceId: string) {
  const runId = randomUUID();
  const [root] = [diagRequest(runId, sourceId, {}, "s")];
  await startRun(testDb.db, { sourceId, runId, roots: [root!], subjects });
  return root!;
}

const forged = (taskId: string, runId: string, sourceId: string): ResultBatch => ({
  v: 1,
  taskId,
  runId,
  sourceId,
  scope: "s",
  resources: [resource("sso_user", "u-forged")],
  entitlements: [],
  grants: [],
  children: [],
  scopeComplete: false,
  keepScopes: [],
  stats: { awsCalls: 1, throttled: 0 },
  warnings: [],
});

async function forgedRows(): Promise<number> {
  const r = await testDb.db.selectFrom("resources").select("id").where("id", "=", "u-forged").execute();
  return r.length;
}

describe("a batch that does not answer a task of its run is refused", () => {
  it("naming no task, a task of another run, or of another source: PermanentError, nothing committed", async () => {
    const a = await pendingTask("refuse-a");
    const b = await pendingTask("refuse-b");
    const attempts = [
      forged(randomUUID(), a.runId, "refuse-a"),
      forged(a.taskId, b.runId, "refuse-a"),
      forged(a.taskId, a.runId, "refuse-b"),
    ];
    for (const batch of attempts) {
      const err = await applyBatch(testDb.db, subjects, batch).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PermanentError);
      expect((err as PermanentError).reason).toBe("batch-refused");
    }
    expect(await forgedRows()).toBe(0);
    const t = await testDb.db
      .selectFrom("tasks")
      .select("status")
      .where("id", "=", a.taskId)
      .executeTakeFirst();
    expect(t?.status).toBe("pending");
  });

  it("the refusal's dead letter fails no task of another run", async () => {
    const a = await pendingTask("refuse-letter");
    const letter = {
      v: 1 as const,
      stage: "writer" as const,
      reason: "batch-refused",
      error: "forged",
      subject: "x",
      streamSeq: null,
      deliveryCount: 1,
      payload: "",
      failedAt: new Date().toISOString(),
      taskId: a.taskId,
      runId: "not-this-run",
    };
    expect(await failTask(testDb.db, subjects, letter)).toBeNull();
    const t = await testDb.db
      .selectFrom("tasks")
      .select("status")
      .where("id", "=", a.taskId)
      .executeTakeFirst();
    expect(t?.status).toBe("pending");
  });

  it("a task already settled in its run is a redelivery: not applied again, not refused", async () => {
    const a = await pendingTask("refuse-done");
    const batch = { ...forged(a.taskId, a.runId, "refuse-done"), resources: [], scopeComplete: true };
    expect((await applyBatch(testDb.db, subjects, batch)).applied).toBe(true);
    expect((await applyBatch(testDb.db, subjects, batch)).applied).toBe(false);
  });
});
