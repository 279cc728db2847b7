// size: the feed cursor store is one unit: cursor rows, window scheduling (fairness, per-account timing) and page application share its row type and transactions
import { sql, type Selectable, type Transaction } from "kysely";
import { feedPollsRequest } from "@grantline/contracts";
import type {
  FeedSelector,
  FeedPage,
  FeedStatus,
  PageRequest,
  RefreshIntent,
  Subjects,
} from "@grantline/contracts";
import {
  addPage,
  commitWindow,
  decodeSeen,
  encodeSeen,
  feedPollRequest,
  initialCursor,
  nextPollDelay,
  nextQuietPolls,
  startWindow,
  type CommittedCursor,
  type FeedSpec,
  type FeedWindow,
  type PollTiming,
  type WindowIntent,
} from "@grantline/model";
import type { Db } from "./create-db.ts";
import type { Database } from "./database.ts";
import { enqueueTasks } from "./enqueue-tasks.ts";
import type { EventContext } from "./outbox-rows.ts";
import { enqueueRefreshes } from "./refresh-queue.ts";

/*
 * Feed cursors in `feed_cursors` (docs/freshness.md): the pure transitions of @grantline/model's feed-window,
 * each applied in the transaction that makes it durable — a window's start with its first poll task, a page with
 * its task's settlement, the commit with the refreshes it queues.
 */

type Row = Selectable<Database["feed_cursors"]>;

const ts = (v: Date | string): Date => (v instanceof Date ? v : new Date(v));

function committedOf(r: Pick<Row, "since" | "seen_ids">): CommittedCursor {
  return { since: ts(r.since), seen: r.seen_ids.map(decodeSeen) };
}

function windowOf(r: Row): FeedWindow | null {
  if (r.window_task_id === null || r.window_since === null || r.window_end === null) return null;
  return {
    since: ts(r.window_since),
    end: ts(r.window_end),
    newest: r.window_newest === null ? null : ts(r.window_newest).toISOString(),
    seen: r.window_seen_ids.map(decodeSeen),
    intents: r.window_intents as WindowIntent[],
  };
}

/** The accounts a source's feeds read, from what its full syncs saw. */
export async function syncedFeedAccounts(
  db: Db,
  sourceId: string,
): Promise<{ managementAccountId: string | null; iamAccountIds: string[] }> {
  const org = await db
    .selectFrom("resources")
    .select(sql<string | null>`attrs->>'managementAccountId'`.as("m"))
    .where("source_id", "=", sourceId)
    .where("type", "=", "organization")
    .where("deleted_at", "is", null)
    .executeTakeFirst();
  const iam = await db
    .selectFrom("resources")
    .select("id")
    .where("source_id", "=", sourceId)
    .where("type", "=", "iam_account")
    .where("deleted_at", "is", null)
    .orderBy("id")
    .execute();
  return { managementAccountId: org?.m ?? null, iamAccountIds: iam.map((r) => r.id) };
}

/**
 * Makes the source's cursor rows match its feeds: a new feed starts `lookbackMs` before `now`; a feed no longer
 * listed (its account left) is dropped once no window of it is open. Returns how many were added.
 */
export async function ensureFeedCursors(
  db: Db,
  sourceId: string,
  feeds: readonly FeedSpec[],
  o: { now: Date; lookbackMs: number },
): Promise<number> {
  const since = initialCursor(o.now, o.lookbackMs).since;
  let added = 0;
  if (feeds.length > 0) {
    const res = await db
      .insertInto("feed_cursors")
      .values(
        feeds.map((f) => ({
          source_id: sourceId,
          feed_id: f.feedId,
          account_id: f.accountId,
          region: f.region,
          event_source: f.eventSource,
          since,
        })),
      )
      .onConflict((oc) => oc.columns(["source_id", "feed_id"]).doNothing())
      .returning("feed_id")
      .execute();
    added = res.length;
  }
  let gone = db
    .deleteFrom("feed_cursors")
    .where("source_id", "=", sourceId)
    .where("window_task_id", "is", null);
  if (feeds.length > 0)
    gone = gone.where(
      "feed_id",
      "not in",
      feeds.map((f) => f.feedId),
    );
  await gone.execute();
  return added;
}

export interface StartWindowsInput {
  sourceId: string;
  /** The source's feed run, which owns the poll tasks. */
  runId: string;
  now: Date;
  overlapMs: number;
  poll: PollTiming;
  /** A quiet account and Region's interval, shared by its feeds (the sources file's `feeds.accountInterval`). */
  accountIntervalMs?: number;
  maxWindowsInFlight: number;
  /** Feeds polled by one task (`cloudtrail.PollFeeds`); 1 gives each its own. @default 1 */
  pollsPerTask?: number;
}

export interface StartWindowsResult {
  /** Feed ids whose window was started, in the order they were picked. */
  started: string[];
  /** Windows closed without a commit (their poll chain settled as failed, denied or dropped), reopened later. */
  abandoned: string[];
}

/**
 * One scheduling pass over a source's feeds, in one transaction: windows whose poll chain ended without a commit
 * are dropped (the cursor stays; the range is read again), then due feeds get a window and its first poll task
 * (with its outbox row), fairly: least recently polled first, by feed id on ties, up to `maxWindowsInFlight`
 * open at once. A feed is due `nextPollDelay(quiet windows)` after its last window started.
 */
export async function startDueWindows(
  db: Db,
  subjects: Subjects,
  i: StartWindowsInput,
): Promise<StartWindowsResult> {
  return db.transaction().execute(async (tx) => {
    const rows = (await tx
      .selectFrom("feed_cursors")
      .selectAll()
      .where("source_id", "=", i.sourceId)
      .orderBy("feed_id")
      .forUpdate()
      .execute()) as Row[];
    const abandoned: string[] = [];
    const open = rows.filter((r) => r.window_task_id !== null);
    if (open.length > 0) {
      // A single feed's poll names its feed; a PollFeeds task names each of its feeds.
      const live = await tx
        .selectFrom("tasks")
        .innerJoin("runs", "runs.id", "tasks.run_id")
        .select(
          sql<string[]>`coalesce(
            (SELECT array_agg(p->'Params'->>'FeedId') FROM jsonb_array_elements(tasks.params->'Polls') p),
            ARRAY[tasks.params->>'FeedId'])`.as("feed_ids"),
        )
        .where("tasks.source_id", "=", i.sourceId)
        .where("tasks.status", "=", "pending")
        .where("tasks.service", "=", "cloudtrail")
        .where("runs.status", "=", "running")
        .where("runs.kind", "=", "feed")
        .execute();
      const alive = new Set(live.flatMap((t) => t.feed_ids));
      for (const r of open)
        if (!alive.has(r.feed_id)) {
          abandoned.push(r.feed_id);
          r.window_task_id = null;
        }
      if (abandoned.length > 0)
        await tx
          .updateTable("feed_cursors")
          .set(closedWindow)
          .where("source_id", "=", i.sourceId)
          .where("feed_id", "in", abandoned)
          .execute();
    }
    const timing = feedTimings(rows, i.poll, i.accountIntervalMs);
    const inFlight = rows.filter((r) => r.window_task_id !== null).length;
    const room = Math.max(0, i.maxWindowsInFlight - inFlight);
    const due = rows
      .filter((r) => r.window_task_id === null && dueAt(r, timing(r)) <= i.now.getTime())
      .sort(
        (a, b) =>
          lastPolled(a) - lastPolled(b) || (a.feed_id < b.feed_id ? -1 : a.feed_id > b.feed_id ? 1 : 0),
      )
      .slice(0, room);
    const context = due.length > 0 ? await identityCenterOf(tx, i.sourceId) : undefined;
    const polls: PageRequest[] = [];
    const started: Array<{ row: Row; since: Date; end: Date }> = [];
    const taskOf: string[] = [];
    for (const r of due) {
      const w = startWindow(committedOf(r), i.now, i.overlapMs);
      const req = feedPollRequest({
        runId: i.runId,
        sourceId: i.sourceId,
        feed: {
          feedId: r.feed_id,
          accountId: r.account_id,
          region: r.region,
          eventSource: r.event_source as FeedSelector,
        },
        since: w.since,
        end: w.end,
        ...(context ? { context } : {}),
      });
      polls.push(req);
      started.push({ row: r, since: w.since, end: w.end });
    }
    // Up to `pollsPerTask` feeds per task: one task, message per stage and writer transaction for all of them.
    const size = Math.max(1, i.pollsPerTask ?? 1);
    const tasks: PageRequest[] = [];
    for (let k = 0; k < polls.length; k += size) {
      const chunk = polls.slice(k, k + size);
      const task = chunk.length === 1 ? chunk[0]! : feedPollsRequest(chunk);
      tasks.push(task);
      for (let j = k; j < k + chunk.length; j++) taskOf[j] = task.taskId;
    }
    for (const [j, s] of started.entries())
      await tx
        .updateTable("feed_cursors")
        .set({
          ...closedWindow,
          window_task_id: taskOf[j]!,
          window_since: s.since,
          window_end: s.end,
          window_started_at: i.now,
          last_polled_at: i.now,
          next_poll_at: new Date(i.now.getTime() + nextPollDelay(s.row.quiet_polls, timing(s.row))),
        })
        .where("source_id", "=", i.sourceId)
        .where("feed_id", "=", s.row.feed_id)
        .execute();
    await enqueueTasks(tx, subjects, tasks, null);
    return { started: due.map((r) => r.feed_id), abandoned };
  });
}

/** The source's synced Identity Center instance and store, which events that name neither refer to. */
async function identityCenterOf(
  tx: Transaction<Database>,
  sourceId: string,
): Promise<{ identityStoreId: string | null; instanceArn: string | null } | undefined> {
  const r = await tx
    .selectFrom("resources")
    .select(["id", sql<string | null>`attrs->>'identityStoreId'`.as("store")])
    .where("source_id", "=", sourceId)
    .where("type", "=", "sso_instance")
    .where("deleted_at", "is", null)
    .orderBy("id")
    .executeTakeFirst();
  return r ? { identityStoreId: r.store, instanceArn: r.id } : undefined;
}

const closedWindow = {
  window_task_id: null,
  window_since: null,
  window_end: null,
  window_newest: null,
  window_seen_ids: [] as string[],
  window_intents: JSON.stringify([]),
  window_started_at: null,
};

const lastPolled = (r: Row): number => (r.last_polled_at === null ? 0 : ts(r.last_polled_at).getTime());

/**
 * Each feed's poll timing: a quiet account and Region is read every `accountIntervalMs`, its feeds taking turns,
 * so a feed's longest interval is that × the feeds of its account and Region, within the source's bounds. The
 * CloudTrail quota is per account and Region: a member account's single IAM feed may poll more often than each of
 * the management account's five for the same share of it.
 */
function feedTimings(rows: Row[], poll: PollTiming, accountIntervalMs?: number): (r: Row) => PollTiming {
  if (accountIntervalMs === undefined) return () => poll;
  const key = (r: Row) => `${r.account_id}/${r.region}`;
  const feeds = new Map<string, number>();
  for (const r of rows) feeds.set(key(r), (feeds.get(key(r)) ?? 0) + 1);
  return (r) => ({
    minIntervalMs: poll.minIntervalMs,
    maxIntervalMs: Math.max(
      poll.minIntervalMs,
      Math.min(poll.maxIntervalMs, accountIntervalMs * (feeds.get(key(r)) ?? 1)),
    ),
  });
}

/** When a feed's next window may start: its quiet-window backoff after the last window started. */
function dueAt(r: Row, poll: PollTiming): number {
  return r.last_polled_at === null ? 0 : lastPolled(r) + nextPollDelay(r.quiet_polls, poll);
}

/**
 * Adds one feed page to its open window, in the batch's transaction (applyBatch): records not seen before are
 * added with their refreshes and counted. On the window's last page it commits: the window's refreshes go to
 * `refresh_queue`, the cursor advances and the window closes, all in this transaction. A page of a window that
 * is no longer open (or of another window) changes nothing. Returns the number of refreshes queued.
 */
export async function applyFeedPage(
  tx: Transaction<Database>,
  ctx: Pick<EventContext, "sourceId" | "now">,
  page: FeedPage,
): Promise<{ added: number; queued: number; committed: boolean }> {
  const none = { added: 0, queued: 0, committed: false };
  const row = (await tx
    .selectFrom("feed_cursors")
    .selectAll()
    .where("source_id", "=", ctx.sourceId)
    .where("feed_id", "=", page.feedId)
    .forUpdate()
    .executeTakeFirst()) satisfies Row | undefined;
  if (!row) return none;
  const window = windowOf(row);
  if (!window) return none;
  if (page.windowEnd !== undefined && Date.parse(page.windowEnd) !== window.end.getTime()) return none;
  const cursor = committedOf(row);
  const r = addPage(cursor, window, page.records);
  const counters = {
    events_seen: sql<string>`events_seen + ${r.counts.seen}`,
    events_translated: sql<string>`events_translated + ${r.counts.translated}`,
    events_ignored: sql<string>`events_ignored + ${r.counts.ignored}`,
    events_unknown: sql<string>`events_unknown + ${r.counts.unknown}`,
    last_event_at:
      r.window.newest === null
        ? row.last_event_at
        : sql<Date>`greatest(last_event_at, ${r.window.newest}::timestamptz)`,
  };
  const { sourceId } = ctx;
  const { feedId } = page;
  if (!page.windowComplete) {
    await tx
      .updateTable("feed_cursors")
      .set({
        ...counters,
        window_newest: r.window.newest,
        window_seen_ids: r.window.seen.map(encodeSeen),
        window_intents: JSON.stringify(r.window.intents),
      })
      .where("source_id", "=", sourceId)
      .where("feed_id", "=", feedId)
      .execute();
    return { added: r.added.length, queued: 0, committed: false };
  }
  const c = commitWindow(cursor, r.window);
  const queued = await enqueueRefreshes(
    tx,
    sourceId,
    c.refreshes.map((x) => ({
      intent: x.intent as RefreshIntent,
      feedId,
      eventId: x.eventId,
      eventName: x.eventName,
      eventTime: x.eventTime,
    })),
  );
  const oldest = c.refreshes.reduce<number | null>((m, x) => {
    const t = Date.parse(x.eventTime);
    return m === null || t < m ? t : m;
  }, null);
  await tx
    .updateTable("feed_cursors")
    .set({
      ...counters,
      ...closedWindow,
      since: c.cursor.since,
      seen_ids: c.cursor.seen.map(encodeSeen),
      committed_at: ctx.now,
      quiet_polls: nextQuietPolls(row.quiet_polls, r.window.seen.length),
      // Event → refresh queued, for the window's oldest change: what the overlap and the polling cost.
      ...(oldest === null ? {} : { last_lag_ms: String(Math.max(0, ctx.now.getTime() - oldest)) }),
    })
    .where("source_id", "=", sourceId)
    .where("feed_id", "=", feedId)
    .execute();
  return { added: r.added.length, queued, committed: true };
}

export type FeedStatusRow = FeedStatus;

const isoOrNull = (v: Date | string | null): string | null => (v === null ? null : ts(v).toISOString());

/** Every feed's state (of one source, or all), for `grantline status` and the metrics. */
export async function feedStatuses(db: Db, f: { sourceId?: string; now?: Date } = {}): Promise<FeedStatus[]> {
  const now = f.now ?? new Date();
  let q = db.selectFrom("feed_cursors").selectAll().orderBy("source_id").orderBy("feed_id");
  if (f.sourceId) q = q.where("source_id", "=", f.sourceId);
  const rows = await q.execute();
  if (rows.length === 0) return [];
  // The latest finished refresh of each feed (refresh runs set done_at).
  const done = await sql<{ source_id: string; feed_id: string; lag_ms: string }>`
    SELECT DISTINCT ON (source_id, feed_id) source_id, feed_id,
           (extract(epoch FROM done_at - event_time) * 1000)::bigint AS lag_ms
      FROM refresh_queue
     WHERE feed_id IS NOT NULL AND done_at IS NOT NULL AND event_time IS NOT NULL
       ${f.sourceId ? sql`AND source_id = ${f.sourceId}` : sql``}
     ORDER BY source_id, feed_id, done_at DESC`.execute(db);
  const lag = new Map(done.rows.map((r) => [`${r.source_id}/${r.feed_id}`, Number(r.lag_ms)]));
  return rows.map((r) => ({
    sourceId: r.source_id,
    feedId: r.feed_id,
    accountId: r.account_id,
    region: r.region,
    eventSource: r.event_source,
    since: ts(r.since).toISOString(),
    cursorAgeMs: Math.max(0, now.getTime() - ts(r.since).getTime()),
    committedAt: isoOrNull(r.committed_at),
    windowOpen: r.window_task_id !== null,
    quietPolls: r.quiet_polls,
    eventsSeen: Number(r.events_seen),
    eventsTranslated: Number(r.events_translated),
    eventsIgnored: Number(r.events_ignored),
    eventsUnknown: Number(r.events_unknown),
    lastEventAt: isoOrNull(r.last_event_at),
    queueLagMs: r.last_lag_ms === null ? null : Number(r.last_lag_ms),
    refreshLagMs: lag.get(`${r.source_id}/${r.feed_id}`) ?? null,
  }));
}

/** Feed windows open now, over every source: each may have one message in the mapper or writer. */
export async function openFeedWindows(db: Db): Promise<number> {
  const r = await db
    .selectFrom("feed_cursors")
    .select(sql<string>`count(*)`.as("n"))
    .where("window_task_id", "is not", null)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}
