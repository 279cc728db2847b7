import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
import { createSubjects, type CtlVerb, type Subjects, type SyncReply } from "@grantline/contracts";
import { createDb, grantReadFromAws, migrateToLatest, type Db } from "@grantline/db";
import { createTestDatabase, testInfra, uniqueName, waitFor, type TestDatabase } from "@grantline/testing";

export type ServiceName = "scheduler" | "fetcher" | "mapper" | "writer";
export const SERVICES: ServiceName[] = ["scheduler", "fetcher", "mapper", "writer"];

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

export interface RunningService {
  name: ServiceName;
  child: ChildProcess;
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export interface Pipeline {
  prefix: string;
  subjects: Subjects;
  db: Db;
  databaseUrl: string;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  env: Record<string, string>;
  services: Map<ServiceName, RunningService[]>;
  start(name: ServiceName, extraEnv?: Record<string, string>): RunningService;
  startAll(): void;
  /** Sends `signal` to every replica of `name` and waits for them to exit. */
  kill(
    name: ServiceName,
    signal?: NodeJS.Signals,
  ): Promise<Array<{ code: number | null; signal: NodeJS.Signals | null }>>;
  /**
   * A control request, asked again until the scheduler answers (it may still be starting): only for requests
   * that are idempotent (`grant`/`revoke` with an id are). `timeoutMs` bounds one attempt (default 2 s).
   */
  request<T = SyncReply>(verb: CtlVerb, body: unknown, o?: { timeoutMs?: number }): Promise<T>;
  /** Waits for the run to leave `running` and returns its final status. */
  /** A finished run's status; for a refresh run once the deriver has also followed it. */
  waitForRun(runId: string, timeoutMs?: number): Promise<string>;
  logs(name?: ServiceName): string;
  close(): Promise<void>;
}

const CLI_BIN = join(ROOT, "cli/bin/grantline.js");

/** Runs the `grantline` CLI with exactly `env` (plus PATH) and collects its output. */
export function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI_BIN, ...args], { env: { PATH: process.env.PATH ?? "", ...env } });
    let out = "";
    let err = "";
    c.stdout.on("data", (d: Buffer) => (out += d.toString()));
    c.stderr.on("data", (d: Buffer) => (err += d.toString()));
    c.once("exit", (code) => resolve({ code: code ?? 1, out, err }));
  });
}

/** Runs a service's real `main.ts` as its own process. */
export function spawnService(name: ServiceName, env: Record<string, string>): RunningService {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, `services/${name}/src/main.ts`)], {
    cwd: ROOT,
    // JetStream reserves each hop's max bytes from the server's storage at creation: the 1 GiB default × 3
    // hops × every test file running at once can exceed what a small CI disk gives NATS.
    // NODE_OPTIONS passes through: CI's Node 22 suite sets the images' async-context flag, so services run as shipped.
    env: {
      PATH: process.env.PATH ?? "",
      ...(process.env.NODE_OPTIONS ? { NODE_OPTIONS: process.env.NODE_OPTIONS } : {}),
      NATS_HOP_MAX_BYTES: String(256 * 1024 ** 2),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  child.stdout?.on("data", (d: Buffer) => output.push(d.toString()));
  child.stderr?.on("data", (d: Buffer) => output.push(d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { name, child, output, exited };
}

/**
 * A whole grantline deployment for one test file: its own subject prefix (so its own streams), its own
 * database, and the four services as real processes.
 */
export async function createPipeline(o: {
  sources: unknown;
  env?: Record<string, string>;
}): Promise<Pipeline> {
  const infra = testInfra();
  const prefix = uniqueName("e2e");
  const subjects = createSubjects(prefix);
  const tdb: TestDatabase = await createTestDatabase(infra.databaseUrl);
  const db = createDb({ url: tdb.url });
  const m = await migrateToLatest(db);
  if (m.error) throw m.error;
  const dir = mkdtempSync(join(tmpdir(), "gl-e2e-"));
  const sourcesFile = join(dir, "sources.json");
  writeFileSync(sourcesFile, JSON.stringify(o.sources));
  const env: Record<string, string> = {
    NATS_URL: infra.natsUrl,
    DATABASE_URL: tdb.url,
    REDIS_URL: infra.redisUrl,
    REDIS_KEY_PREFIX: `${prefix}:`,
    GL_SUBJECT_PREFIX: prefix,
    SOURCES_FILE: sourcesFile,
    PROBE_PORT: "0",
    PROBE_HOST: "127.0.0.1",
    LOG_LEVEL: "info",
    TICK_MS: "500",
    SHUTDOWN_GRACE_MS: "8000",
    ACK_WAIT_MS: "5000",
    ...o.env,
  };
  const nc = await connect({ servers: infra.natsUrl });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const services = new Map<ServiceName, RunningService[]>();
  // Every process ever started, so the logs of one that exited stay readable.
  const history: RunningService[] = [];

  const p: Pipeline = {
    prefix,
    subjects,
    db,
    databaseUrl: tdb.url,
    nc,
    js,
    jsm,
    env,
    services,
    start(name, extraEnv = {}) {
      const s = spawnService(name, { ...env, ...extraEnv });
      services.set(name, [...(services.get(name) ?? []), s]);
      history.push(s);
      void s.exited.then(() =>
        services.set(
          name,
          (services.get(name) ?? []).filter((x) => x !== s),
        ),
      );
      return s;
    },
    startAll() {
      for (const s of SERVICES) p.start(s);
    },
    async kill(name, signal = "SIGKILL") {
      const running = services.get(name) ?? [];
      for (const s of running) s.child.kill(signal);
      return Promise.all(running.map((s) => s.exited));
    },
    async request(verb, body, { timeoutMs = 2000 } = {}) {
      // The scheduler may still be starting: retry until it answers.
      try {
        return await waitFor(
          async () => {
            const r = await nc.request(subjects.ctl(verb), JSON.stringify(body), { timeout: timeoutMs });
            return r.json();
          },
          { timeoutMs: Math.max(90_000, 2 * timeoutMs), intervalMs: 200, message: `ctl.${verb}` },
        );
      } catch (err) {
        // Say why the scheduler never answered (it exited at start-up, say) instead of only that it did not.
        const tail = p.logs("scheduler").trim().split("\n").slice(-15).join("\n");
        const running = (services.get("scheduler") ?? []).length;
        throw new Error(
          `${(err as Error).message}; ${running} scheduler(s) running; its last output:\n${tail}`,
          { cause: err },
        );
      }
    },
    async waitForRun(runId, timeoutMs = 60_000) {
      return waitFor(
        async () => {
          const r = await db
            .selectFrom("runs")
            .innerJoin("sources", "sources.id", "runs.source_id")
            .select(["runs.status", "runs.kind", "sources.derive_run"])
            .where("runs.id", "=", runId)
            .executeTakeFirst();
          if (!r || r.status === "running") return null;
          // A refresh run's derived grants and chains follow it (the scheduler's deriver): a test that compares
          // rows after it waits for them too.
          return r.kind === "refresh" && r.derive_run !== null ? null : r.status;
        },
        { timeoutMs, intervalMs: 100, message: `run ${runId} to finish (and its derivations)` },
      );
    },
    logs(name) {
      const all = name ? [name] : SERVICES;
      return history
        .filter((s) => all.includes(s.name))
        .flatMap((s) => s.output)
        .join("");
    },
    async close() {
      await Promise.all(SERVICES.map((n) => p.kill(n, "SIGKILL")));
      const blobs = `OBJ_${subjects.streams.batches.replace(/_BATCH$/, "")}_BLOBS`;
      for (const s of [...Object.values(subjects.streams), blobs])
        await jsm.streams.delete(s).catch(() => undefined);
      await nc.close();
      await db.destroy();
      await tdb.drop();
    },
  };
  return p;
}

export function diagSource(
  id: string,
  diag: { pages?: number; itemsPerPage?: number; failUntilDelivery?: number } = {},
) {
  return {
    id,
    kind: "diag",
    fullSyncEveryMinutes: 0,
    diag: { pages: 3, itemsPerPage: 2, failUntilDelivery: 0, ...diag },
  };
}

export interface ObservedEvent {
  id: string;
  type: string;
  subject: string;
  grantlinerunid: string;
  grantlineinitialload: boolean;
  data: Record<string, unknown>;
}

/** Every event in the events stream (optionally of one run), read with an ordered consumer from the start. */
export async function readEvents(p: Pipeline, runId?: string): Promise<ObservedEvent[]> {
  // A run is finished in Postgres before its last events are published: the transaction that completes it
  // writes them to the outbox. Read the stream once the outbox has caught up, or a late event is missed.
  await waitFor(
    async () =>
      (
        await p.db
          .selectFrom("outbox")
          .select("id")
          .where("published_at", "is", null)
          .where("subject", "like", `${p.subjects.prefix}.events.%`)
          .limit(1)
          .execute()
      ).length === 0,
    { message: "the outbox to publish every event" },
  );
  const info = await p.jsm.streams.info(p.subjects.streams.events);
  const total = info.state.messages;
  if (total === 0) return [];
  const consumer = await p.js.consumers.get(p.subjects.streams.events);
  const out: ObservedEvent[] = [];
  const it = await consumer.fetch({ max_messages: total, expires: 5000 });
  for await (const m of it) {
    out.push(m.json<ObservedEvent>());
    if (out.length >= total) break;
  }
  return runId ? out.filter((e) => e.grantlinerunid === runId) : out;
}

/**
 * A source's `feeds` block for tests: on, polled every 1–2 s, a short lookback and overlap (aws-sim delivers
 * CloudTrail events at once unless told otherwise), so a change reaches `refresh_queue` within seconds.
 */
export const QUICK_FEEDS = {
  enabled: true,
  lookback: "10m",
  overlap: "1m",
  minInterval: "1s",
  maxInterval: "2s",
};

/** A sources-file entry pointing at aws-sim with its management credentials, generous budgets and IAM off. */
export function simSource(
  id: string,
  sim: { url: string; managementCredentials: { accessKeyId: string; secretAccessKey: string } },
  extra: Record<string, unknown> = {},
) {
  return {
    id,
    kind: "aws",
    endpoint: sim.url,
    staticCredentials: sim.managementCredentials,
    fullSyncEveryMinutes: 0,
    budgets: { "sso-admin": 500, identitystore: 500, organizations: 500, iam: 500, sts: 500, cloudtrail: 50 },
    // IAM is off unless a test turns it on: the Identity Center tests compare against Identity Center ground truth.
    iam: { enabled: false },
    ...extra,
  };
}

/** A source's live rows, in the shape `diffRows` compares against ground truth. */
export async function liveRows(p: Pipeline, sourceId: string) {
  const [resources, entitlements, grants] = await Promise.all([
    p.db
      .selectFrom("resources")
      .select(["type", "id", "name", "parent_type", "parent_id"])
      .where("source_id", "=", sourceId)
      .where("deleted_at", "is", null)
      .execute(),
    p.db
      .selectFrom("entitlements")
      .select("id")
      .where("source_id", "=", sourceId)
      .where("deleted_at", "is", null)
      .execute(),
    p.db
      .selectFrom("grants")
      .select("id")
      .where("source_id", "=", sourceId)
      .where("revoked_at", "is", null)
      .where(grantReadFromAws)
      .execute(),
  ]);
  return { resources, entitlements, grants };
}

/** Starts a run of `sourceId` through ctl.sync and waits for it to succeed (failing with the services' logs). */
export async function syncAndWait(p: Pipeline, sourceId: string, timeoutMs = 180_000): Promise<string> {
  const r = await p.request<SyncReply>("sync", { sourceId });
  if (!r.ok) throw new Error(r.error);
  const status = await p.waitForRun(r.runId, timeoutMs);
  if (status !== "succeeded") throw new Error(`run ${status}\n${p.logs().slice(-4000)}`);
  return r.runId;
}
