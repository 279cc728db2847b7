import { randomUUID } from "node:crypto";
import {
  createSubjects,
  expandFeedPolls,
  type FeedPage,
  type PageRequest,
  type RefreshIntent,
  type ResultBatch,
} from "@grantline/contracts";
import { sourceFeeds } from "@grantline/model";
import type { Selectable } from "kysely";
import { describe, expect, it } from "vitest";
import { applyFeedPage, ensureFeedCursors, feedStatuses, startDueWindows } from "./feed-cursors.ts";
import { ensureFeedRun, pruneFeedTasks } from "./feed-runs.ts";
import {
  applyBatch,
  cancelRun,
  completeIdleRuns,
  republishStalledTasks,
  runSummaries,
  startRun,
} from "./index.ts";
import type { Database } from "./database.ts";
import { useMigratedTestDb } from "./migrated-test-db.fixture.ts";

const testDb = useMigratedTestDb();
const subjects = createSubjects("t");
const MIN = 60_000;
const T0 = new Date("2026-12-01T12:00:00.000Z");
const poll = { minIntervalMs: 5_000, maxIntervalMs: 60_000 };
const MGMT = "111111111111";
const feedsOf = (...iam: string[]) =>
  sourceFeeds({
    managementAccountId: MGMT,
    iamAccountIds: iam,
    identityCenterRegion: "us-east-1",
    managementFeeds: "per-source",
  });
const intent = (userId: string): RefreshIntent => ({ kind: "sso-user", identityStoreId: "d-1", userId });
const rec = (id: string, at: Date, outcome: FeedPage["records"][number]["outcome"] = "translated") => ({
  eventId: id,
  eventTime: at.toISOString(),
  eventName: "UpdateUser",
  outcome,
  intents: outcome === "translated" ? [intent(id)] : [],
});

async function setup(sourceId: string, iam: string[] = []) {
  const db = testDb.db;
  const runId = await ensureFeedRun(db, sourceId);
  await ensureFeedCursors(db, sourceId, feedsOf(...iam), {
    now: new Date(T0.getTime() - 10 * MIN),
    lookbackMs: 60 * MIN,
  });
  return { db, runId };
}

async function openTask(sourceId: string, feedId: string): Promise<PageRequest> {
  const t = await testDb.db
    .selectFrom("tasks")
    .selectAll()
    .where("source_id", "=", sourceId)
    .where("status", "=", "pending")
    .where(({ eb }) => eb(eb.ref("params", "->>").key("FeedId" as never), "=", feedId))
    .executeTakeFirstOrThrow();
  return asRequest(t);
}

function asRequest(t: Selectable<Database["tasks"]>): PageRequest {
  return {
    v: 1,
    taskId: t.id,
    runId: t.run_id,
    sourceId: t.source_id,
    service: "cloudtrail",
    operation: t.operation,
    params: t.params,
    pageToken: t.page_token,
    accountId: t.account_id,
    scope: t.scope,
    pageIndex: t.page_index,
  };
}

/** The batch the mapper makes of one page of `req`: its records, and the next page as a child unless last. */
function feedBatch(req: PageRequest, records: FeedPage["records"], last: boolean): ResultBatch {
  const next: PageRequest[] = last
    ? []
    : [
        {
          ...req,
          taskId: `${req.taskId}+`,
          pageToken: `p${req.pageIndex + 1}`,
          pageIndex: req.pageIndex + 1,
        },
      ];
  return {
    v: 1,
    taskId: req.taskId,
    runId: req.runId,
    sourceId: req.sourceId,
    scope: null,
    resources: [],
    entitlements: [],
    grants: [],
    children: next,
    scopeComplete: false,
    keepScopes: [],
    warnings: [],
    stats: { awsCalls: 1, throttled: 0 },
    feed: {
      feedId: String(req.params.FeedId),
      records,
      windowComplete: last,
      windowEnd: new Date(String(req.params.EndTime)).toISOString(),
    },
  };
}

/** One scheduling pass with a 15-minute overlap. */
const openWindows = (sourceId: string, runId: string, now: Date, maxWindowsInFlight: number) =>
  startDueWindows(testDb.db, subjects, {
    sourceId,
    runId,
    now,
    overlapMs: 15 * MIN,
    poll,
    maxWindowsInFlight,
  });

const queued = (sourceId: string) =>
  testDb.db
    .selectFrom("refresh_queue")
    .select(["event_id", "event_name", "event_time", "feed_id", "intent"])
    .where("source_id", "=", sourceId)
    .orderBy("event_id")
    .execute();
const cursor = (sourceId: string, feedId: string) =>
  testDb.db
    .selectFrom("feed_cursors")
    .selectAll()
    .where("source_id", "=", sourceId)
    .where("feed_id", "=", feedId)
    .executeTakeFirstOrThrow();

describe("feed run", () => {
  it("is one per source, beside syncs: not an active sync, not summarized, never completed, not cancellable", async () => {
    const db = testDb.db;
    const a = await ensureFeedRun(db, "fr");
    expect(await ensureFeedRun(db, "fr")).toBe(a);
    const full = randomUUID();
    const started = await startRun(db, { sourceId: "fr", runId: full, roots: [], subjects });
    expect(started).toEqual({ runId: full, alreadyRunning: false });
    expect((await runSummaries(db, { sourceId: "fr" })).map((r) => r.runId)).toEqual([full]);
    await completeIdleRuns(db, subjects);
    const feedRun = await db
      .selectFrom("runs")
      .select(["status", "kind"])
      .where("id", "=", a)
      .executeTakeFirstOrThrow();
    expect(feedRun).toEqual({ status: "running", kind: "feed" });
    expect(await cancelRun(db, subjects, a)).toEqual({ kind: "unknown", runId: a });
  });
});

describe("feed windows", () => {
  it("start fairly: least recently polled first, by feed id, at most maxWindowsInFlight, task and outbox row with the window", async () => {
    const { db, runId } = await setup("rr", ["222222222222", "333333333333"]);
    const ids = feedsOf("222222222222", "333333333333").map((f) => f.feedId);
    const first = await openWindows("rr", runId, T0, 3);
    expect(first.started).toEqual(ids.slice(0, 3));
    // Full: nothing more until a window closes.
    const none = await openWindows("rr", runId, T0, 3);
    expect(none.started).toEqual([]);
    const c = await cursor("rr", ids[0]!);
    expect(c.window_since).toEqual(new Date(T0.getTime() - 70 * MIN - 15 * MIN));
    expect(c.window_end).toEqual(T0);
    const task = await openTask("rr", ids[0]!);
    expect(task.taskId).toBe(c.window_task_id);
    expect(task.params).toMatchObject({
      StartTime: c.window_since!.toISOString(),
      EndTime: T0.toISOString(),
      Region: "us-east-1",
    });
    const outbox = await db
      .selectFrom("outbox")
      .select("payload")
      .where("payload", "like", `%${task.taskId}%`)
      .execute();
    expect(outbox).toHaveLength(1);
    // The three windows close empty; the next pass takes the three never polled, then the first three again.
    for (const id of ids.slice(0, 3))
      await applyBatch(db, subjects, feedBatch(await openTask("rr", id), [], true));
    const later = new Date(T0.getTime() + MIN);
    const second = await openWindows("rr", runId, later, 3);
    expect(second.started).toEqual(ids.slice(3, 6));
  });

  it("back off while quiet and reset on activity", async () => {
    const { db, runId } = await setup("bo");
    const feedId = feedsOf()[0]!.feedId;
    const pass = (now: Date) => openWindows("bo", runId, now, 10);
    let now = T0.getTime();
    const gaps: number[] = [];
    let last = now;
    for (let i = 0; i < 6; i++) {
      // Advance second by second until the feed is due again.
      for (;;) {
        const r = await pass(new Date(now));
        if (r.started.includes(feedId)) break;
        now += 1_000;
      }
      gaps.push(now - last);
      last = now;
      const active = i === 3;
      await applyBatch(
        db,
        subjects,
        feedBatch(await openTask("bo", feedId), active ? [rec(`e${i}`, new Date(now - 1_000))] : [], true),
      );
      for (const f of feedsOf().slice(1)) {
        const t = await openTask("bo", f.feedId).catch(() => null);
        if (t) await applyBatch(db, subjects, feedBatch(t, [], true));
      }
    }
    // First poll at once; quiet windows double the interval up to the max; activity resets it to the minimum.
    expect(gaps).toEqual([0, 10_000, 20_000, 40_000, 5_000, 10_000]);
  });

  it("a quiet account and Region is read every accountInterval, its feeds taking turns", async () => {
    const member = "222222222222";
    const { db, runId } = await setup("ai", [member]);
    const feeds = feedsOf(member);
    const polls = new Map<string, number[]>(feeds.map((f) => [f.feedId, []]));
    for (let t = 0; t <= 400_000; t += 1_000) {
      const now = new Date(T0.getTime() + t);
      const r = await startDueWindows(db, subjects, {
        sourceId: "ai",
        runId,
        now,
        overlapMs: 15 * MIN,
        poll,
        accountIntervalMs: 10_000,
        maxWindowsInFlight: 100,
      });
      for (const feedId of r.started) {
        polls.get(feedId)!.push(t);
        await applyBatch(db, subjects, feedBatch(await openTask("ai", feedId), [], true));
      }
    }
    const perAccountRegion = new Map<string, number>();
    for (const f of feeds)
      perAccountRegion.set(
        `${f.accountId}/${f.region}`,
        (perAccountRegion.get(`${f.accountId}/${f.region}`) ?? 0) + 1,
      );
    for (const f of feeds) {
      const at = polls.get(f.feedId)!;
      const lastGap = at[at.length - 1]! - at[at.length - 2]!;
      const n = perAccountRegion.get(`${f.accountId}/${f.region}`)!;
      // The member account's one feed backs off to 10 s; a management account Region's n feeds to n × 10 s (≤ 60 s).
      expect(lastGap, f.feedId).toBe(Math.min(60_000, 10_000 * n));
    }
    expect(perAccountRegion.get(`${member}/us-east-1`)).toBe(1);
  });

  it("add unseen records page by page and commit with the refreshes in one transaction; replays add nothing", async () => {
    const { db, runId } = await setup("ap");
    const feedId = feedsOf()[0]!.feedId;
    await openWindows("ap", runId, T0, 10);
    const p1 = await openTask("ap", feedId);
    const b1 = feedBatch(
      p1,
      [rec("a", new Date(T0.getTime() - MIN)), rec("b", new Date(T0.getTime() - 2 * MIN), "failed-call")],
      false,
    );
    expect((await applyBatch(db, subjects, b1)).applied).toBe(true);
    expect((await applyBatch(db, subjects, b1)).applied).toBe(false); // a redelivered page
    let c = await cursor("ap", feedId);
    expect(c.window_seen_ids).toHaveLength(2);
    expect(c.window_intents).toHaveLength(1);
    expect(await queued("ap")).toEqual([]);

    // A crash after the page's changes but before its commit: nothing of it stays.
    const p2 = { ...p1, taskId: `${p1.taskId}+`, pageToken: "p1", pageIndex: 1 };
    const last = feedBatch(
      p2,
      [
        rec("a", new Date(T0.getTime() - MIN)),
        rec("c", new Date(T0.getTime() - 3 * MIN), "unknown"),
        rec("d", new Date(T0.getTime() - 4 * MIN)),
      ],
      true,
    );
    await expect(
      db.transaction().execute(async (tx) => {
        await applyFeedPage(tx, { sourceId: "ap", now: T0 }, last.feed!);
        throw new Error("crash");
      }),
    ).rejects.toThrow("crash");
    expect(await queued("ap")).toEqual([]);
    expect((await cursor("ap", feedId)).window_task_id).not.toBeNull();

    // The replayed last page commits: refreshes with their cause, cursor at the window's end, window closed.
    expect((await applyBatch(db, subjects, last)).applied).toBe(true);
    const rows = await queued("ap");
    expect(
      rows.map((r) => [r.event_id, r.event_name, new Date(r.event_time!).toISOString(), r.feed_id]),
    ).toEqual([
      ["a", "UpdateUser", new Date(T0.getTime() - MIN).toISOString(), feedId],
      ["d", "UpdateUser", new Date(T0.getTime() - 4 * MIN).toISOString(), feedId],
    ]);
    c = await cursor("ap", feedId);
    expect(c.since).toEqual(T0);
    expect(c.window_task_id).toBeNull();
    expect([...c.seen_ids].map((s) => s.split("|")[1]).sort()).toEqual(["a", "b", "c", "d"]);
    expect(c.committed_at).not.toBeNull();
    expect([c.events_seen, c.events_translated, c.events_ignored, c.events_unknown].map(Number)).toEqual([
      4, 2, 1, 1,
    ]);

    // The next window meets a, c and d again (they are in its overlap) plus a late event e: only e is new.
    await openWindows("ap", runId, new Date(T0.getTime() + MIN), 10);
    const n1 = await openTask("ap", feedId);
    await applyBatch(
      db,
      subjects,
      feedBatch(
        n1,
        [
          rec("a", new Date(T0.getTime() - MIN)),
          rec("e", new Date(T0.getTime() - 5 * MIN)),
          rec("d", new Date(T0.getTime() - 4 * MIN)),
        ],
        true,
      ),
    );
    expect((await queued("ap")).map((r) => r.event_id)).toEqual(["a", "d", "e"]);

    const status = (await feedStatuses(db, { sourceId: "ap", now: new Date(T0.getTime() + 2 * MIN) })).find(
      (f) => f.feedId === feedId,
    )!;
    expect(status).toMatchObject({
      eventsSeen: 5,
      eventsTranslated: 3,
      windowOpen: false,
      cursorAgeMs: MIN,
      quietPolls: 0,
    });
    expect(status.queueLagMs).toBeGreaterThan(0);
  });

  it("a page of another window than the open one changes nothing", async () => {
    const { db, runId } = await setup("ow");
    const feedId = feedsOf()[0]!.feedId;
    await openWindows("ow", runId, T0, 10);
    const r = await db.transaction().execute((tx) =>
      applyFeedPage(
        tx,
        { sourceId: "ow", now: T0 },
        {
          feedId,
          records: [rec("x", T0)],
          windowComplete: true,
          windowEnd: new Date(T0.getTime() - MIN).toISOString(),
        },
      ),
    );
    expect(r).toEqual({ added: 0, queued: 0, committed: false });
  });

  it("a lost poll task is re-published whatever the sync backlog; a window whose chain failed is reopened", async () => {
    const { db, runId } = await setup("lost");
    const feedId = feedsOf()[0]!.feedId;
    await openWindows("lost", runId, T0, 1);
    const t = await openTask("lost", feedId);
    await db
      .updateTable("tasks")
      .set({ published_at: new Date(Date.now() - 10 * MIN) })
      .where("id", "=", t.taskId)
      .execute();
    expect(await republishStalledTasks(db, subjects, 60_000, { runs: "syncs" })).toBe(0);
    expect(await republishStalledTasks(db, subjects, 60_000, { runs: "feeds" })).toBe(1);
    const published = await db
      .selectFrom("tasks")
      .select("publish_count")
      .where("id", "=", t.taskId)
      .executeTakeFirstOrThrow();
    expect(published.publish_count).toBeGreaterThan(0);

    // The chain dead-lettered: the window is dropped, the cursor kept, and the feed gets a new window.
    await db
      .updateTable("tasks")
      .set({ status: "failed", done_at: new Date() })
      .where("id", "=", t.taskId)
      .execute();
    const since = (await cursor("lost", feedId)).since;
    const r = await openWindows("lost", runId, new Date(T0.getTime() + MIN), 1);
    expect(r.abandoned).toEqual([feedId]);
    expect(r.started).toHaveLength(1);
    expect((await cursor("lost", feedId)).since).toEqual(since);

    // Settled poll tasks are pruned after an hour; pending ones stay.
    await db
      .updateTable("tasks")
      .set({ done_at: new Date(Date.now() - 2 * 3_600_000) })
      .where("id", "=", t.taskId)
      .execute();
    expect(await pruneFeedTasks(db)).toBe(1);
    expect(await db.selectFrom("tasks").select("id").where("run_id", "=", runId).execute()).toHaveLength(1);
  });

  it("cursor rows follow the feeds: new ones added with the lookback, gone ones dropped when idle", async () => {
    const db = testDb.db;
    await ensureFeedRun(db, "ef");
    const now = T0;
    expect(await ensureFeedCursors(db, "ef", feedsOf("222222222222"), { now, lookbackMs: 30 * MIN })).toBe(5);
    expect(await ensureFeedCursors(db, "ef", feedsOf("222222222222"), { now, lookbackMs: 30 * MIN })).toBe(0);
    await ensureFeedCursors(db, "ef", feedsOf(), { now, lookbackMs: 30 * MIN });
    const rows = await db
      .selectFrom("feed_cursors")
      .select(["feed_id", "since"])
      .where("source_id", "=", "ef")
      .execute();
    expect(rows.map((r) => r.feed_id).sort()).toEqual(feedsOf().map((f) => f.feedId));
    expect(rows[0]!.since).toEqual(new Date(T0.getTime() - 30 * MIN));
  });
});

describe("polls grouped in one task (cloudtrail.PollFeeds)", () => {
  it("one task polls several feeds; its batch commits each; a feed it failed closes without a commit", async () => {
    const src = "grouped";
    const { db, runId } = await setup(src, ["222222222222", "333333333333"]);
    const r = await startDueWindows(db, subjects, {
      sourceId: src,
      runId,
      now: T0,
      overlapMs: 15 * MIN,
      poll,
      maxWindowsInFlight: 100,
      pollsPerTask: 4,
    });
    expect(r.started).toHaveLength(6);
    const tasks = await db
      .selectFrom("tasks")
      .select(["id", "operation", "params"])
      .where("source_id", "=", src)
      .where("status", "=", "pending")
      .orderBy("operation")
      .execute();
    // 6 feeds, 4 per task: one PollFeeds task of four, one of two.
    expect(tasks.map((t) => t.operation)).toEqual(["PollFeeds", "PollFeeds"]);
    const group = tasks.find((t) => (t.params.Polls as unknown[]).length === 4)!;
    const subs = expandFeedPolls({ ...(await openTaskById(group.id)) });
    const rows = await db
      .selectFrom("feed_cursors")
      .select(["feed_id", "window_task_id"])
      .where("source_id", "=", src)
      .where("window_task_id", "=", group.id)
      .orderBy("feed_id")
      .execute();
    expect(rows.map((x) => x.feed_id)).toEqual(subs.map((s) => String(s.params.FeedId)).sort());

    // The batch: the first feed saw an event, the second has a second page, the other two failed.
    const [a, b] = subs;
    const page = (req: PageRequest, records: FeedPage["records"], last: boolean) =>
      feedBatch(req, records, last).feed!;
    const { feed: _single, ...base } = feedBatch(a!, [], true);
    const batch: ResultBatch = {
      ...base,
      taskId: group.id,
      feeds: [page(a!, [rec("e1", new Date(T0.getTime() - MIN))], true), page(b!, [], false)],
      children: [{ ...b!, taskId: `${b!.taskId}+`, pageToken: "p1", pageIndex: 1 }],
    };
    expect((await applyBatch(db, subjects, batch)).applied).toBe(true);
    expect((await cursor(src, String(a!.params.FeedId))).window_task_id).toBeNull();
    expect((await cursor(src, String(a!.params.FeedId))).since).toEqual(T0);
    expect((await queued(src)).map((q) => q.event_id)).toEqual(["e1"]);
    // The second feed's window stays open, its next page a task of its own.
    expect((await cursor(src, String(b!.params.FeedId))).window_task_id).toBe(group.id);
    // The next pass: the two failed feeds (their task settled) are abandoned; the continuing one is not.
    const next = await startDueWindows(db, subjects, {
      sourceId: src,
      runId,
      now: new Date(T0.getTime() + 1000),
      overlapMs: 15 * MIN,
      poll,
      maxWindowsInFlight: 100,
      pollsPerTask: 4,
    });
    expect(next.abandoned.sort()).toEqual(
      subs
        .slice(2)
        .map((s) => String(s.params.FeedId))
        .sort(),
    );
  });
});

async function openTaskById(id: string): Promise<PageRequest> {
  return asRequest(
    await testDb.db.selectFrom("tasks").selectAll().where("id", "=", id).executeTakeFirstOrThrow(),
  );
}
