import type { SourceConfig } from "@grantline/config";
import type { Logger } from "@grantline/log";
import { sourceFeeds, type FeedSpec } from "@grantline/model";

/** The feed state the tick drives (libs/db's feed-cursors.ts and feed-runs.ts, bound to a database). */
export interface FeedStore {
  ensureFeedRun(sourceId: string): Promise<string>;
  syncedFeedAccounts(
    sourceId: string,
  ): Promise<{ managementAccountId: string | null; iamAccountIds: string[] }>;
  ensureFeedCursors(
    sourceId: string,
    feeds: FeedSpec[],
    o: { now: Date; lookbackMs: number },
  ): Promise<number>;
  startDueWindows(i: {
    sourceId: string;
    runId: string;
    now: Date;
    overlapMs: number;
    poll: { minIntervalMs: number; maxIntervalMs: number };
    accountIntervalMs?: number;
    maxWindowsInFlight: number;
    pollsPerTask?: number;
  }): Promise<{ started: string[]; abandoned: string[] }>;
  /** Re-publishes the feed runs' pending poll tasks not published for the stall timeout; returns how many. */
  republishStalledPolls(): Promise<number>;
  /** Deletes settled poll tasks older than an hour; returns how many. */
  pruneFeedTasks(): Promise<number>;
}

export interface FeedTickDeps {
  sources: SourceConfig[];
  isLeader(): boolean;
  store: FeedStore;
  /** Wakes the outbox publisher: a started window's first poll goes out at once. */
  kickOutbox(): void;
  logger: Logger;
  now?: () => number;
  /** How often the list of feeds is re-read from what the syncs saw. @default 60000 */
  refreshFeedsEveryMs?: number;
  /** How often settled poll tasks are pruned. @default 600000 */
  pruneEveryMs?: number;
}

/**
 * The leader's feed duties, once per tick: for every source with feeds enabled, its feed run and cursor rows
 * (the feeds follow the accounts the syncs saw), then windows for the feeds that are due; then lost polls are
 * re-published (apart from the syncs' stalled tasks: the endless stream of polls never lets the pipeline look
 * idle) and old settled polls pruned. Non-leaders do nothing.
 */
export function createFeedTick(deps: FeedTickDeps): () => Promise<void> {
  const now = deps.now ?? Date.now;
  const refreshEvery = deps.refreshFeedsEveryMs ?? 60_000;
  const pruneEvery = deps.pruneEveryMs ?? 600_000;
  const enabled = deps.sources.filter((s) => s.kind === "aws" && s.feeds.enabled);
  const feedsReadAt = new Map<string, number>();
  let prunedAt = 0;

  async function tickSource(s: SourceConfig): Promise<number> {
    // Asked every tick (one index probe): a feed run that is gone is replaced at once, not polled for forever.
    const runId = await deps.store.ensureFeedRun(s.id);
    const t = now();
    if (t - (feedsReadAt.get(s.id) ?? -Infinity) >= refreshEvery) {
      const accounts = await deps.store.syncedFeedAccounts(s.id);
      const feeds = sourceFeeds({
        ...accounts,
        identityCenterRegion: s.region,
        managementFeeds: s.feeds.managementFeeds,
      });
      const added = await deps.store.ensureFeedCursors(s.id, feeds, {
        now: new Date(t),
        lookbackMs: s.feeds.lookback,
      });
      if (added > 0) deps.logger.info({ sourceId: s.id, added, feeds: feeds.length }, "feeds added");
      feedsReadAt.set(s.id, t);
    }
    const r = await deps.store.startDueWindows({
      sourceId: s.id,
      runId,
      now: new Date(t),
      overlapMs: s.feeds.overlap,
      poll: { minIntervalMs: s.feeds.minInterval, maxIntervalMs: s.feeds.maxInterval },
      accountIntervalMs: s.feeds.accountInterval,
      maxWindowsInFlight: s.feeds.maxWindowsInFlight,
      pollsPerTask: s.feeds.pollsPerTask,
    });
    if (r.abandoned.length > 0)
      deps.logger.warn(
        { sourceId: s.id, feeds: r.abandoned },
        "feed windows ended without a commit (poll failed or denied); their range is read again",
      );
    return r.started.length;
  }

  return async () => {
    if (!deps.isLeader() || enabled.length === 0) return;
    let started = 0;
    for (const s of enabled) {
      try {
        started += await tickSource(s);
      } catch (err) {
        // One source's trouble must not stop the others' feeds.
        deps.logger.error({ err, sourceId: s.id }, "feed tick failed for source");
      }
    }
    const republished = await deps.store.republishStalledPolls();
    if (republished > 0) deps.logger.warn({ republished }, "re-published stalled feed polls");
    if (started > 0 || republished > 0) deps.kickOutbox();
    if (now() - prunedAt >= pruneEvery) {
      prunedAt = now();
      const pruned = await deps.store.pruneFeedTasks();
      if (pruned > 0) deps.logger.debug({ pruned }, "pruned settled feed polls");
    }
  };
}
