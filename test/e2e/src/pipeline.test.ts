import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SyncReply } from "@grantline/contracts";
import { waitFor } from "@grantline/testing";
import { createPipeline, diagSource, type Pipeline } from "./pipeline-harness.ts";

let p: Pipeline;

beforeAll(async () => {
  p = await createPipeline({
    sources: {
      sources: [
        diagSource("selftest", { pages: 4 }),
        diagSource("flaky", { pages: 2, failUntilDelivery: 3 }),
        diagSource("big", { pages: 60, itemsPerPage: 5 }),
      ],
    },
  });
  p.startAll();
});
afterAll(async () => {
  await p?.close();
});

async function sync(sourceId: string): Promise<string> {
  const r = await p.request<SyncReply>("sync", { sourceId });
  if (!r.ok) throw new Error(r.error);
  return r.runId;
}

async function eventCount(): Promise<number> {
  return (await p.jsm.streams.info(p.subjects.streams.events)).state.messages;
}

describe("the pipeline end to end (four real processes)", () => {
  it("a run started through ctl.sync travels all four services and succeeds with every task done", async () => {
    const runId = await sync("selftest");
    expect(await p.waitForRun(runId)).toBe("succeeded");
    const tasks = await p.db
      .selectFrom("tasks")
      .select(["status", "page_index"])
      .where("run_id", "=", runId)
      .execute();
    expect(tasks).toHaveLength(4);
    expect(tasks.every((t) => t.status === "done")).toBe(true);
    const items = await p.db
      .selectFrom("resources")
      .select("id")
      .where("source_id", "=", "selftest")
      .where("deleted_at", "is", null)
      .execute();
    expect(items).toHaveLength(8);
    const status = await p.request<{
      ok: boolean;
      runs: Array<{ runId: string; status: string; tasksDone: number }>;
    }>("status", { runId });
    expect(status.runs[0]).toMatchObject({ runId, status: "succeeded", tasksDone: 4 });
  });

  it("asking again while a run is active returns that run", async () => {
    const a = await p.request<SyncReply>("sync", { sourceId: "big" });
    const b = await p.request<SyncReply>("sync", { sourceId: "big" });
    expect(a.ok && b.ok).toBe(true);
    if (a.ok && b.ok) {
      expect(b.runId).toBe(a.runId);
      expect(b.alreadyRunning).toBe(true);
      expect(await p.waitForRun(a.runId)).toBe("succeeded");
    }
    expect(await p.request("sync", { sourceId: "nope" })).toMatchObject({
      ok: false,
      error: expect.stringMatching(/unknown source/),
    });
  });

  it("a retryable failure is redelivered after a delay and succeeds; nothing is lost", async () => {
    const runId = await sync("flaky");
    expect(await p.waitForRun(runId)).toBe("succeeded");
    expect(p.logs("fetcher")).toMatch(/simulated transient failure/);
    const n = await p.db.selectFrom("resources").select("id").where("source_id", "=", "flaky").execute();
    expect(n).toHaveLength(4);
  });

  it("a duplicate batch (redelivery or duplicate publish) leaves Postgres and the event stream unchanged", async () => {
    const runId = await sync("selftest");
    expect(await p.waitForRun(runId)).toBe("succeeded");
    await waitFor(
      async () =>
        (await p.db.selectFrom("outbox").select("id").where("published_at", "is", null).execute()).length ===
        0,
    );
    const before = await snapshot();
    const events = await eventCount();
    // Replay the run's first batch under a fresh msgID, so JetStream's dedupe cannot hide it: the writer must.
    const task = await p.db
      .selectFrom("tasks")
      .selectAll()
      .where("run_id", "=", runId)
      .where("page_index", "=", 0)
      .executeTakeFirstOrThrow();
    const { diagPage, mapDiagPage } = await import("@grantline/model");
    const request = {
      v: 1 as const,
      taskId: task.id,
      runId,
      sourceId: "selftest",
      service: "diag" as const,
      operation: "Pages",
      params: task.params,
      pageToken: null,
      accountId: null,
      scope: task.scope,
      pageIndex: 0,
    };
    const batch = mapDiagPage({
      v: 1,
      request,
      page: diagPage(request),
      fetchedAt: new Date().toISOString(),
      warnings: [],
      skipped: null,
      stats: { awsCalls: 1, throttled: 0 },
    });
    await p.js.publish(p.subjects.batch("selftest"), JSON.stringify(batch), { msgID: "replay-1" });
    const dup = await p.js.publish(p.subjects.batch("selftest"), JSON.stringify(batch), {
      msgID: "replay-1",
    });
    expect(dup.duplicate).toBe(true);
    await waitFor(
      async () =>
        (await p.jsm.consumers.info(p.subjects.streams.batches, "writer")).num_pending === 0 &&
        (await p.jsm.consumers.info(p.subjects.streams.batches, "writer")).num_ack_pending === 0,
    );
    expect(await snapshot()).toEqual(before);
    expect(await eventCount()).toBe(events);
  });

  it("a schema-invalid message is dead-lettered with its reason and the stage keeps consuming", async () => {
    await p.js.publish(p.subjects.pageRequest("selftest", "diag"), JSON.stringify({ hello: "world" }), {
      msgID: "poison-1",
    });
    const letter = await waitFor(async () => {
      const m = await p.jsm.streams
        .getMessage(p.subjects.streams.deadLetters, { last_by_subj: p.subjects.deadLetter("fetcher") })
        .catch(() => null);
      return m ? (m.json() as { reason: string; error: string; payload: string }) : null;
    });
    expect(letter.reason).toBe("schema");
    expect(letter.error).toMatch(/runId/);
    expect(Buffer.from(letter.payload, "base64").toString()).toBe('{"hello":"world"}');
    const runId = await sync("selftest");
    expect(await p.waitForRun(runId)).toBe("succeeded");
  });

  it("the scheduler exports run progress, consumer lag and dead-letter depth on /metrics", async () => {
    const url = await waitFor(
      () => /"probe":"(http:[^"]+)"[^\n]*scheduler started/.exec(p.logs("scheduler"))?.[1],
    );
    // The gauges follow the scheduler's tick, and the previous test's run may still be starting: wait for
    // the latest selftest run to show done tasks rather than reading the first scrape.
    const doneTasks = /grantline_run_tasks\{[^}]*source="selftest"[^}]*state="done"[^}]*\} [1-9]/;
    const text = await waitFor(async () => {
      const t = await (await fetch(`${url}/metrics`)).text();
      return t.includes('grantline_consumer_messages{consumer="writer",kind="pending"') && doneTasks.test(t)
        ? t
        : null;
    });
    expect(text).toMatch(doneTasks);
    expect(text).toMatch(/grantline_dead_letters\{[^}]*\} \d+/);
  });

  async function snapshot() {
    const [resources, grants, tasks, outbox] = await Promise.all([
      p.db.selectFrom("resources").selectAll().orderBy("id").execute(),
      p.db.selectFrom("grants").selectAll().orderBy("id").execute(),
      p.db.selectFrom("tasks").select(["id", "status"]).orderBy("id").execute(),
      p.db.selectFrom("outbox").select("id").orderBy("id").execute(),
    ]);
    return { resources, grants, tasks, outbox };
  }
});
