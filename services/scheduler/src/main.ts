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
import { createPgProvisioningStore, createPgRefreshStore, createPgRunStore } from "./pg-run-store.ts";
import { startSchedulerProvisioning } from "./start-provisioning.ts";
import { startSchedulerTicks } from "./start-scheduler-ticks.ts";

const config = exitOnConfigError("scheduler", () => loadSchedulerConfig(process.env));
runService("scheduler", config, async (rt) => {
  const { logger, subjects, metrics, nc, jsm, serve } = rt;
  const sources = config.sources.sources;
  const db = await pgdb.openServiceDb({ settings: config, service: "scheduler", logger });
  const onError = (err: unknown) => logger.warn({ err }, "outbox round failed; will retry");
  const outbox = pgdb.startOutboxPublisher({ db, sink: createOutboxSink(rt.js), onError });
  const kickOutbox = () => outbox.kick();
  const deps: ControlDeps = {
    sources,
    roots: createRootPlanner({ assignmentCounts: (id) => pgdb.assignmentCounts(db, id), logger }),
    runs: createPgRunStore(db, subjects),
    refreshes: createPgRefreshStore(db, subjects, (id) => sources.find((s) => s.id === id)?.iam),
    provisioning: createPgProvisioningStore(db, subjects),
    queues: { purgeSource: (sourceId) => purgeSourceWork(jsm, subjects, sourceId) },
    kickOutbox,
    feeds: (sourceId) => pgdb.feedStatuses(db, sourceId ? { sourceId } : {}),
    logger,
  };
  const [startRun, startRefresh] = [createRunStarter(deps), createRefreshStarter(deps)];
  // Any replica answers control requests (the queue group picks one); the database keeps runs consistent.
  const handlers = createControlHandlers(deps, startRun, startRefresh);
  const audit = (e: pgdb.ControlAuditRecord) => pgdb.recordControlAudit(db, e);
  const control = serveControl({ nc, subjects, handlers, logger, queue: "grantline-scheduler", audit });
  // Advisory lock key of the scheduler role ("gl-s" in ASCII); one active leader, others stand by.
  const leadership = pgdb.startLeadership({
    ...pgdb.dbOptions(config),
    key: 0x676c2d73,
    retryMs: Math.min(config.TICK_MS, 5_000),
    logger,
    applicationName: "grantline-scheduler-leader",
  });
  const provisioning = await startSchedulerProvisioning(rt, {
    config,
    db,
    isLeader: leadership.isLeader,
    kickOutbox,
  });
  const ticks = startSchedulerTicks({
    config,
    db,
    subjects,
    jsm,
    metrics,
    logger,
    isLeader: leadership.isLeader,
    startRun,
    startRefresh,
    kickOutbox,
    provisioningTick: provisioning.tick,
  });

  await serve({
    readiness: [pgdb.postgresReadiness(db)],
    fields: { database: redactUrl(config.DATABASE_URL), sources: sources.map((s) => s.id) },
    stop: [
      { name: "control", run: () => control.stop(config.SHUTDOWN_GRACE_MS) },
      { name: "ticks", run: () => ticks.stop() },
      { name: "provisioning", run: () => provisioning.answers.stop(config.SHUTDOWN_GRACE_MS) },
      { name: "leadership", run: () => leadership.stop() },
      { name: "outbox", run: () => outbox.stop() },
    ],
    close: [{ name: "postgres", run: () => db.destroy() }],
  });
});
