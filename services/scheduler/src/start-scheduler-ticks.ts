import type { Subjects } from "@grantline/contracts";
import type { SchedulerConfig } from "@grantline/config";
import * as pgdb from "@grantline/db";
import type { Logger } from "@grantline/log";
import { createQueuedTasksCheck } from "@grantline/nats";
import { createDeriver } from "./deriver.ts";
import { createExpiryTick } from "./expiry-tick.ts";
import { createFeedReporter, feedGauges } from "./feed-reporter.ts";
import { createFeedTick } from "./feed-tick.ts";
import { createLagReporter, jetStreamInfo, lagGauges } from "./lag-reporter.ts";
import { createProgressReporter, progressGauges } from "./progress-reporter.ts";
import { createRecoverableServicesCheck } from "./recoverable-services.ts";
import { createRefreshTick } from "./refresh-tick.ts";
import { createSchedulerTick, type TickDeps } from "./scheduler-tick.ts";
import { startTickLoop } from "./tick-loop.ts";

export interface TickStepsDeps {
  config: Pick<SchedulerConfig, "sources" | "STALL_TIMEOUT_MS" | "TICK_MS" | "FEED_TICK_MS">;
  db: pgdb.Db;
  subjects: Subjects;
  jsm: Parameters<typeof jetStreamInfo>[0] &
    Parameters<typeof createRecoverableServicesCheck>[1] &
    Parameters<typeof createQueuedTasksCheck>[1];
  metrics: Parameters<typeof progressGauges>[0] &
    Parameters<typeof lagGauges>[0] &
    Parameters<typeof feedGauges>[0];
  logger: Logger;
  isLeader: () => boolean;
  startRun: TickDeps["startRun"];
  startRefresh: Parameters<typeof createRefreshTick>[0]["startRefresh"];
  kickOutbox: () => void;
  /** The leader's provisioning step (start-provisioning.ts): executions out, confirmations in. */
  provisioningTick: () => Promise<void>;
}

export interface SchedulerTicks {
  /** Stops both loops, waiting for their running ticks and the deriver's round. */
  stop(): Promise<void>;
}

/**
 * Starts what the scheduler does on a timer, in two loops. Every `TICK_MS`, in order: the leader's schedule and
 * recovery (full runs, stalled tasks), then every replica's progress, lag and feed gauges. Every `FEED_TICK_MS`
 * (1 s), the change → event path: the leader's targeted refresh runs, expiries, provisioning, the derivations
 * they left owed (started in the background), and change-feed windows. The two loops meet only in Postgres (the source lock serializes runs).
 */
export function startSchedulerTicks(d: TickStepsDeps): SchedulerTicks {
  const { db, subjects, logger, isLeader } = d;
  const sources = d.config.sources.sources;
  const stallMs = d.config.STALL_TIMEOUT_MS;
  // Whatever a tick settled or re-published goes out at once.
  const kickIf = (n: number) => (n > 0 ? (d.kickOutbox(), n) : n);
  const stillQueued = createQueuedTasksCheck(subjects, d.jsm);
  const tick = createSchedulerTick({
    sources,
    isLeader,
    // The schedule counts full runs only: a refresh run does not postpone reconciliation (a full run due while
    // a refresh run is active waits for it: one active run per source).
    lastRun: async (sourceId) => (await pgdb.runSummaries(db, { sourceId, kind: "full", limit: 1 }))[0],
    startRun: d.startRun,
    recoverableServices: createRecoverableServicesCheck(subjects, d.jsm, () => pgdb.openFeedWindows(db)),
    completeIdle: () => pgdb.completeIdleRuns(db, subjects, logger).then(kickIf),
    republishStalled: (services) =>
      pgdb.republishStalledTasks(db, subjects, stallMs, { services, stillQueued }).then(kickIf),
    logger,
  });
  const configured = new Set(sources.map((s) => s.id));
  const refreshTick = createRefreshTick({
    isLeader,
    waitingSources: async () =>
      (await pgdb.sourcesWithWaitingRefreshes(db)).filter((id) => configured.has(id)),
    startRefresh: d.startRefresh,
    logger,
  });
  const deriver = createDeriver({
    isLeader,
    owing: () => pgdb.sourcesOwingDerivation(db),
    derive: (sourceId) => pgdb.deriveOwed(db, subjects, sourceId),
    kickOutbox: d.kickOutbox,
    logger,
  });
  // Time-bound grants end on time: checked every second, fired once (libs/db expireDueGrants).
  const expiryTick = createExpiryTick({
    isLeader,
    expire: () => pgdb.expireDueGrants(db, subjects),
    kickOutbox: d.kickOutbox,
    logger,
  });
  const feedTick = createFeedTick({
    sources,
    isLeader,
    store: {
      ensureFeedRun: (sourceId) => pgdb.ensureFeedRun(db, sourceId),
      syncedFeedAccounts: (sourceId) => pgdb.syncedFeedAccounts(db, sourceId),
      ensureFeedCursors: (sourceId, feeds, o) => pgdb.ensureFeedCursors(db, sourceId, feeds, o),
      startDueWindows: (i) => pgdb.startDueWindows(db, subjects, i),
      republishStalledPolls: () => pgdb.republishStalledTasks(db, subjects, stallMs, { runs: "feeds" }),
      pruneFeedTasks: () => pgdb.pruneFeedTasks(db),
    },
    kickOutbox: d.kickOutbox,
    logger,
  });
  const reportProgress = createProgressReporter({
    latestRuns: () => pgdb.runSummaries(db, { limit: 50 }),
    ...progressGauges(d.metrics),
  });
  const reportLag = createLagReporter({ subjects, info: jetStreamInfo(d.jsm), ...lagGauges(d.metrics) });
  const reportFeeds = createFeedReporter({ feeds: () => pgdb.feedStatuses(db), ...feedGauges(d.metrics) });
  const main = startTickLoop({
    everyMs: d.config.TICK_MS,
    steps: [tick, reportProgress, reportLag, reportFeeds],
    logger,
  });
  const fast = startTickLoop({
    everyMs: d.config.FEED_TICK_MS,
    steps: [refreshTick, expiryTick, d.provisioningTick, deriver.step, feedTick],
    logger,
  });
  return {
    async stop() {
      await Promise.all([main.stop(), fast.stop()]);
      await deriver.stop();
    },
  };
}
