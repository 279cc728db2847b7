import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { createSubjects, type Subjects } from "@grantline/contracts";
import { createLogger, type LevelWithSilent, type Logger } from "@grantline/log";
import {
  createMetrics,
  startProbeServer,
  startTracing,
  type Metrics,
  type ReadinessCheck,
  type TracingSettings,
} from "@grantline/observability";
import { openBlobStore, type BlobStore } from "./blob-store.ts";
import { connectNats, NatsCredentialsError } from "./connect-nats.ts";
import { ensureStreams } from "./ensure-topology.ts";
import { installShutdown } from "./install-shutdown.ts";
import { natsAuth, NatsAuthError, type NatsAuthSettings } from "./nats-auth.ts";
import { checkNatsPermissions, describeViolation, permissionViolationIn } from "./nats-permission-check.ts";
import { inboxPrefixOf, NATS_ROLES, type NatsRole } from "./nats-permissions.ts";
import { natsReadiness } from "./start-stage.ts";

/** The configuration every service shares (`CommonEnv` of `@grantline/config`). */
export interface RuntimeSettings extends TracingSettings, NatsAuthSettings {
  NATS_URL: string;
  GL_SUBJECT_PREFIX: string;
  NATS_STREAM_REPLICAS: number;
  NATS_HOP_MAX_BYTES: number;
  LOG_LEVEL: LevelWithSilent;
  PROBE_PORT: number;
  PROBE_HOST: string;
  SHUTDOWN_GRACE_MS: number;
}

/** One step of the ordered shutdown. */
export interface ShutdownStep {
  name: string;
  run: () => Promise<unknown>;
}

export interface ServeOptions {
  /** Checks besides NATS (which is always checked) that `/readyz` runs. */
  readiness?: ReadinessCheck[];
  /** What `/readyz` reports under `degraded` without failing (libs/observability `ProbeServerOptions`). */
  degraded?: () => Record<string, unknown>;
  /** Stop intake and finish work (consumers, control, ticks, outbox), in order; run before NATS drains. */
  stop?: ShutdownStep[];
  /** Close the service's other clients (Postgres, Redis, AWS), in order; run after NATS drained. */
  close?: ShutdownStep[];
  /** Extra fields for the "<service> started" line. */
  fields?: Record<string, unknown>;
}

/** What every service has once connected: its logger, subjects, metrics and NATS with the streams ensured. */
export interface ServiceRuntime {
  readonly service: string;
  readonly logger: Logger;
  readonly subjects: Subjects;
  readonly metrics: Metrics;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** Opens the object store for payloads sent by reference (stages whose messages can be large). */
  openBlobs(): Promise<BlobStore>;
  /**
   * Starts the probe server and installs the shutdown; call it last, once everything runs. On the first
   * SIGTERM/SIGINT: readiness fails → `stop` steps → tracing flushed → NATS drained → `close` steps → probe.
   */
  serve(o?: ServeOptions): Promise<void>;
}

/**
 * Starts what every service needs before its own wiring: tracing, NATS (reconnecting forever) with the
 * streams ensured, and metrics; `serve()` then adds the probe server and the ordered shutdown.
 */
export async function startServiceRuntime(o: {
  service: string;
  config: RuntimeSettings;
  logger: Logger;
}): Promise<ServiceRuntime> {
  const { service, config, logger } = o;
  const tracing = startTracing(config, { service, logger });
  const subjects = createSubjects(config.GL_SUBJECT_PREFIX);
  const metrics = createMetrics({ service });
  // The probe server comes up before anything it reports on: while NATS (or a stream) is not there yet,
  // /readyz answers 503 saying what start-up is waiting for, instead of refusing connections.
  let startup: string | null = "connecting to NATS";
  let degraded: (() => Record<string, unknown>) | undefined;
  const readiness: ReadinessCheck[] = [
    {
      name: "startup",
      check: async () => {
        if (startup !== null) throw new Error(startup);
      },
    },
  ];
  const probe = await startProbeServer({
    port: config.PROBE_PORT,
    host: config.PROBE_HOST,
    metrics,
    readiness,
    degraded: () => degraded?.() ?? {},
    logger,
  });
  const auth = natsAuth(config);
  // A service's NATS user is named after it in the rendered configuration; its permissions are that role's.
  const role = (NATS_ROLES as readonly string[]).includes(service) ? (service as NatsRole) : undefined;
  const nc = await connectNats({
    servers: config.NATS_URL,
    name: `grantline-${service}`,
    logger,
    onWaiting: (reason) => (startup = reason),
    starting: () => startup !== null,
    auth,
    // Anonymous (a server without authorization) keeps the standard inbox, as every client has.
    ...(auth.authenticated && role ? { inboxPrefix: inboxPrefixOf(role) } : {}),
  });
  startup = "ensuring JetStream streams";
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureStreams(
    jsm,
    subjects,
    { replicas: config.NATS_STREAM_REPLICAS, hopMaxBytes: config.NATS_HOP_MAX_BYTES },
    {
      onWaiting: (reason) => {
        startup = reason;
        logger.warn(reason);
      },
    },
  );
  if (auth.authenticated && role) {
    startup = "checking NATS permissions";
    await checkNatsPermissions({ nc, jsm, subjects, role });
  }
  startup = `starting ${service}`;
  readiness.push(natsReadiness(nc));
  return {
    service,
    logger,
    subjects,
    metrics,
    nc,
    js,
    jsm,
    openBlobs: () => openBlobStore(nc, subjects, { replicas: config.NATS_STREAM_REPLICAS }),
    async serve(s = {}) {
      readiness.push(...(s.readiness ?? []));
      degraded = s.degraded;
      startup = null;
      logger.info({ probe: probe.url, ...s.fields }, `${service} started`);
      installShutdown({
        logger,
        // The consumers get SHUTDOWN_GRACE_MS for in-flight work; the rest (drain, closes) gets 5 s more.
        timeoutMs: config.SHUTDOWN_GRACE_MS + 5_000,
        steps: [
          { name: "readiness", run: async () => probe.markShuttingDown() },
          ...(s.stop ?? []),
          { name: "tracing", run: () => tracing.shutdown() },
          { name: "nats", run: () => nc.drain() },
          ...(s.close ?? []),
          { name: "probe", run: () => probe.close() },
        ],
      });
    },
  };
}

/**
 * Runs a service: builds its logger and runtime and hands them to `main`. A start-up failure is logged as
 * fatal and exits 1 — through the service's logger (one JSON line, secrets redacted) or, if even the logger
 * could not be built, the console.
 */
export function runService(
  service: string,
  config: RuntimeSettings,
  main: (rt: ServiceRuntime) => Promise<void>,
): void {
  let logger: Logger | undefined;
  (async () => {
    logger = createLogger({ service, level: config.LOG_LEVEL });
    await main(await startServiceRuntime({ service, config, logger }));
  })().catch((err: unknown) => {
    const line = startupFailure(service, config, err);
    if (logger) logger.fatal(line === undefined ? { err } : {}, line ?? `${service} failed to start`);
    else console.error(`${service}: fatal:`, line ?? err);
    process.exit(1);
  });
}

/** The one line for a start-up failure the operator can fix without a stack trace: credentials, permissions. */
function startupFailure(service: string, config: NatsAuthSettings, err: unknown): string | undefined {
  const v = permissionViolationIn(err);
  if (v) return `${service} failed to start: ${describeViolation(v, config.NATS_USER ?? null)}`;
  if (err instanceof NatsCredentialsError || err instanceof NatsAuthError)
    return `${service} failed to start: ${err.message}`;
  return undefined;
}
