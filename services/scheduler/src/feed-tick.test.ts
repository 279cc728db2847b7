import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSources } from "@grantline/config";
import { createSubjects } from "@grantline/contracts";
import * as pgdb from "@grantline/db";
import { createLogger } from "@grantline/log";
import { createTestDatabase, testInfra } from "@grantline/testing";
import { createFeedTick, type FeedStore } from "./feed-tick.ts";

const logger = createLogger({ service: "test", level: "silent" });
const subjects = createSubjects("t");
const MGMT = "111111111111";
const T0 = Date.parse("2026-12-01T12:00:00.000Z");

let db: pgdb.Db;
let drop: () => Promise<void>;
beforeAll(async () => {
  const t = await createTestDatabase(testInfra().databaseUrl);
  db = pgdb.createDb({ url: t.url });
  const { error } = await pgdb.migrateToLatest(db);
  if (error) throw new Error(String(error));
  drop = async () => {
    await db.destroy();
    await t.drop();
  };
});
afterAll(() => drop());

const store = (): FeedStore => ({
  ensureFeedRun: (s) => pgdb.ensureFeedRun(db, s),
  syncedFeedAccounts: (s) => pgdb.syncedFeedAccounts(db, s),
  ensureFeedCursors: (s, f, o) => pgdb.ensureFeedCursors(db, s, f, o),
  startDueWindows: (i) => pgdb.startDueWindows(db, subjects, i),
  republishStalledPolls: () => pgdb.republishStalledTasks(db, subjects, 60_000, { runs: "feeds" }),
  pruneFeedTasks: () => pgdb.pruneFeedTasks(db),
});

async function synced(sourceId: string, iamAccounts: string[]) {
  // A sync that saw the organization and the accounts' IAM (its rows stamped with the run).
  const run = randomUUID();
  await pgdb.startRun(db, { sourceId, runId: run, roots: [], subjects });
  const rows = [
    { type: "organization", id: "o-1", attrs: JSON.stringify({ managementAccountId: MGMT }) },
    ...iamAccounts.map((id) => ({ type: "iam_account", id, attrs: "{}" })),
  ];
  await db
    .insertInto("resources")
    .values(
      rows.map((r) => ({
        source_id: sourceId,
        type: r.type,
        id: r.id,
        parent_type: null,
        parent_id: null,
        name: r.id,
        attrs: r.attrs,
        scope: null,
        first_seen_run: run,
        last_seen_run: run,
      })),
    )
    .execute();
}

const windows = (sourceId: string) =>
  db
    .selectFrom("feed_cursors")
    .select(["feed_id", "window_end"])
    .where("source_id", "=", sourceId)
    .where("window_task_id", "is not", null)
    .orderBy("feed_id")
    .execute();

describe("the feed tick", () => {
  it("creates the feed run and the feeds from what the syncs saw, then starts due windows in feed id order", async () => {
    await synced("ft", ["222222222222"]);
    const sources = parseSources({
      sources: [
        { id: "ft", feeds: { enabled: true, maxWindowsInFlight: 2, managementFeeds: "per-source" } },
        { id: "off", feeds: { enabled: false } },
      ],
    }).sources;
    let now = T0;
    let kicks = 0;
    let leader = false;
    const tick = createFeedTick({
      sources,
      isLeader: () => leader,
      store: store(),
      kickOutbox: () => void kicks++,
      logger,
      now: () => now,
    });
    await tick();
    expect(await db.selectFrom("feed_cursors").select("feed_id").execute()).toEqual([]);
    leader = true;
    await tick();
    const feedRun = await db
      .selectFrom("runs")
      .select(["id", "kind"])
      .where("source_id", "=", "ft")
      .execute();
    expect(feedRun.map((r) => r.kind).sort()).toEqual(["feed", "full"]);
    expect((await windows("ft")).map((w) => w.feed_id)).toEqual([
      "111111111111/us-east-1/identitystore-scim.amazonaws.com",
      "111111111111/us-east-1/identitystore.amazonaws.com",
    ]);
    expect(kicks).toBe(1);
    expect(
      await db.selectFrom("feed_cursors").select("feed_id").where("source_id", "=", "off").execute(),
    ).toEqual([]);
    // A second tick finds the windows still open: nothing new starts, the in-flight cap holds.
    now += 5_000;
    await tick();
    expect(await windows("ft")).toHaveLength(2);
  });

  it("re-publishes a lost poll even while syncs keep the pipeline busy", async () => {
    await synced("lost", []);
    const sources = parseSources({
      sources: [{ id: "lost", feeds: { enabled: true, maxWindowsInFlight: 1 } }],
    }).sources;
    const tick = createFeedTick({
      sources,
      isLeader: () => true,
      store: store(),
      kickOutbox: () => {},
      logger,
      now: () => T0,
    });
    await tick();
    const task = await db
      .selectFrom("tasks")
      .select(["id", "publish_count"])
      .where("source_id", "=", "lost")
      .where("status", "=", "pending")
      .executeTakeFirstOrThrow();
    // Its message was lost: nothing re-published it for longer than the stall timeout.
    await db
      .updateTable("tasks")
      .set({ published_at: new Date(Date.now() - 5 * 60_000) })
      .where("id", "=", task.id)
      .execute();
    await tick();
    const after = await db
      .selectFrom("tasks")
      .select("publish_count")
      .where("id", "=", task.id)
      .executeTakeFirstOrThrow();
    expect(after.publish_count).toBe(task.publish_count + 1);
    const outbox = await db
      .selectFrom("outbox")
      .select("id")
      .where("payload", "like", `%${task.id}%`)
      .execute();
    expect(outbox).toHaveLength(2);
  });
});
