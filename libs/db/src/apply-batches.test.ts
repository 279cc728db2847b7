import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import type { FeedPage, ResultBatch } from "@grantline/contracts";
import { applyBatch, applyBatches, groupKey, outboxMessages, startRun } from "./index.ts";
import { useMigratedTestDb } from "./migrated-test-db.fixture.ts";
import { lockRun } from "./run-lock.ts";
import { diagRequest, grant, subjects } from "./sync-run.fixture.ts";

const testDb = useMigratedTestDb();

/** A run of `n` root tasks, each answered by a batch with one grant in a scope of its own. */
async function runOf(sourceId: string, n: number): Promise<{ runId: string; batches: ResultBatch[] }> {
  const runId = randomUUID();
  const roots = Array.from({ length: n }, (_, i) => diagRequest(runId, sourceId, { i }, `s${i}`));
  await startRun(testDb.db, { sourceId, runId, roots, subjects });
  const batches = roots.map((r, i) => ({
    v: 1 as const,
    taskId: r.taskId,
    runId,
    sourceId,
    scope: `s${i}`,
    resources: [],
    entitlements: [],
    grants: [grant("sso_group:g:member", "sso_user", `u${i}`)],
    children: [],
    scopeComplete: true,
    keepScopes: [],
    stats: { awsCalls: 1, throttled: 0 },
    warnings: [],
  }));
  return { runId, batches };
}

async function state(sourceId: string) {
  const grants = await testDb.db
    .selectFrom("grants")
    .select(["principal_id", "revoked_at"])
    .where("source_id", "=", sourceId)
    .orderBy("principal_id")
    .execute();
  const tasks = await testDb.db
    .selectFrom("tasks")
    .select(["tasks.status", "tasks.rows_written", "tasks.grants_created"])
    .innerJoin("runs", "runs.id", "tasks.run_id")
    .where("runs.source_id", "=", sourceId)
    .orderBy("tasks.created_at")
    .execute();
  const run = await testDb.db
    .selectFrom("runs")
    .select(["status"])
    .where("source_id", "=", sourceId)
    .executeTakeFirstOrThrow();
  return { grants: grants.map((g) => [g.principal_id, g.revoked_at === null]), tasks, run: run.status };
}

describe("applyBatches (the writer's group commit)", () => {
  it("applies a run's batches in one transaction, to the very rows and events they write one by one", async () => {
    const alone = await runOf("alone", 3);
    for (const b of alone.batches) await applyBatch(testDb.db, subjects, b);
    const grouped = await runOf("grouped", 3);
    const results = await applyBatches(testDb.db, subjects, grouped.batches);

    expect(results.map((r) => [r.applied, r.rows])).toEqual([
      [true, 1],
      [true, 1],
      [true, 1],
    ]);
    // The last batch settled the run's last task: it finished the run, inside the group's transaction.
    expect(results.map((r) => r.runFinished)).toEqual([null, null, "succeeded"]);
    expect(await state("grouped")).toEqual(await state("alone"));
    const events = async (sourceId: string) => {
      const prefix = `t.events.${sourceId}.`;
      return (await outboxMessages(testDb.db, prefix)).map((m) => m.subject.slice(prefix.length)).sort();
    };
    expect(await events("grouped")).toEqual(await events("alone"));
    expect(await events("grouped")).toContain("grant.created");
    // One transaction: every task row the group settled carries the same transaction id.
    const xmins = await sql<{ xmin: string }>`
      SELECT DISTINCT xmin::text AS xmin FROM tasks WHERE run_id = ${grouped.runId}::uuid AND status = 'done'`.execute(
      testDb.db,
    );
    expect(xmins.rows).toHaveLength(1);
  });

  it("reads and settles its tasks in one statement each, counters and warnings as one by one", async () => {
    const count = (db: typeof testDb.db) => {
      let n = 0;
      const counted = db.withPlugin({
        transformQuery: (a) => {
          n++;
          return a.node;
        },
        transformResult: (a) => Promise.resolve(a.result),
      });
      return { db: counted, statements: () => n };
    };
    // Every third page warned and made two calls; every other one read two more scopes whole (`sweepScopes`).
    const warned = (b: ResultBatch, i: number): ResultBatch => ({
      ...b,
      ...(i % 3 === 0 ? { warnings: [`page ${i} was odd`], stats: { awsCalls: 2, throttled: 1 } } : {}),
      ...(i % 2 === 0 ? { sweepScopes: [`x${i}a`, `x${i}b`] } : {}),
    });
    const alone = await runOf("settled-alone", 8);
    const one = count(testDb.db);
    for (const [i, b] of alone.batches.entries()) await applyBatch(one.db, subjects, warned(b, i));
    const grouped = await runOf("settled-grouped", 8);
    const many = count(testDb.db);
    const results = await applyBatches(many.db, subjects, grouped.batches.map(warned));
    expect(results.at(-1)?.runFinished).toBe("succeeded");

    const tasks = async (runId: string) =>
      testDb.db
        .selectFrom("tasks")
        .select([
          "status",
          "aws_calls",
          "throttled",
          "warnings",
          "rows_written",
          "grants_created",
          "scopes_swept",
        ])
        .select(sql<boolean>`done_at IS NOT NULL`.as("done"))
        .where("run_id", "=", runId)
        .orderBy(sql`params->>'i'`)
        .execute();
    expect(await tasks(grouped.runId)).toEqual(await tasks(alone.runId));
    expect((await tasks(grouped.runId))[0]).toMatchObject({
      warnings: ["page 0 was odd"],
      aws_calls: 2,
      scopes_swept: 2,
    });
    expect((await tasks(grouped.runId))[1]).toMatchObject({ scopes_swept: 0 });
    expect(await state("settled-grouped")).toEqual(await state("settled-alone"));
    // Alone, each batch runs 5 statements (run lock, task, grant upsert, scope sweep, settle with the run-end
    // probe; a sixth sweeps its named scopes, grouped alike), and the last finishes the run. Grouped: one run
    // lock (7 fewer), one read of the 8 tasks (7 fewer), one settle of the 8 and one probe (6 fewer); the run is
    // finished alike.
    expect(one.statements() - many.statements()).toBe(7 + 7 + 6);
  });

  it("applies a batch twice in a group, and a split page's parts, as one by one", async () => {
    const build = async (sourceId: string) => {
      const { runId, batches } = await runOf(sourceId, 3);
      const [a, b, c] = batches as [ResultBatch, ResultBatch, ResultBatch];
      const parts: ResultBatch[] = [
        { ...c, grants: [grant("sso_group:g:member", "sso_user", "p0")], part: { index: 0, count: 2 } },
        { ...c, grants: [grant("sso_group:g:member", "sso_user", "p1")], part: { index: 1, count: 2 } },
      ];
      return { runId, batches: [a, b, a, ...parts] };
    };
    const alone = await build("twice-alone");
    const results1 = [];
    for (const b of alone.batches) results1.push(await applyBatch(testDb.db, subjects, b));
    const grouped = await build("twice-grouped");
    const results2 = await applyBatches(testDb.db, subjects, grouped.batches);
    expect(results2).toEqual(results1);
    expect(results2.map((r) => r.applied)).toEqual([true, true, false, true, true]);
    expect(await state("twice-grouped")).toEqual(await state("twice-alone"));
  });

  it("commits nothing when one batch of the group is refused, and says which alone", async () => {
    const { batches } = await runOf("poisoned", 3);
    const forged = { ...batches[1]!, taskId: "no-such-task" };
    await expect(applyBatches(testDb.db, subjects, [batches[0]!, forged, batches[2]!])).rejects.toThrow(
      /no-such-task does not exist/,
    );
    const s = await state("poisoned");
    expect(s.grants).toEqual([]);
    expect(s.tasks.map((t) => t.status)).toEqual(["pending", "pending", "pending"]);
    // Alone, the good ones commit and the forged one is refused (what the writer falls back to).
    await applyBatch(testDb.db, subjects, batches[0]!);
    await expect(applyBatch(testDb.db, subjects, forged)).rejects.toThrow(/does not exist/);
    await applyBatch(testDb.db, subjects, batches[2]!);
    const statuses = await testDb.db
      .selectFrom("tasks")
      .select(["id", "status"])
      .where(
        "id",
        "in",
        batches.map((b) => b.taskId),
      )
      .execute();
    expect(Object.fromEntries(statuses.map((t) => [t.id, t.status]))).toEqual({
      [batches[0]!.taskId]: "done",
      [batches[1]!.taskId]: "pending",
      [batches[2]!.taskId]: "done",
    });
  });

  it("groups batches of one run only, and never a batch that advances a feed cursor", async () => {
    const a = await runOf("two-runs-a", 1);
    const b = await runOf("two-runs-b", 1);
    await expect(applyBatches(testDb.db, subjects, [a.batches[0]!, b.batches[0]!])).rejects.toThrow(
      /one run/,
    );
    const page = a.batches[0]!;
    expect(groupKey(page)).toBe(a.runId);
    const feed: FeedPage = { feedId: "f", records: [], windowComplete: true };
    expect(groupKey({ ...page, feed })).toBeNull();
    expect(groupKey({ ...page, feeds: [feed] })).toBeNull();
  });

  it("takes the run lock once per plan mode, and returns to default plans when a later batch needs them", async () => {
    const runId = randomUUID();
    const seen = await testDb.db.transaction().execute(async (tx) => {
      const mode = async () =>
        (await sql<{ m: string }>`SELECT current_setting('plan_cache_mode') AS m`.execute(tx)).rows[0]?.m;
      const locks = async () =>
        Number(
          (
            await sql<{ n: string }>`
              SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()`.execute(
              tx,
            )
          ).rows[0]?.n,
        );
      await lockRun(tx, runId, "shared", { genericPlans: true });
      const first = [await mode(), await locks()];
      await lockRun(tx, runId, "shared", { genericPlans: true });
      const again = [await mode(), await locks()];
      await lockRun(tx, runId, "shared");
      return [first, again, [await mode(), await locks()]];
    });
    // pg_locks shows a lock once however often it is taken: the mode is what proves the second call's work.
    expect(seen).toEqual([
      ["force_generic_plan", 1],
      ["force_generic_plan", 1],
      ["auto", 1],
    ]);
  });
});
