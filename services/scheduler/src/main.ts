import { exitOnConfigError, loadSchedulerConfig } from "@grantline/config";
import * as pgdb from "@grantline/db";
import { redactUrl } from "@grantline/log";
import { createOutboxSink, purgeSourceWork, runService, serveControl } from "@grantline/nats";
import { createRootPlanner } from "./root-planner.ts";
import {
  createControlHandlers,
  createRefreshStarter,
  createRunStarter,
  type ControlDeps,
} from "./control-handlers.ts";
import { createFeedReporter, feedGauges } from "./feed-reporter.ts";
import { createFeedTick } from "./feed-tick.ts";
import { createLagReporter, jetStreamInfo, lagGauges } from "./lag-reporter.ts";
import { createPgRefreshStore, createPgRunStore } from "./pg-run-store.ts";
import { createRefreshTick } from "./refresh-tick.ts";
import { createPipelineIdleCheck } from "./pipeline-idle.ts";
import { createProgressReporter, progressGauges } from "./progress-reporter.ts";
import { createSchedulerTick } from "./scheduler-tick.ts";
import { startTickLoop } from "./tick-loop.ts";

const config = exitOnConfigError("scheduler", () => loadSchedulerConfig(process.env));
runService("scheduler", config, async ({ logger, subjects, metrics, nc, js, jsm, serve }) => {
  const sources = config.sources.sources;
  const db = pgdb.createDb({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: "grantline-scheduler",
  });
  const outbox = pgdb.startOutboxPublisher({
    db,
    sink: createOutboxSink(js),
    onError: (err) => logger.warn({ err }, "outbox round failed; will retry"),
  });
  const deps: ControlDeps = {
    sources,
    roots: createRootPlanner({ assignmentCounts: (id) => pgdb.assignmentCounts(db, id), logger }),
    runs: createPgRunStore(db, subjects),
    refreshes: createPgRefreshStore(db, subjects, (id) => sources.find((s) => s.id === id)?.iam),
    queues: { purgeSource: (sourceId) => purgeSourceWork(jsm, subjects, sourceId) },
    kickOutbox: () => outbox.kick(),
    feeds: (sourceId) => pgdb.feedStatuses(db, sourceId ? { sourceId } : {}),
    logger,
  };
  const startRun = createRunStarter(deps);
  const startRefresh = createRefreshStarter(deps);
  // Any replica answers control requests (the queue group picks one); the database keeps runs consistent.
  const handlers = createControlHandlers(deps, startRun, startRefresh);
  const control = serveControl({ nc, subjects, handlers, logger, queue: "grantline-scheduler" });

  // Advisory lock key of the scheduler role ("gl-s" in ASCII); one active leader, others stand by.
  const leadership = pgdb.startLeadership({
    url: config.DATABASE_URL,
    key: 0x676c2d73,
    retryMs: Math.min(config.TICK_MS, 5_000),
    logger,
    applicationName: "grantline-scheduler-leader",
  });
  // Whatever a tick settled or re-published goes out at once.
  const kickIf = (n: number) => (n > 0 ? (outbox.kick(), n) : n);
  const tick = createSchedulerTick({
    sources,
    isLeader: leadership.isLeader,
    // The schedule counts full runs only: a refresh run does not postpone reconciliation (a full run due while
    // a refresh run is active waits for it: one active run per source).
    lastRun: async (sourceId) => (await pgdb.runSummaries(db, { sourceId, kind: "full", limit: 1 }))[0],
    startRun,
    pipelineIdle: createPipelineIdleCheck(subjects, jsm, () => pgdb.openFeedWindows(db)),
    completeIdle: () => pgdb.completeIdleRuns(db, subjects, logger).then(kickIf),
    republishStalled: () => pgdb.republishStalledTasks(db, subjects, config.STALL_TIMEOUT_MS).then(kickIf),
    logger,
  });
  const configured = new Set(sources.map((s) => s.id));
  const refreshTick = createRefreshTick({
    isLeader: leadership.isLeader,
    waitingSources: async () =>
      (await pgdb.sourcesWithWaitingRefreshes(db)).filter((id) => configured.has(id)),
    startRefresh,
    logger,
  });
  const reportProgress = createProgressReporter({
    latestRuns: () => pgdb.runSummaries(db, { limit: 50 }),
    ...progressGauges(metrics),
  });
  const reportLag = createLagReporter({ subjects, info: jetStreamInfo(jsm), ...lagGauges(metrics) });
  const feedTick = createFeedTick({
    sources,
    isLeader: leadership.isLeader,
    store: {
      ensureFeedRun: (sourceId) => pgdb.ensureFeedRun(db, sourceId),
      syncedFeedAccounts: (sourceId) => pgdb.syncedFeedAccounts(db, sourceId),
      ensureFeedCursors: (sourceId, feeds, o) => pgdb.ensureFeedCursors(db, sourceId, feeds, o),
      startDueWindows: (i) => pgdb.startDueWindows(db, subjects, i),
      republishStalledPolls: () =>
        pgdb.republishStalledTasks(db, subjects, config.STALL_TIMEOUT_MS, 1000, "feeds"),
      pruneFeedTasks: () => pgdb.pruneFeedTasks(db),
    },
    kickOutbox: () => outbox.kick(),
    logger,
  });
  const reportFeeds = createFeedReporter({ feeds: () => pgdb.feedStatuses(db), ...feedGauges(metrics) });
  const ticks = startTickLoop({
    everyMs: config.TICK_MS,
    steps: [tick, refreshTick, feedTick, reportProgress, reportLag, reportFeeds],
    logger,
  });

  await serve({
    readiness: [pgdb.postgresReadiness(db)],
    fields: { database: redactUrl(config.DATABASE_URL), sources: sources.map((s) => s.id) },
    stop: [
      { name: "control", run: () => control.stop(config.SHUTDOWN_GRACE_MS) },
      { name: "ticks", run: () => ticks.stop() },
      { name: "leadership", run: () => leadership.stop() },
      { name: "outbox", run: () => outbox.stop() },
    ],
    close: [{ name: "postgres", run: () => db.destroy() }],
  });
});
