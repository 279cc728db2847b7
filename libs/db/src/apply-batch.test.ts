import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSubjects, pageRequest, type ResultBatch } from "@grantline/contracts";
import { applyBatch, completeIdleRuns, outboxMessages, startRun } from "./index.ts";
import { useMigratedTestDb } from "./migrated-test-db.fixture.ts";

const subjects = createSubjects("t");
const testDb = useMigratedTestDb();

function root(runId: string, sourceId: string) {
  return pageRequest({
    runId,
    sourceId,
    service: "diag",
    operation: "Pages",
    params: { pages: 1 },
    pageToken: null,
    accountId: null,
    scope: "s1",
    pageIndex: 0,
  });
}

function batch(
  runId: string,
  sourceId: string,
  taskId: string,
  users: string[],
  grants: Array<[string, string]>,
): ResultBatch {
  return {
    v: 1,
    taskId,
    runId,
    sourceId,
    scope: "s1",
    resources: users.map((u) => ({
      type: "sso_user",
      id: u,
      parentType: null,
      parentId: null,
      name: u.toUpperCase(),
      attrs: { n: u },
    })),
    entitlements: [
      {
        id: "group:g:member",
        resourceType: "sso_group",
        resourceId: "g",
        slug: "member",
        name: "member",
        attrs: {},
      },
    ],
    grants: grants.map(([e, p]) => ({
      id: `${e}|${p}`,
      entitlementId: e,
      principalType: "sso_user",
      principalId: p,
      expandable: false,
      attrs: {},
    })),
    children: [],
    scopeComplete: true,
    keepScopes: [],
    stats: { awsCalls: 1, throttled: 0 },
    warnings: [],
  };
}

async function outboxTypes(sourceId: string): Promise<string[]> {
  const rows = await outboxMessages(testDb.db, `t.events.${sourceId}.`);
  return rows.map((r) => r.subject.replace(`t.events.${sourceId}.`, "")).sort();
}

describe("applyBatch", () => {
  it("is idempotent: a repeated batch changes nothing and emits nothing", async () => {
    const runId = randomUUID();
    const r = root(runId, "idem");
    await startRun(testDb.db, { sourceId: "idem", runId, roots: [r], subjects });
    const b = batch(runId, "idem", r.taskId, ["u1", "u2"], [["group:g:member", "u1"]]);
    const first = await applyBatch(testDb.db, subjects, b);
    expect(first).toMatchObject({ applied: true, runFinished: "succeeded", events: 3 });
    const before = await testDb.db.selectFrom("outbox").select("id").execute();
    const again = await applyBatch(testDb.db, subjects, b);
    expect(again.applied).toBe(false);
    expect(await testDb.db.selectFrom("outbox").select("id").execute()).toHaveLength(before.length);
    expect(await outboxTypes("idem")).toEqual([
      "grant.created",
      "resource.created",
      "resource.created",
      "run.completed",
      "run.started",
    ]);
  });

  it("a second run emits only the differences and sweeps what it no longer sees", async () => {
    const src = "delta";
    const run1 = randomUUID();
    const r1 = root(run1, src);
    await startRun(testDb.db, { sourceId: src, runId: run1, roots: [r1], subjects });
    await applyBatch(
      testDb.db,
      subjects,
      batch(
        run1,
        src,
        r1.taskId,
        ["a", "b"],
        [
          ["group:g:member", "a"],
          ["group:g:member", "b"],
        ],
      ),
    );
    await testDb.db.deleteFrom("outbox").execute();

    const run2 = randomUUID();
    const r2 = root(run2, src);
    expect(await startRun(testDb.db, { sourceId: src, runId: run2, roots: [r2], subjects })).toEqual({
      runId: run2,
      alreadyRunning: false,
    });
    const b2 = batch(
      run2,
      src,
      r2.taskId,
      ["a", "c"],
      [
        ["group:g:member", "a"],
        ["group:g:member", "c"],
      ],
    );
    b2.resources[0]!.attrs = { n: "changed" };
    expect((await applyBatch(testDb.db, subjects, b2)).runFinished).toBe("succeeded");
    expect(await outboxTypes(src)).toEqual([
      "grant.created",
      "grant.revoked",
      "resource.created",
      "resource.deleted",
      "resource.updated",
      "run.completed",
      "run.started",
    ]);
    const ev = (await outboxMessages(testDb.db, `t.events.${src}.grant.revoked`))[0];
    expect(JSON.parse(ev?.payload ?? "null")).toMatchObject({
      specversion: "1.0",
      grantlineinitialload: false,
      data: { principalId: "b" },
    });
    const live = await testDb.db
      .selectFrom("grants")
      .select("principal_id")
      .where("source_id", "=", src)
      .where("revoked_at", "is", null)
      .execute();
    expect(live.map((g) => g.principal_id).sort()).toEqual(["a", "c"]);
  });

  it("sweeps the scopes a batch read whole, each grant in the scope it names, before the run ends", async () => {
    const src = "scopes";
    const roots = (runId: string) =>
      [0, 1].map((i) => pageRequest({ ...root(runId, src), params: { pages: 1, i }, scope: null }));
    const grantsIn = (runId: string, taskId: string, gs: Array<[string, string]>): ResultBatch => ({
      ...batch(runId, src, taskId, [], []),
      scope: null,
      entitlements: [],
      grants: gs.map(([scope, p]) => ({
        id: `${scope}|${p}`,
        entitlementId: `e-${scope}`,
        principalType: "sso_user",
        principalId: p,
        expandable: false,
        attrs: {},
        scope,
      })),
    });
    const run1 = randomUUID();
    const [a1, b1] = roots(run1);
    await startRun(testDb.db, { sourceId: src, runId: run1, roots: [a1!, b1!], subjects });
    await applyBatch(
      testDb.db,
      subjects,
      grantsIn(run1, a1!.taskId, [
        ["A", "u1"],
        ["B", "u2"],
        ["C", "u3"],
      ]),
    );
    await applyBatch(testDb.db, subjects, grantsIn(run1, b1!.taskId, []));
    const live = async () =>
      (
        await testDb.db
          .selectFrom("grants")
          .select(["id", "scope"])
          .where("source_id", "=", src)
          .where("revoked_at", "is", null)
          .orderBy("id")
          .execute()
      ).map((g) => `${g.id} in ${g.scope}`);
    expect(await live()).toEqual(["A|u1 in A", "B|u2 in B", "C|u3 in C"]);

    const run2 = randomUUID();
    const [a2, b2] = roots(run2);
    await startRun(testDb.db, { sourceId: src, runId: run2, roots: [a2!, b2!], subjects });
    await testDb.db.deleteFrom("outbox").execute();
    // A page that read scopes A and B whole: A now holds u4 only, B nothing. C was not read: it stays.
    const res = await applyBatch(testDb.db, subjects, {
      ...grantsIn(run2, a2!.taskId, [["A", "u4"]]),
      sweepScopes: ["A", "B"],
    });
    expect(res.runFinished).toBeNull();
    expect(await live()).toEqual(["A|u4 in A", "C|u3 in C"]);
    expect(await outboxTypes(src)).toEqual(["grant.created", "grant.revoked", "grant.revoked"]);
    const task = await testDb.db
      .selectFrom("tasks")
      .select(["scopes_swept", "grants_revoked"])
      .where("id", "=", a2!.taskId)
      .executeTakeFirstOrThrow();
    expect(task).toEqual({ scopes_swept: 2, grants_revoked: 2 });
  });

  it("allows one active run per source", async () => {
    const runA = randomUUID();
    await startRun(testDb.db, { sourceId: "single", runId: runA, roots: [root(runA, "single")], subjects });
    const runB = randomUUID();
    expect(
      await startRun(testDb.db, { sourceId: "single", runId: runB, roots: [root(runB, "single")], subjects }),
    ).toEqual({ runId: runA, alreadyRunning: true });
  });

  it("a run whose last two tasks settle concurrently still finishes (at once, or by the leader's sweep)", async () => {
    const runId = randomUUID();
    const a = pageRequest({
      runId,
      sourceId: "race",
      service: "diag",
      operation: "Pages",
      params: { n: 1 },
      pageToken: null,
      accountId: null,
      scope: "s1",
      pageIndex: 0,
    });
    const b = pageRequest({
      runId,
      sourceId: "race",
      service: "diag",
      operation: "Pages",
      params: { n: 2 },
      pageToken: null,
      accountId: null,
      scope: "s2",
      pageIndex: 0,
    });
    await startRun(testDb.db, { sourceId: "race", runId, roots: [a, b], subjects });
    await Promise.all([
      applyBatch(testDb.db, subjects, { ...batch(runId, "race", a.taskId, ["x"], []), scope: "s1" }),
      applyBatch(testDb.db, subjects, { ...batch(runId, "race", b.taskId, ["y"], []), scope: "s2" }),
    ]);
    await completeIdleRuns(testDb.db, subjects);
    const run = await testDb.db
      .selectFrom("runs")
      .select("status")
      .where("id", "=", runId)
      .executeTakeFirstOrThrow();
    expect(run.status).toBe("succeeded");
    const completed = await testDb.db
      .selectFrom("outbox")
      .select("id")
      .where("subject", "=", "t.events.race.run.completed")
      .execute();
    expect(completed).toHaveLength(1);
  });
});
