// One full sync through grantline's services against aws-sim, in a database and under NATS subjects of its own so
// it cannot disturb (or be disturbed by) anything else on the shared Postgres and NATS.
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ACCESS_ROLE } from "@grantline/aws-sim";
import { createSubjects, SyncReply, type Subjects } from "@grantline/contracts";
import { sql } from "kysely";
import { createDb, ensureDatabase, grantReadFromAws, migrateToLatest, type Db } from "@grantline/db";
import type { ActualRows } from "@grantline/e2e";
import { DATABASE_URL, NATS_URL, REDIS_URL, log } from "./bench-env.ts";
import type { BenchSettings } from "./bench-settings.ts";
import { scratchDir, stopProcess } from "./process-control.ts";
import { cpuSince, cpuSnapshot, startRssSampler, waitForQuiet } from "./sampling.ts";
import type { Counters, Sim, Timeline } from "./sim-process.ts";
import { startServices, type ServiceProcess } from "./start-services.ts";

const SOURCE_ID = "bench";

/**
 * One task of the run: service, operation, created/published/done epoch ms, account, and the AWS calls of the
 * fetch that settled it (not throttled).
 */
export type TaskTime = [string, string, number, number, number | null, string | null, number];

export interface PipelineResult {
  status: string;
  wallMs: number;
  rowsWritten: number;
  tasks: number;
  failedTasks: number;
  rss: Record<string, { peakMb: number; hwmMb: number }>;
  /** CPU seconds per process during the run (aws-sim included), and the machine's busy share over the run. */
  cpuS: Record<string, number>;
  machineBusy: number;
  actual: ActualRows;
  counters: Counters;
  timeline: Timeline;
  startEpoch: number;
  env: Record<string, string>;
  /** Every task of the run (for the raw dump). */
  taskTimes: TaskTime[];
  /** `--second-run`: the same organization synced again right after (RSS and env are the first's, shared). */
  secondRun: Omit<PipelineResult, "rss" | "env" | "secondRun"> | null;
  /** The run's span on the monotonic clock, µs (what .cpuprofile timestamps use): profiles are cut to it. */
  monoWindow: { fromUs: number; toUs: number };
}

const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);

async function createRunDb(dbName: string): Promise<Db> {
  const u = new URL(DATABASE_URL);
  u.pathname = `/${dbName}`;
  await ensureDatabase(u.toString());
  const db = createDb({ url: u.toString(), poolSize: 2 });
  const m = await migrateToLatest(db);
  if (m.error) throw m.error instanceof Error ? m.error : new Error(String(m.error));
  return db;
}

async function dropRunDb(dbName: string): Promise<void> {
  const admin = new URL(DATABASE_URL);
  admin.pathname = "/postgres";
  const adminDb = createDb({ url: admin.toString(), poolSize: 1 });
  await sql`DROP DATABASE IF EXISTS ${sql.id(dbName)} WITH (FORCE)`.execute(adminDb).catch(() => undefined);
  await adminDb.destroy();
}

/** The services' environment, with a sources file naming aws-sim as the one source. */
function serviceEnv(
  sim: Sim,
  settings: BenchSettings,
  dbName: string,
  prefix: string,
  sourceExtras: Record<string, unknown>,
): Record<string, string> {
  const { rates } = settings;
  const sourcesFile = join(scratchDir("gl-bench-"), "sources.json");
  writeFileSync(
    sourcesFile,
    JSON.stringify({
      sources: [
        {
          id: SOURCE_ID,
          kind: "aws",
          endpoint: sim.url,
          staticCredentials: sim.credentials,
          fullSyncEveryMinutes: 0,
          // Exactly the sim's quotas: grantline runs at the limit.
          budgets: {
            "sso-admin": rates.sso,
            identitystore: rates.identitystore,
            organizations: rates.organizations,
            iam: rates.iam,
            sts: rates.sts,
            cloudtrail: rates.cloudtrail,
          },
          iam: { enabled: settings.iamMapped, crossAccount: settings.iamAll, roleName: ACCESS_ROLE },
          ...sourceExtras,
        },
      ],
    }),
  );
  const dbUrl = new URL(DATABASE_URL);
  dbUrl.pathname = `/${dbName}`;
  return {
    NATS_URL,
    REDIS_URL,
    DATABASE_URL: dbUrl.toString(),
    REDIS_KEY_PREFIX: `${prefix}:`,
    GL_SUBJECT_PREFIX: prefix,
    // Reserved from the NATS server's storage at stream creation (see docs/configuration.md); ample here.
    NATS_HOP_MAX_BYTES: String(256 * 1024 ** 2),
    SOURCES_FILE: sourcesFile,
    PROBE_PORT: "0",
    PROBE_HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
  };
}

/** Starts the sync; the scheduler may still be starting, so retry until it answers. Counters start clean. */
async function requestSync(nc: NatsConnection, sim: Sim, subjects: Subjects): Promise<string> {
  let reply: SyncReply | undefined;
  const deadline = Date.now() + 60_000;
  while (!reply) {
    try {
      await sim.post("/_sim/counters/reset", {});
      const r = await nc.request(subjects.ctl("sync"), JSON.stringify({ sourceId: SOURCE_ID }), {
        timeout: 2000,
      });
      reply = SyncReply.parse(r.json());
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  if (!reply.ok) throw new Error(`sync refused: ${reply.error}`);
  return reply.runId;
}

function assertAlive(procs: ServiceProcess[]): void {
  // A service killed by a signal (the kernel, its heap limit's abort) has no exit code, only a signal.
  for (const p of procs)
    if (p.child.exitCode !== null || p.child.signalCode !== null)
      throw new Error(
        `${p.name} exited early (${p.child.exitCode ?? p.child.signalCode}):\n${p.tail.join("")}`,
      );
}

/** Polls the run until it is no longer running (or `--timeout-min` passes), failing fast if a service exits. */
async function waitForRun(
  db: Db,
  runId: string,
  procs: ServiceProcess[],
  timeoutMin: number,
): Promise<string> {
  const timeoutAt = Date.now() + timeoutMin * 60_000;
  let status = "running";
  let lastLog = Date.now();
  while (status === "running") {
    await new Promise((r) => setTimeout(r, 250));
    const r = await db.selectFrom("runs").select("status").where("id", "=", runId).executeTakeFirstOrThrow();
    status = r.status;
    assertAlive(procs);
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      const t = await sql<{ done: number; total: number }>`
        SELECT count(*) FILTER (WHERE status <> 'pending')::int AS done, count(*)::int AS total
          FROM tasks WHERE run_id = ${runId}::uuid`.execute(db);
      log(`  … ${t.rows[0]?.done}/${t.rows[0]?.total} tasks`);
    }
    if (Date.now() > timeoutAt) return "timeout";
  }
  return status;
}

/** The source's live rows as the writer left them. */
async function syncedRows(db: Db): Promise<ActualRows> {
  const [resources, entitlements, grants] = await Promise.all([
    db
      .selectFrom("resources")
      .select(["type", "id", "name", "parent_type", "parent_id"])
      .where("source_id", "=", SOURCE_ID)
      .where("deleted_at", "is", null)
      .execute(),
    db
      .selectFrom("entitlements")
      .select("id")
      .where("source_id", "=", SOURCE_ID)
      .where("deleted_at", "is", null)
      .execute(),
    db
      .selectFrom("grants")
      .select("id")
      .where("source_id", "=", SOURCE_ID)
      .where("revoked_at", "is", null)
      .where(grantReadFromAws)
      .execute(),
  ]);
  return { resources, entitlements, grants };
}

/** The run's times, task totals and every task's times, from the database. */
async function runRecord(db: Db, runId: string) {
  const run = await db
    .selectFrom("runs")
    .select(["started_at", "finished_at"])
    .where("id", "=", runId)
    .executeTakeFirstOrThrow();
  const t = await sql<{ rows: number; tasks: number; failed: number }>`
    SELECT coalesce(sum(rows_written), 0)::int AS rows, count(*)::int AS tasks,
           count(*) FILTER (WHERE status = 'failed')::int AS failed
      FROM tasks WHERE run_id = ${runId}::uuid`.execute(db);
  const actual = await syncedRows(db);
  const taskRows = await sql<{
    service: string;
    operation: string;
    c: number;
    p: number;
    d: number | null;
    account: string | null;
    calls: number;
  }>`
    SELECT service, operation, account_id AS account, aws_calls - throttled AS calls,
           (extract(epoch FROM created_at) * 1000)::float8 AS c,
           (extract(epoch FROM published_at) * 1000)::float8 AS p, (extract(epoch FROM done_at) * 1000)::float8 AS d
      FROM tasks WHERE run_id = ${runId}::uuid`.execute(db);
  return {
    run,
    totals: t.rows[0],
    actual,
    taskTimes: taskRows.rows.map((r): TaskTime => [
      r.service,
      r.operation,
      r.c,
      r.p,
      r.d,
      r.account,
      r.calls,
    ]),
  };
}

/** Stops the services and removes the run's streams and database. */
async function cleanUp(
  procs: ServiceProcess[],
  nc: NatsConnection,
  subjects: Subjects,
  db: Db,
  dbName: string,
) {
  await Promise.all(procs.map((p) => stopProcess(p.child)));
  const jsm = await jetstreamManager(nc);
  const blobs = `OBJ_${subjects.streams.batches.replace(/_BATCH$/, "")}_BLOBS`;
  for (const s of [...Object.values(subjects.streams), blobs])
    await jsm.streams.delete(s).catch(() => undefined);
  await nc.close();
  await db.destroy();
  await dropRunDb(dbName);
}

/** grantline's services running against aws-sim in a database and under a subject prefix of their own. */
export interface Pipeline {
  sourceId: string;
  db: Db;
  dbName: string;
  subjects: Subjects;
  procs: ServiceProcess[];
  nc: NatsConnection;
  /** Requests a full sync (aws-sim's counters reset first); the run id. */
  requestSync(): Promise<string>;
  /** Waits for the run to leave `running` (or `timeout`), failing fast if a service exits. */
  waitForRun(runId: string): Promise<string>;
  /** Throws the last output of a service that exited. */
  assertAlive(): void;
  /** Stops the services and drops the run's streams and database. */
  stop(): Promise<void>;
}

/**
 * Starts the services with a sources file naming aws-sim as source `bench` (`sourceExtras` merged into that
 * source, e.g. its `feeds` block). The caller stops them with `stop()`.
 */
export async function startPipeline(
  sim: Sim,
  settings: BenchSettings,
  sourceExtras: Record<string, unknown> = {},
): Promise<Pipeline> {
  const tag = randomBytes(4).toString("hex");
  const dbName = `gl_bench_${tag}`;
  const db = await createRunDb(dbName);
  const prefix = `glbench${tag}`;
  const subjects = createSubjects(prefix);
  const procs = startServices(settings, serviceEnv(sim, settings, dbName, prefix, sourceExtras));
  const nc = await connect({ servers: NATS_URL });
  return {
    sourceId: SOURCE_ID,
    db,
    dbName,
    subjects,
    procs,
    nc,
    requestSync: () => requestSync(nc, sim, subjects),
    waitForRun: (runId) => waitForRun(db, runId, procs, settings.timeoutMin),
    assertAlive: () => assertAlive(procs),
    stop: () => cleanUp(procs, nc, subjects, db, dbName),
  };
}

/** One sync of a running pipeline: request, wait, and what it cost (CPU since its request, aws-sim's counters). */
async function measureRun(
  pipeline: Pipeline,
  sim: Sim,
  sampler: { sample(): void },
  afterRun: ((db: Db) => Promise<void>) | undefined,
): Promise<Omit<PipelineResult, "rss" | "env" | "secondRun">> {
  const { db, procs } = pipeline;
  const runId = await pipeline.requestSync();
  const startEpoch = Date.now() / 1000;
  const cpuAtStart = cpuSnapshot(procs, sim.proc.pid);
  const fromUs = monoUs();
  log(`grantline run ${runId} started (db ${pipeline.dbName}, prefix ${pipeline.subjects.prefix})`);
  const status = await pipeline.waitForRun(runId);
  const monoWindow = { fromUs, toUs: monoUs() };
  sampler.sample();
  const { cpuS, machineBusy } = cpuSince(cpuAtStart, procs, sim.proc.pid);
  const [counters, timeline] = await Promise.all([
    sim.get<Counters>("/_sim/counters"),
    sim.get<Timeline>("/_sim/timeline"),
  ]);
  const { run, totals, actual, taskTimes } = await runRecord(db, runId);
  if (status === "succeeded") await afterRun?.(db);
  if (status !== "succeeded") {
    for (const p of procs) console.error(`--- ${p.name} (last output)\n${p.tail.join("").slice(-3000)}`);
  }
  return {
    status,
    wallMs: run.finished_at
      ? new Date(run.finished_at).getTime() - new Date(run.started_at).getTime()
      : Date.now() - startEpoch * 1000,
    rowsWritten: totals?.rows ?? 0,
    tasks: totals?.tasks ?? 0,
    failedTasks: totals?.failed ?? 0,
    cpuS,
    machineBusy,
    actual,
    counters,
    timeline,
    startEpoch: new Date(run.started_at).getTime() / 1000,
    taskTimes,
    monoWindow,
  };
}

/**
 * One sync, from the services' start to their stop. `settle`: request the sync only once the services' start-up is
 * over (their CPU quiet), so the CPU measured over the run is the run's (the gate's CPU per call). `afterRun`: what
 * to measure on the synced database once the run has succeeded, before it is dropped (the access-query latency).
 * `secondRun`: once the first run has succeeded, a second full sync of the same organization by the same services
 * (same Redis prefix, so the permission-set cache the first run filled is the second's), measured the same way.
 */
export async function runPipeline(
  sim: Sim,
  settings: BenchSettings,
  o: { settle?: boolean; afterRun?: (db: Db) => Promise<void>; secondRun?: boolean } = {},
): Promise<PipelineResult> {
  const pipeline = await startPipeline(sim, settings);
  const sampler = startRssSampler(pipeline.procs);
  try {
    if (o.settle) await waitForQuiet(pipeline.procs, { windowMs: 1000, quietCpuS: 0.2, timeoutMs: 20_000 });
    const first = await measureRun(pipeline, sim, sampler, o.afterRun);
    const secondRun =
      o.secondRun && first.status === "succeeded"
        ? await measureRun(pipeline, sim, sampler, undefined)
        : null;
    if (secondRun) log(`second run: ${secondRun.status} in ${(secondRun.wallMs / 1000).toFixed(1)} s`);
    return { ...first, rss: sampler.rss(), env: settings.env, secondRun };
  } finally {
    sampler.stop();
    await pipeline.stop();
  }
}
