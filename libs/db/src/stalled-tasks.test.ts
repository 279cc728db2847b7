import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { describe, expect, it } from "vitest";
import { createSubjects, pageRequest } from "@grantline/contracts";
import { republishStalledTasks, startRun } from "./index.ts";
import { useMigratedTestDb } from "./migrated-test-db.fixture.ts";

const subjects = createSubjects("t");
const testDb = useMigratedTestDb();
const STALL_MS = 60_000;

describe("stalled tasks", () => {
  it("are judged one by one: by their own age (database clock), their service, and a doubling wait per re-publication", async () => {
    const { db } = testDb;
    const runId = randomUUID();
    const root = pageRequest({
      runId,
      sourceId: "st",
      service: "iam",
      operation: "ListUsers",
      params: {},
      pageToken: null,
      accountId: "111111111111",
      scope: null,
      pageIndex: 0,
    });
    await startRun(db, { sourceId: "st", runId, roots: [root], subjects });
    // Untouched for `stalls` stall timeouts, by the database's clock.
    const age = (stalls: number) =>
      db
        .updateTable("tasks")
        .set({ published_at: sql`now() - make_interval(secs => ${(stalls * STALL_MS) / 1000})` })
        .where("id", "=", root.taskId)
        .execute();
    const republish = (services?: string[]) => republishStalledTasks(db, subjects, STALL_MS, { services });

    await age(0.5);
    expect(await republish()).toBe(0);
    await age(1.1);
    // Held back where its message may be queued (its service is not among the recoverable ones).
    expect(await republish(["sso-admin", "identitystore"])).toBe(0);
    expect(await republish([])).toBe(0);
    expect(await republish(["iam"])).toBe(1);
    expect(await republish()).toBe(0);
    // Re-published once: it now waits two stall timeouts, then four.
    await age(1.5);
    expect(await republish()).toBe(0);
    await age(2.1);
    expect(await republish()).toBe(1);
    await age(3);
    expect(await republish()).toBe(0);
    await age(4.1);
    expect(await republish()).toBe(1);
    const outbox = await db
      .selectFrom("outbox")
      .select("id")
      .where("id", "like", `req:${root.taskId}%`)
      .execute();
    expect(outbox.map((r) => r.id).sort()).toEqual(
      [`req:${root.taskId}`, `req:${root.taskId}:1`, `req:${root.taskId}:2`, `req:${root.taskId}:3`].sort(),
    );
  });

  it("leave out the tasks whose message is still queued, asking the queues only when something stalled", async () => {
    const { db } = testDb;
    const runId = randomUUID();
    const roots = ["ListUsers", "ListRoles", "ListGroups"].map((operation) =>
      pageRequest({
        runId,
        sourceId: "sq",
        service: "iam",
        operation,
        params: {},
        pageToken: null,
        accountId: "111111111111",
        scope: null,
        pageIndex: 0,
      }),
    );
    await startRun(db, { sourceId: "sq", runId, roots, subjects });
    const asked: string[][] = [];
    const held = new Set(roots.slice(0, 2).map((r) => r.taskId));
    const republish = () =>
      republishStalledTasks(db, subjects, STALL_MS, {
        services: ["iam"],
        stillQueued: async (services) => (asked.push([...services]), held),
      });
    expect(await republish()).toBe(0);
    expect(asked).toEqual([]);
    await db
      .updateTable("tasks")
      .set({ published_at: sql`now() - make_interval(secs => ${(2 * STALL_MS) / 1000})` })
      .where("run_id", "=", runId)
      .execute();
    // Two are held at a fetcher (slow, not lost); the third's message is gone.
    expect(await republish()).toBe(1);
    expect(asked).toEqual([["iam"]]);
    const copies = await db
      .selectFrom("outbox")
      .select("id")
      .where(
        "id",
        "in",
        roots.map((r) => `req:${r.taskId}:1`),
      )
      .execute();
    expect(copies.map((r) => r.id)).toEqual([`req:${roots[2]?.taskId}:1`]);
  });
});
