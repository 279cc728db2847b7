import { createSubjects, pipelineConsumers, type CtlVerb } from "@grantline/contracts";
import { exitOnConfigError, loadSchedulerConfig } from "@grantline/config";
import {
  assignmentCounts,
  completeIdleRuns,
  createDb,
  postgresReadiness,
  republishStalledTasks,
  runSummaries,
  startLeadership,
  startOutboxPublisher,
  startRun,
} from "@grantline/db";
import { createLogger, redactUrl } from "@grantline/log";
import { chooseAssignmentRoute, rootRequests } from "@grantline/model";
import {
  connectNats,
  ensureStreams,
  headers as natsHeaders,
  installShutdown,
  jetstream,
  jetstreamManager,
  natsReadiness,
  inTraceContextOf,
} from "@grantline/nats";
import { createMetrics, startProbeServer, startTracing } from "@grantline/observability";
import { createControlHandlers } from "./control-handlers.ts";
import { createLagReporter } from "./lag-reporter.ts";
import { createProgressReporter } from "./progress-reporter.ts";
import { createSchedulerTick } from "./scheduler-tick.ts";

// One advisory lock key for the scheduler role ("gl-s" in ASCII); fits a safe integer.
const LEADER_LOCK_KEY = 0x676c2d73;

async function main(): Promise<void> {
  const config = exitOnConfigError("scheduler", () => loadSchedulerConfig(process.env));
  const logger = createLogger({ service: "scheduler", level: config.LOG_LEVEL });
  const tracing = startTracing(config, { service: "scheduler", logger });
  const subjects = createSubjects(config.GL_SUBJECT_PREFIX);
  const metrics = createMetrics({ service: "scheduler" });
  const db = createDb({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: "grantline-scheduler",
  });
  const nc = await connectNats({ servers: config.NATS_URL, name: "grantline-scheduler", logger });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm, subjects, { replicas: config.NATS_STREAM_REPLICAS });
  logger.info(
    { database: redactUrl(config.DATABASE_URL), sources: config.sources.sources.map((s) => s.id) },
    "connected",
  );

  const outbox = startOutboxPublisher({
    db,
    sink: {
      publish: async (subject, payload, msgID, hdrs) => {
        const h = natsHeaders();
        for (const [k, v] of Object.entries(hdrs ?? {})) h.set(k, v);
        await js.publish(subject, payload, { msgID, headers: h, retries: 2 });
      },
    },
    onError: (err) => logger.warn({ err }, "outbox round failed; will retry"),
  });
  const control = createControlHandlers({
    sources: config.sources.sources,
    roots: async (source, runId) => {
      const assignmentRoute = chooseAssignmentRoute(
        source.assignmentRoute,
        source.kind === "aws" && source.assignmentRoute === "auto"
          ? await assignmentCounts(db, source.id)
          : null,
      );
      if (source.kind === "aws")
        logger.info({ sourceId: source.id, assignmentRoute }, "assignment route chosen");
      return rootRequests(source, runId, { assignmentRoute });
    },
    runs: {
      start: (sourceId, runId, roots) => startRun(db, { sourceId, runId, roots, subjects }),
      summaries: (f) => runSummaries(db, f),
    },
    kickOutbox: () => outbox.kick(),
    logger,
  });

  // Any replica answers control requests (the queue group picks one); the database keeps runs consistent.
  const verbs: Array<[CtlVerb, (body: unknown) => Promise<unknown>]> = [
    ["sync", control.sync],
    ["status", control.status],
  ];
  const subs = verbs.map(([verb, handle]) =>
    nc.subscribe(subjects.ctl(verb), {
      queue: "grantline-scheduler",
      callback: (_err, msg) => {
        void (async () => {
          let reply: unknown;
          try {
            // A caller that sends `traceparent` (its own trace) gets the run as a child of it.
            reply = await inTraceContextOf(msg.headers, () => handle(msg.data.length ? msg.json() : {}));
          } catch (err) {
            logger.error({ err, verb }, "control request failed");
            reply = { ok: false, error: `internal error: ${(err as Error).message}` };
          }
          msg.respond(JSON.stringify(reply));
        })();
      },
    }),
  );

  const leadership = startLeadership({
    url: config.DATABASE_URL,
    key: LEADER_LOCK_KEY,
    retryMs: Math.min(config.TICK_MS, 5_000),
    logger,
    applicationName: "grantline-scheduler-leader",
  });
  const tick = createSchedulerTick({
    sources: config.sources.sources,
    isLeader: leadership.isLeader,
    lastRun: async (sourceId) => (await runSummaries(db, { sourceId, limit: 1 }))[0],
    startRun: control.startRun,
    pipelineIdle: async () => {
      for (const { stream, durable } of pipelineConsumers(subjects)) {
        const c = await jsm.consumers.info(stream, durable).catch(() => null);
        if (c && (c.num_pending > 0 || c.num_ack_pending > 0)) return false;
      }
      return true;
    },
    completeIdle: async () => {
      const n = await completeIdleRuns(db, subjects);
      if (n > 0) outbox.kick();
      return n;
    },
    republishStalled: async () => {
      const n = await republishStalledTasks(db, subjects, config.STALL_TIMEOUT_MS);
      if (n > 0) outbox.kick();
      return n;
    },
    logger,
  });
  const reportProgress = createProgressReporter({
    latestRuns: () => runSummaries(db, { limit: 50 }),
    tasks: metrics.gauge("grantline_run_tasks", "Tasks of each source's latest run, by state", [
      "source",
      "state",
    ]),
    counters: metrics.gauge(
      "grantline_run_stats",
      "Counters of each source's latest run (awsCalls, throttled, rows, pages, running)",
      ["source", "state"],
    ),
  });
  const reportLag = createLagReporter({
    subjects,
    info: {
      consumerPending: async (stream, durable) => {
        const c = await jsm.consumers.info(stream, durable);
        return { pending: c.num_pending, ackPending: c.num_ack_pending, redelivered: c.num_redelivered };
      },
      streamMessages: async (stream) => (await jsm.streams.info(stream)).state.messages,
    },
    lag: metrics.gauge(
      "grantline_consumer_messages",
      "JetStream consumer state per pipeline consumer (pending, ack_pending, redelivered)",
      ["consumer", "kind"],
    ),
    deadLetters: metrics.gauge("grantline_dead_letters", "Messages in the dead-letter stream", []),
  });
  let ticking = Promise.resolve();
  const timer = setInterval(() => {
    ticking = ticking
      .then(tick)
      .then(reportProgress)
      .then(reportLag)
      .catch((err: unknown) => logger.error({ err }, "scheduler tick failed"));
  }, config.TICK_MS);

  const probe = await startProbeServer({
    port: config.PROBE_PORT,
    host: config.PROBE_HOST,
    metrics,
    readiness: [natsReadiness(nc), postgresReadiness(db)],
    logger,
  });
  logger.info({ probe: probe.url }, "scheduler started");

  installShutdown({
    logger,
    timeoutMs: config.SHUTDOWN_GRACE_MS + 5_000,
    steps: [
      { name: "readiness", run: async () => probe.markShuttingDown() },
      { name: "control", run: async () => subs.forEach((s) => s.unsubscribe()) },
      {
        name: "ticks",
        run: async () => {
          clearInterval(timer);
          await ticking;
        },
      },
      { name: "leadership", run: () => leadership.stop() },
      { name: "outbox", run: () => outbox.stop() },
      { name: "tracing", run: () => tracing.shutdown() },
      { name: "nats", run: () => nc.drain() },
      { name: "postgres", run: () => db.destroy() },
      { name: "probe", run: () => probe.close() },
    ],
  });
}

main().catch((err: unknown) => {
  console.error("scheduler: fatal:", err);
  process.exit(1);
});
