import type { FeedPage, RecordOutcome, RefreshIntent } from "@grantline/contracts";

/*
 * The cursor of one change feed (docs/freshness.md), as pure transitions over plain values; libs/db stores the
 * same values in `feed_cursors` and applies each transition in the transaction that makes it durable.
 *
 *   idle ──startWindow──▶ open ──addPage (0..n)──▶ open ──commitWindow──▶ idle
 *
 * A crash anywhere loses only the transition that had not committed: a window not yet started is started again
 * later (a new `end`), a page not yet added is fetched and added again (de-duplicated by event id), a commit not
 * yet made is made when the last page is replayed.
 */

/** CloudTrail keeps management events for 90 days: a window never starts earlier. */
export const CLOUDTRAIL_HORIZON_MS = 90 * 86_400_000;

/** One event already translated: its id, and its time, which decides when it can be forgotten. */
export interface SeenEvent {
  id: string;
  /** ISO timestamp (CloudTrail `eventTime`). */
  time: string;
}

/** What a committed window leaves: the next window starts at `since - overlap`; `seen` are the events after that. */
export interface CommittedCursor {
  since: Date;
  seen: SeenEvent[];
}

/** A targeted refresh a window collected, with the record that caused it (the `refresh_queue` row's cause). */
export interface WindowIntent {
  intent: RefreshIntent;
  eventId: string;
  eventName: string;
  eventTime: string;
}

/** An in-flight window: `since` and `end` are fixed for every page of the cycle. */
export interface FeedWindow {
  since: Date;
  end: Date;
  /** Newest event time the window has seen (null: none yet). */
  newest: string | null;
  seen: SeenEvent[];
  intents: WindowIntent[];
}

export interface FeedTiming {
  /** Must exceed CloudTrail's delivery delay: events that were not visible at a window's end are in the next. */
  overlapMs: number;
  /** How far back a feed's first window reaches. */
  lookbackMs: number;
}

/** A new feed's committed cursor: `lookback` before now (within CloudTrail's horizon), nothing seen. */
export function initialCursor(now: Date, lookbackMs: number): CommittedCursor {
  return { since: new Date(now.getTime() - Math.min(lookbackMs, CLOUDTRAIL_HORIZON_MS)), seen: [] };
}

/**
 * Opens a window over [since − overlap, now]. `now` is pinned as the window's end for every page, so paging
 * reads one fixed range even while new events arrive (they belong to the next window).
 */
export function startWindow(cursor: CommittedCursor, now: Date, overlapMs: number): FeedWindow {
  const horizon = now.getTime() - CLOUDTRAIL_HORIZON_MS;
  const since = new Date(Math.max(cursor.since.getTime() - overlapMs, horizon));
  return { since, end: now, newest: null, seen: [], intents: [] };
}

/** What a page added: the records not seen before, by outcome. */
export interface PageCounts {
  seen: number;
  translated: number;
  ignored: number;
  unknown: number;
}

export const NO_COUNTS: PageCounts = { seen: 0, translated: 0, ignored: 0, unknown: 0 };

type PageRecord = FeedPage["records"][number];

function bucket(outcome: RecordOutcome): keyof Omit<PageCounts, "seen"> {
  switch (outcome) {
    case "translated":
      return "translated";
    case "unknown":
      return "unknown";
    default:
      return "ignored";
  }
}

/**
 * Adds one page of the window: records already seen (committed, or earlier in this window, or twice on the page)
 * are skipped, so a replayed page or an event delivered again adds nothing. Records outside the window's range
 * are skipped too: the committed `seen` no longer covers them, so they could be applied twice.
 */
export function addPage(
  cursor: CommittedCursor,
  window: FeedWindow,
  records: readonly PageRecord[],
): { window: FeedWindow; added: PageRecord[]; counts: PageCounts } {
  const known = new Set([...cursor.seen.map((s) => s.id), ...window.seen.map((s) => s.id)]);
  const from = window.since.getTime();
  const to = window.end.getTime();
  const added: PageRecord[] = [];
  const counts = { ...NO_COUNTS };
  let newest = window.newest;
  for (const r of records) {
    const t = Date.parse(r.eventTime);
    if (known.has(r.eventId) || !(t >= from && t <= to)) continue;
    known.add(r.eventId);
    added.push(r);
    counts.seen++;
    counts[bucket(r.outcome)]++;
    if (newest === null || t > Date.parse(newest)) newest = new Date(t).toISOString();
  }
  return {
    window: {
      ...window,
      newest,
      seen: [...window.seen, ...added.map((r) => ({ id: r.eventId, time: r.eventTime }))],
      intents: [
        ...window.intents,
        ...added.flatMap((r) =>
          r.intents.map((intent) => ({
            intent,
            eventId: r.eventId,
            eventName: r.eventName,
            eventTime: r.eventTime,
          })),
        ),
      ],
    },
    added,
    counts,
  };
}

/**
 * Closes an exhausted window: the refreshes it collected are to be queued, in the same transaction, with the
 * new cursor. The cursor advances to the window's end — an event not yet visible then happened after
 * `end − overlap` (its delay is below the overlap) and is read by the next window — and keeps the seen ids from
 * this window's start on: the next window starts at `end − overlap`, never earlier than this one did (so the
 * writer that commits needs no configuration; an overlap raised between windows may re-read a few events).
 */
export function commitWindow(
  cursor: CommittedCursor,
  window: FeedWindow,
): { cursor: CommittedCursor; refreshes: WindowIntent[] } {
  const since = new Date(Math.max(cursor.since.getTime(), window.end.getTime()));
  const keepFrom = window.since.getTime();
  const byId = new Map<string, SeenEvent>();
  for (const s of [...cursor.seen, ...window.seen]) if (Date.parse(s.time) >= keepFrom) byId.set(s.id, s);
  return {
    cursor: { since, seen: [...byId.values()].sort(bySeen) },
    refreshes: window.intents,
  };
}

function bySeen(a: SeenEvent, b: SeenEvent): number {
  return a.time === b.time ? a.id.localeCompare(b.id) : a.time.localeCompare(b.time);
}

export interface PollTiming {
  minIntervalMs: number;
  maxIntervalMs: number;
}

/**
 * The delay before a feed's next window: the minimum while it has activity, doubling with every quiet window
 * after that up to the maximum. `quietPolls` counts the consecutive windows (this one included) that found
 * nothing new; a window that found something resets it.
 */
export function nextPollDelay(quietPolls: number, t: PollTiming): number {
  if (quietPolls <= 0) return t.minIntervalMs;
  const d = t.minIntervalMs * 2 ** Math.min(quietPolls, 30);
  return Math.min(d, t.maxIntervalMs);
}

/** The quiet-window count after a window that saw `seen` new events. */
export function nextQuietPolls(quietPolls: number, seen: number): number {
  return seen > 0 ? 0 : quietPolls + 1;
}

/** How a seen event is stored in `feed_cursors.seen_ids`: time first, so the array sorts by time. */
export function encodeSeen(s: SeenEvent): string {
  return `${s.time}|${s.id}`;
}

export function decodeSeen(v: string): SeenEvent {
  const bar = v.indexOf("|");
  return bar < 0
    ? { id: v, time: new Date(0).toISOString() }
    : { time: v.slice(0, bar), id: v.slice(bar + 1) };
}
