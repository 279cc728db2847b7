// `npm run bench`: grantline's full-sync benchmark against aws-sim running AWS's quotas. See docs/benchmarks.md for
// what it does, how to run it and what each figure means. Not a test: it prints, appends to docs/benchmarks.md and
// draws docs/bench/<timestamp>-calls.svg.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import * as prettier from "prettier";
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { sql } from "kysely";
import { ACCESS_ROLE, DEFAULT_RATE_LIMITS, type OrgDocument } from "@grantline/aws-sim";
import { createSubjects, SyncReply } from "@grantline/contracts";
import { createDb, ensureDatabase, migrateToLatest } from "@grantline/db";
import {
  diffRows,
  expectedIamRows,
  expectedRows,
  type ActualRows,
  type ExpectedRows,
} from "../test/e2e/src/ground-truth.ts";
import { referenceSync, type ReferenceRows } from "./reference-sync.ts";
import { runWriterBench, type WriterBenchResult } from "./writer-apply.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const USAGE = `npm run bench -- [options]
  --org medium|large      organization preset (default medium)
  --quota-scale N         multiply every AWS quota of aws-sim and every grantline budget (default 1)
  --latency MIN-MAX       aws-sim latency per call in ms (default 30-80)
  --replicas N            fetcher replicas (default 2)
  --iam-accounts WHICH    all (default): IAM in every active account through its OrganizationAccountAccessRole,
                          as crossAccount syncs it; management: the caller's account only
  --skip-reference        do not run the sequential reference sync
  --skip-writer           do not run the writer micro-benchmark
  --writer-only           run only the writer micro-benchmark
  --env [SERVICE:]KEY=VALUE  extra env for every service, or one (repeatable; e.g. --env writer:MAX_IN_FLIGHT=16)
  --from-source           run the services through tsx from their TypeScript sources (default: the bundled
                          entry points the container images run; tsx adds ~40 MB RSS per process)
  --timeout-min N         give up on the grantline run after N minutes (default 30)
  --no-append             print only; do not append to docs/benchmarks.md or draw the chart
  --redraw-from FILE.json redraw docs/bench/<stamp>-calls.svg from a run's raw dump (/tmp/gl-bench-<stamp>.json)`;

const { values } = parseArgs({
  options: {
    org: { type: "string", default: "medium" },
    "quota-scale": { type: "string", default: "1" },
    latency: { type: "string", default: "30-80" },
    replicas: { type: "string", default: "2" },
    "iam-accounts": { type: "string", default: "all" },
    "skip-reference": { type: "boolean", default: false },
    "skip-writer": { type: "boolean", default: false },
    "writer-only": { type: "boolean", default: false },
    env: { type: "string", multiple: true, default: [] },
    "timeout-min": { type: "string", default: "30" },
    "from-source": { type: "boolean", default: false },
    "no-append": { type: "boolean", default: false },
    "redraw-from": { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const preset = values.org;
if (preset !== "medium" && preset !== "large") {
  console.error(`bench: --org must be medium or large\n${USAGE}`);
  process.exit(2);
}
const scale = Number(values["quota-scale"]);
const replicas = Number(values.replicas);
const [latMin, latMax] = values.latency.split("-").map(Number);
if (!(scale > 0) || !(replicas >= 1) || !Number.isFinite(latMin) || !Number.isFinite(latMax)) {
  console.error(`bench: bad --quota-scale, --replicas or --latency\n${USAGE}`);
  process.exit(2);
}
/** `--env KEY=VALUE` (every service) or `--env writer:KEY=VALUE` (one service). */
const extraEnv: Record<string, string> = Object.fromEntries(
  values.env.map((kv) => {
    const i = kv.indexOf("=");
    return [kv.slice(0, i), kv.slice(i + 1)];
  }),
);
function envFor(service: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(extraEnv)) {
    const i = k.indexOf(":");
    if (i < 0) out[k] = v;
    else if (k.slice(0, i) === service) out[k.slice(i + 1)] = v;
  }
  return out;
}

/** The NODE_OPTIONS of the images' runtime stage (heap cap included), so bundled runs measure what ships. */
function runtimeNodeOptions(): string {
  const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");
  const m = /^FROM \S+ AS runtime$[\s\S]*?^ENV .*NODE_OPTIONS=(?:"([^"]*)"|(\S+))/m.exec(dockerfile);
  const value = m?.[1] ?? m?.[2];
  if (value === undefined) throw new Error("Dockerfile: no NODE_OPTIONS in the runtime stage");
  return value;
}

const DATABASE_URL = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const SOURCE_ID = "bench";
const rates = {
  sso: DEFAULT_RATE_LIMITS.ssoAdmin * scale,
  identitystore: DEFAULT_RATE_LIMITS.identityStore * scale,
  organizations: DEFAULT_RATE_LIMITS.organizations * scale,
  iam: DEFAULT_RATE_LIMITS.iam * scale,
  sts: DEFAULT_RATE_LIMITS.sts * scale,
  cloudtrail: DEFAULT_RATE_LIMITS.cloudtrail * scale,
};
/** IAM is synced only when its mappers are registered (the mapper would dead-letter its pages otherwise). */
const iamMapped = /["']iam\.[A-Za-z]+["']\s*:/.test(
  readFileSync(join(ROOT, "libs/model/src/map-page.ts"), "utf8"),
);
if (!["all", "management"].includes(values["iam-accounts"]))
  throw new Error(`--iam-accounts must be "all" or "management", not "${values["iam-accounts"]}"`);
const iamAll = iamMapped && values["iam-accounts"] === "all";
const children: ChildProcess[] = [];
const log = (s: string): void => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}`);

// ---------------------------------------------------------------------------------------------------------------
// aws-sim as its own process

interface Sim {
  proc: ChildProcess;
  url: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  get<T>(path: string): Promise<T>;
  post(path: string, body: unknown): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}

function exited(c: ChildProcess): Promise<void> {
  return c.exitCode !== null || c.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => c.once("exit", () => resolve()));
}

async function stopProcess(c: ChildProcess, graceMs = 10_000): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  c.kill("SIGTERM");
  const t = setTimeout(() => c.kill("SIGKILL"), graceMs);
  await exited(c);
  clearTimeout(t);
}

async function startSim(): Promise<Sim> {
  const port = await freePort();
  const proc = spawn(
    process.execPath,
    ["test/aws-sim/bin/aws-sim.js", "--org", preset!, "--port", String(port), "--latency", values.latency],
    { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
  );
  children.push(proc);
  let out = "";
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`aws-sim did not start: ${out}`)), 60_000);
    proc.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("listening on")) {
        clearTimeout(t);
        resolve();
      }
    });
    proc.stderr?.on("data", (d: Buffer) => (out += d.toString()));
    proc.once("exit", (code) => reject(new Error(`aws-sim exited (${code}): ${out}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  const get = async <T>(path: string): Promise<T> => {
    const r = await fetch(url + path);
    if (!r.ok) throw new Error(`aws-sim ${path}: ${r.status}`);
    return (await r.json()) as T;
  };
  const post = async (path: string, body: unknown): Promise<void> => {
    const r = await fetch(url + path, { method: "POST", body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`aws-sim ${path}: ${r.status} ${await r.text()}`);
  };
  // The CLI turns AWS's quotas on at scale 1; scale them here (the admin API merges the update).
  await post("/_sim/faults", { rateLimits: { enabled: true, scale } });
  const info = await get<{ managementCredentials: { accessKeyId: string; secretAccessKey: string } }>(
    "/_sim/info",
  );
  return {
    proc,
    url,
    credentials: info.managementCredentials,
    get,
    post,
    stop: () => stopProcess(proc),
  };
}

interface Counters {
  operations: Record<string, { calls: number; throttled: number; errors: number }>;
  totals: { calls: number; throttled: number; errors: number };
}
type Timeline = Record<string, Array<{ t: number; calls: number; throttled: number }>>;

// ---------------------------------------------------------------------------------------------------------------
// the rate-limit floor

interface ScopeFloor {
  scope: string;
  calls: number;
  rate: number;
  seconds: number;
}

/**
 * floor = max over quota scopes s of (successful calls in s) / (rate of s): SSO Admin — every operation of the
 * instance shares one bucket; Identity Store and Organizations — one bucket per operation. The sim's buckets start
 * full (burst = one second of rate), which a caller could spend at once; grantline's budgets space calls evenly
 * (burst 1), so the floor is stated without that head start.
 */
/**
 * IAM quotas are per account (and operation): the IAM part of the floor is its busiest account, not the sum. The
 * counters are summed over accounts, so per-account successful calls come from `iamByAccount` (the timeline's
 * `iam:<account>:<operation>` scopes, or the run's tasks); without it the sum is used (an upper bound).
 */
function floorOf(
  c: Counters,
  iamByAccount?: Map<string, number>,
): { floor: ScopeFloor; scopes: ScopeFloor[] } {
  const byScope = new Map<string, ScopeFloor>();
  const add = (scope: string, rate: number, ok: number): void => {
    const s = byScope.get(scope) ?? { scope, calls: 0, rate, seconds: 0 };
    s.calls += ok;
    s.seconds = s.calls / s.rate;
    byScope.set(scope, s);
  };
  for (const [op, v] of Object.entries(c.operations)) {
    const [service, name] = op.split(":") as [string, string];
    const ok = v.calls - v.throttled - v.errors;
    if (service === "sso") add("sso-admin (all operations)", rates.sso, ok);
    else if (service === "identitystore") add(`identitystore:${name}`, rates.identitystore, ok);
    else if (service === "organizations") add(`organizations:${name}`, rates.organizations, ok);
    else if (service === "iam" && iamByAccount) continue;
    else if (service === "iam") add(`iam:${name} (per account; summed)`, rates.iam, ok);
    else if (service === "sts") add("sts", rates.sts, ok);
    else add(op, rates.cloudtrail, ok);
  }
  if (iamByAccount) {
    const busiest = new Map<string, { account: string; ok: number }>();
    for (const [key, ok] of iamByAccount) {
      const [account, name] = key.split(":") as [string, string];
      const b = busiest.get(name);
      if (!b || ok > b.ok) busiest.set(name, { account, ok });
    }
    for (const [name, b] of busiest) add(`iam:${name} (busiest account, ${b.account})`, rates.iam, b.ok);
  }
  const scopes = [...byScope.values()].sort((a, b) => b.seconds - a.seconds);
  return { floor: scopes[0] ?? { scope: "-", calls: 0, rate: 1, seconds: 0 }, scopes };
}

/** Successful IAM calls per `<account>:<operation>` from aws-sim's timeline. */
function iamCallsByAccount(t: Timeline): Map<string, number> {
  const out = new Map<string, number>();
  for (const [scope, points] of Object.entries(t)) {
    const m = /^iam:(\d{12}):(\w+)$/.exec(scope);
    if (!m) continue;
    out.set(
      `${m[1]}:${m[2]}`,
      points.reduce((n, pt) => n + pt.calls - pt.throttled, 0),
    );
  }
  return out;
}

/**
 * The floor had every task of the run been fetched exactly once (re-published tasks fetch again and inflate the
 * counted floor): the run's distinct tasks per quota scope — the composite DescribePermissionSet is 4 SSO calls
 * (its policy lists fit one page in aws-sim's presets).
 */
function idealFloor(tasks: PipelineResult["taskTimes"], managementAccount: string): ScopeFloor {
  const ops: Counters["operations"] = {};
  const iam = new Map<string, number>();
  for (const [service, operation, , , , account] of tasks) {
    if (service === "iam") {
      const key = `${account ?? managementAccount}:${operation}`;
      iam.set(key, (iam.get(key) ?? 0) + 1);
      continue;
    }
    const svc = service === "sso-admin" ? "sso" : service;
    const n = service === "sso-admin" && operation === "DescribePermissionSet" ? 4 : 1;
    const o = (ops[`${svc}:${operation}`] ??= { calls: 0, throttled: 0, errors: 0 });
    o.calls += n;
  }
  return floorOf({ operations: ops, totals: { calls: 0, throttled: 0, errors: 0 } }, iam).floor;
}

// ---------------------------------------------------------------------------------------------------------------
// the grantline run

interface PipelineResult {
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
  /** Every task of the run (for the raw dump): service, operation, created/published/done epoch ms. */
  taskTimes: Array<[string, string, number, number, number | null, string | null]>;
}

/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat (clock ticks of 1/100 s). */
function readProcCpuS(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of every process whose name is `comm`, by pid (Postgres runs a process per connection). */
function readCommCpuS(comm: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, "utf8").trim() === comm)
        out.set(Number(d), readProcCpuS(Number(d)));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function cpuDelta(before: Map<number, number>, after: Map<number, number>): number {
  let s = 0;
  for (const [pid, v] of after) s += v - (before.get(pid) ?? 0);
  return Math.round(s * 10) / 10;
}

/** Busy and total jiffies of the whole machine, from the first line of /proc/stat. */
function readMachineCpu(): { busy: number; total: number } {
  try {
    const v = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
  } catch {
    return { busy: 0, total: 0 };
  }
}

function readProcKb(pid: number, field: "VmRSS" | "VmHWM"): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function runPipeline(sim: Sim): Promise<PipelineResult> {
  const tag = randomBytes(4).toString("hex");
  const dbName = `gl_bench_${tag}`;
  const u = new URL(DATABASE_URL);
  u.pathname = `/${dbName}`;
  const dbUrl = u.toString();
  await ensureDatabase(dbUrl);
  const db = createDb({ url: dbUrl, poolSize: 2 });
  const m = await migrateToLatest(db);
  if (m.error) throw m.error instanceof Error ? m.error : new Error(String(m.error));
  const prefix = `glbench${tag}`;
  const subjects = createSubjects(prefix);
  const dir = mkdtempSync(join(tmpdir(), "gl-bench-"));
  const sourcesFile = join(dir, "sources.json");
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
          iam: { enabled: iamMapped, crossAccount: iamAll, roleName: ACCESS_ROLE },
        },
      ],
    }),
  );
  const env: Record<string, string> = {
    NATS_URL,
    REDIS_URL,
    DATABASE_URL: dbUrl,
    REDIS_KEY_PREFIX: `${prefix}:`,
    GL_SUBJECT_PREFIX: prefix,
    SOURCES_FILE: sourcesFile,
    PROBE_PORT: "0",
    PROBE_HOST: "127.0.0.1",
    LOG_LEVEL: "warn",
  };
  const procs: Array<{ name: string; child: ChildProcess; tail: string[] }> = [];
  // Production runs the esbuild bundles (the images' entry points); the memory figures are about those.
  const bundleDir = values["from-source"] ? null : mkdtempSync(join(tmpdir(), "gl-bench-bundle-"));
  if (bundleDir) {
    const b = spawnSync(process.execPath, ["scripts/bundle.mjs", bundleDir], { cwd: ROOT, stdio: "inherit" });
    if (b.status !== 0) throw new Error("bundling the services failed");
  }
  const imageNodeOptions = bundleDir ? { NODE_OPTIONS: runtimeNodeOptions() } : {};
  const start = (name: string, label: string): void => {
    const args = bundleDir
      ? [join(bundleDir, `${name}.mjs`)]
      : ["--import", "tsx", `services/${name}/src/main.ts`];
    const child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", ...imageNodeOptions, ...env, ...envFor(name) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    const tail: string[] = [];
    const keep = (d: Buffer): void => {
      tail.push(d.toString());
      if (tail.length > 50) tail.shift();
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    procs.push({ name: label, child, tail });
  };
  start("scheduler", "scheduler");
  for (let i = 1; i <= replicas; i++) start("fetcher", replicas > 1 ? `fetcher-${i}` : "fetcher");
  start("mapper", "mapper");
  start("writer", "writer");

  const peak = new Map<string, number>();
  const sample = (): void => {
    for (const p of procs) {
      if (p.child.pid === undefined) continue;
      peak.set(p.name, Math.max(peak.get(p.name) ?? 0, readProcKb(p.child.pid, "VmRSS")));
    }
  };
  const sampler = setInterval(sample, 500);
  const nc = await connect({ servers: NATS_URL });
  try {
    // The scheduler may still be starting: retry until it answers. Counters start clean for the run.
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
    const runId = reply.runId;
    const startEpoch = Date.now() / 1000;
    const cpuAtStart = new Map(procs.map((p) => [p.name, readProcCpuS(p.child.pid ?? 0)]));
    const simCpuAtStart = readProcCpuS(sim.proc.pid ?? 0);
    const machineAtStart = readMachineCpu();
    const infraAtStart = { postgres: readCommCpuS("postgres"), "nats-server": readCommCpuS("nats-server") };
    log(`grantline run ${runId} started (db ${dbName}, prefix ${prefix})`);
    const timeoutAt = Date.now() + Number(values["timeout-min"]) * 60_000;
    let status = "running";
    let lastLog = Date.now();
    while (status === "running") {
      await new Promise((r) => setTimeout(r, 250));
      const r = await db
        .selectFrom("runs")
        .select("status")
        .where("id", "=", runId)
        .executeTakeFirstOrThrow();
      status = r.status;
      for (const p of procs)
        if (p.child.exitCode !== null) throw new Error(`${p.name} exited early:\n${p.tail.join("")}`);
      if (Date.now() - lastLog > 15_000) {
        lastLog = Date.now();
        const t = await sql<{ done: number; total: number }>`
          SELECT count(*) FILTER (WHERE status <> 'pending')::int AS done, count(*)::int AS total
            FROM tasks WHERE run_id = ${runId}::uuid`.execute(db);
        log(`  … ${t.rows[0]?.done}/${t.rows[0]?.total} tasks`);
      }
      if (Date.now() > timeoutAt) {
        status = "timeout";
        break;
      }
    }
    sample();
    const cpuS: Record<string, number> = {};
    for (const p of procs)
      cpuS[p.name] = Math.round((readProcCpuS(p.child.pid ?? 0) - (cpuAtStart.get(p.name) ?? 0)) * 10) / 10;
    cpuS["aws-sim"] = Math.round((readProcCpuS(sim.proc.pid ?? 0) - simCpuAtStart) * 10) / 10;
    for (const [comm, before] of Object.entries(infraAtStart))
      cpuS[comm] = cpuDelta(before, readCommCpuS(comm));
    const machineNow = readMachineCpu();
    const machineBusy =
      (machineNow.busy - machineAtStart.busy) / Math.max(1, machineNow.total - machineAtStart.total);
    const rss: PipelineResult["rss"] = {};
    for (const p of procs)
      rss[p.name] = {
        peakMb: Math.round((peak.get(p.name) ?? 0) / 102.4) / 10,
        hwmMb: Math.round(readProcKb(p.child.pid ?? 0, "VmHWM") / 102.4) / 10,
      };
    const [counters, timeline] = await Promise.all([
      sim.get<Counters>("/_sim/counters"),
      sim.get<Timeline>("/_sim/timeline"),
    ]);
    const run = await db
      .selectFrom("runs")
      .select(["started_at", "finished_at"])
      .where("id", "=", runId)
      .executeTakeFirstOrThrow();
    const t = await sql<{ rows: number; tasks: number; failed: number }>`
      SELECT coalesce(sum(rows_written), 0)::int AS rows, count(*)::int AS tasks,
             count(*) FILTER (WHERE status = 'failed')::int AS failed
        FROM tasks WHERE run_id = ${runId}::uuid`.execute(db);
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
        .execute(),
    ]);
    const taskRows = await sql<{
      service: string;
      operation: string;
      c: number;
      p: number;
      d: number | null;
      account: string | null;
    }>`
      SELECT service, operation, account_id AS account, (extract(epoch FROM created_at) * 1000)::float8 AS c,
             (extract(epoch FROM published_at) * 1000)::float8 AS p, (extract(epoch FROM done_at) * 1000)::float8 AS d
        FROM tasks WHERE run_id = ${runId}::uuid`.execute(db);
    if (status !== "succeeded") {
      for (const p of procs) console.error(`--- ${p.name} (last output)\n${p.tail.join("").slice(-3000)}`);
    }
    return {
      status,
      wallMs: run.finished_at
        ? new Date(run.finished_at).getTime() - new Date(run.started_at).getTime()
        : Date.now() - startEpoch * 1000,
      rowsWritten: t.rows[0]?.rows ?? 0,
      tasks: t.rows[0]?.tasks ?? 0,
      failedTasks: t.rows[0]?.failed ?? 0,
      rss,
      cpuS,
      machineBusy,
      actual: { resources, entitlements, grants },
      counters,
      timeline,
      startEpoch: new Date(run.started_at).getTime() / 1000,
      env: extraEnv,
      taskTimes: taskRows.rows.map((r) => [r.service, r.operation, r.c, r.p, r.d, r.account]),
    };
  } finally {
    clearInterval(sampler);
    await Promise.all(procs.map((p) => stopProcess(p.child)));
    const jsm = await jetstreamManager(nc);
    const blobs = `OBJ_${subjects.streams.batches.replace(/_BATCH$/, "")}_BLOBS`;
    for (const s of [...Object.values(subjects.streams), blobs])
      await jsm.streams.delete(s).catch(() => undefined);
    await nc.close();
    await db.destroy();
    const admin = new URL(DATABASE_URL);
    admin.pathname = "/postgres";
    const adminDb = createDb({ url: admin.toString(), poolSize: 1 });
    await sql`DROP DATABASE IF EXISTS ${sql.id(dbName)} WITH (FORCE)`.execute(adminDb).catch(() => undefined);
    await adminDb.destroy();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// the chart

const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#9467bd",
  "#ff7f0e",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#bcbd22",
  "#7f7f7f",
];
/** The quota families that decide the floor; IAM/STS scopes (per account, far below their limits) are left out. */
const charted = (scope: string): boolean => /^(sso|identitystore|organizations):/.test(scope);
const onlyCharted = (t: Timeline): Timeline =>
  Object.fromEntries(Object.entries(t).filter(([k]) => charted(k)));

function scopeLabel(scope: string): string {
  if (scope.startsWith("sso:")) return "sso-admin (instance)";
  if (scope.startsWith("identitystore:")) return `identitystore ${scope.split(":").pop() ?? ""}`;
  return scope.replace(":", " ");
}

function scopeLimit(scope: string): number {
  if (scope.startsWith("sso:")) return rates.sso;
  if (scope.startsWith("identitystore:")) return rates.identitystore;
  if (scope.startsWith("organizations:")) return rates.organizations;
  if (scope.startsWith("iam:")) return rates.iam;
  if (scope.startsWith("sts:")) return rates.sts;
  return rates.cloudtrail;
}

function panel(
  title: string,
  timeline: Timeline,
  startEpoch: number,
  x0: number,
  w: number,
  h: number,
  maxT: number,
  maxY: number,
  colors: Map<string, string>,
): string {
  const pad = { l: 50, r: 10, t: 30, b: 40 };
  const pw = w - pad.l - pad.r;
  const ph = h - pad.t - pad.b;
  const X = (t: number): number => x0 + pad.l + (t / maxT) * pw;
  const Y = (v: number): number => pad.t + ph - (v / maxY) * ph;
  const out: string[] = [];
  out.push(`<text x="${x0 + w / 2}" y="18" text-anchor="middle" font-weight="bold">${title}</text>`);
  out.push(`<rect x="${x0 + pad.l}" y="${pad.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (let i = 0; i <= 5; i++) {
    const v = (maxY / 5) * i;
    out.push(
      `<text x="${x0 + pad.l - 5}" y="${Y(v) + 4}" text-anchor="end" font-size="10">${Math.round(v)}</text>`,
    );
    const t = (maxT / 5) * i;
    out.push(
      `<text x="${X(t)}" y="${pad.t + ph + 14}" text-anchor="middle" font-size="10">${Math.round(t)}</text>`,
    );
  }
  out.push(
    `<text x="${x0 + pad.l + pw / 2}" y="${h - 8}" text-anchor="middle" font-size="11">seconds</text>`,
  );
  const limits = new Set<number>();
  for (const [scope, pts] of Object.entries(timeline)) {
    const color = colors.get(scope) ?? "#000";
    limits.add(scopeLimit(scope));
    const byT = new Map(pts.map((p) => [p.t, p.calls - p.throttled]));
    const first = Math.floor(startEpoch);
    const last = Math.max(...pts.map((p) => p.t));
    const coords: string[] = [];
    for (let t = first; t <= last; t++) {
      const v = byT.get(t) ?? 0;
      coords.push(`${X(t - first).toFixed(1)},${Y(Math.min(v, maxY)).toFixed(1)}`);
    }
    out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.3" points="${coords.join(" ")}"/>`);
  }
  for (const l of limits) {
    out.push(
      `<line x1="${x0 + pad.l}" x2="${x0 + pad.l + pw}" y1="${Y(l)}" y2="${Y(l)}" stroke="#555" stroke-dasharray="5,4"/>`,
    );
    out.push(
      `<text x="${x0 + pad.l + pw - 4}" y="${Y(l) - 3}" text-anchor="end" font-size="10">limit ${l}/s</text>`,
    );
  }
  return out.join("\n");
}

function chart(
  runs: Array<{ title: string; timeline: Timeline; startEpoch: number; seconds: number }>,
): string {
  const w = 560;
  const h = 320;
  const scopes = [...new Set(runs.flatMap((r) => Object.keys(r.timeline)))].sort();
  const colors = new Map(scopes.map((s, i) => [s, PALETTE[i % PALETTE.length]!]));
  const maxT = Math.max(10, ...runs.map((r) => r.seconds));
  const maxY = Math.max(...scopes.map(scopeLimit)) * 1.3;
  const legendH = 16 * Math.ceil(scopes.length / 3) + 10;
  const body = runs.map((r, i) => panel(r.title, r.timeline, r.startEpoch, i * w, w, h, maxT, maxY, colors));
  const legend = scopes.map((s, i) => {
    const x = 60 + (i % 3) * 300;
    const y = h + 14 + Math.floor(i / 3) * 16;
    return `<line x1="${x}" x2="${x + 20}" y1="${y - 4}" y2="${y - 4}" stroke="${colors.get(s)}" stroke-width="2"/><text x="${x + 25}" y="${y}" font-size="11">${scopeLabel(s)}</text>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w * runs.length}" height="${h + legendH}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
${body.join("\n")}
${legend.join("\n")}
</svg>
`;
}

// ---------------------------------------------------------------------------------------------------------------
// main

function rowsAsExpected(r: ReferenceRows): ExpectedRows {
  const key = (t: string, id: string) => `${t}/${id}`;
  return {
    resources: new Map(
      r.resources.map((x) => [
        key(x.type, x.id),
        { name: x.name, parent: x.parent_type && x.parent_id ? key(x.parent_type, x.parent_id) : null },
      ]),
    ),
    entitlements: new Set(r.entitlements.map((e) => e.id)),
    grants: new Set(r.grants.map((g) => g.id)),
  };
}

const IAM_TYPES = [
  "iam_user",
  "iam_group",
  "iam_role",
  "iam_policy",
  "inline_policy",
  "access_key",
  "iam_account",
];
const isIam = (id: string): boolean => IAM_TYPES.some((t) => id.startsWith(`${t}:`));

/** A run's rows split into IAM rows and the rest (Organizations and Identity Center). */
function splitIam(a: ActualRows): { iam: ActualRows; rest: ActualRows } {
  const split = <T>(xs: T[], isIamRow: (x: T) => boolean): [T[], T[]] => [
    xs.filter(isIamRow),
    xs.filter((x) => !isIamRow(x)),
  ];
  const [iamR, restR] = split(a.resources, (r) => IAM_TYPES.includes(r.type));
  const [iamE, restE] = split(a.entitlements, (e) => isIam(e.id));
  const [iamG, restG] = split(a.grants, (g) => isIam(g.id));
  return {
    iam: { resources: iamR, entitlements: iamE, grants: iamG },
    rest: { resources: restR, entitlements: restE, grants: restG },
  };
}

/** diffRows caps its list at 30 lines plus "… and N more": the real count. */
function diffCount(d: string[]): number {
  const m = /^… and (\d+) more$/.exec(d[d.length - 1] ?? "");
  return m ? d.length - 1 + Number(m[1]) : d.length;
}

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;
const sec = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function loadAvg(): Promise<string> {
  return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
}

async function main(): Promise<number> {
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const lines: string[] = [];
  const say = (s: string): void => {
    console.log(s);
    lines.push(s);
  };
  const loadBefore = await loadAvg();
  if (values["redraw-from"]) {
    const raw = JSON.parse(readFileSync(values["redraw-from"], "utf8")) as {
      timeline: Timeline;
      startEpoch: number;
      wallMs: number;
      reference: { wallMs: number; timeline: Timeline; startEpoch: number } | null;
    };
    const name = /gl-bench-(.+)\.json$/.exec(values["redraw-from"])?.[1] ?? stamp;
    const runs = [
      {
        title: `grantline (${preset}, ×${scale}) — ${sec(raw.wallMs)}`,
        timeline: onlyCharted(raw.timeline),
        startEpoch: raw.startEpoch,
        seconds: raw.wallMs / 1000,
      },
    ];
    if (raw.reference)
      runs.push({
        title: `reference, sequential — ${sec(raw.reference.wallMs)}`,
        timeline: onlyCharted(raw.reference.timeline),
        startEpoch: raw.reference.startEpoch,
        seconds: raw.reference.wallMs / 1000,
      });
    const file = join(ROOT, "docs/bench", `${name}-calls.svg`);
    writeFileSync(file, chart(runs));
    log(`redrew ${file}`);
    return 0;
  }
  let writer: WriterBenchResult | null = null;
  if (values["writer-only"]) {
    writer = await runWriterBench({ databaseUrl: DATABASE_URL, log });
    const json = { kind: "writer-apply", at: new Date().toISOString(), writer, loadavg: await loadAvg() };
    say(`\n## ${new Date().toISOString()} — writer micro-benchmark only\n`);
    say(
      `- writer apply: applyBatch ${writer.applyRowsPerSec} rows/s vs plain unnest ${writer.plainRowsPerSec} rows/s — ratio **${writer.ratio}** (target ≥ 0.5); a plain insert plus one same-size outbox event per row reaches ${writer.eventsBoundRatio} of the plain insert (the bound for a writer that records an event per grant), applyBatch ${writer.plainWithEventsRatio} of that`,
    );
    say(`\n\`\`\`json\n${JSON.stringify(json)}\n\`\`\``);
    if (!values["no-append"]) await appendResults(lines);
    return 0;
  }

  log(
    `org ${preset}, quota scale ${scale} (sso-admin ${rates.sso}/s, identitystore ${rates.identitystore}/s per op, organizations ${rates.organizations}/s per op), latency ${values.latency} ms, fetcher replicas ${replicas}, IAM ${iamMapped ? "on (mappers registered)" : "off (no IAM mappers registered in libs/model/src/map-page.ts)"}`,
  );
  if (Object.keys(extraEnv).length) log(`service env: ${JSON.stringify(extraEnv)}`);
  let sim = await startSim();
  const org = await sim.get<OrgDocument>("/_sim/org");
  const truth = expectedRows(org);
  log(`aws-sim at ${sim.url}: ${org.accounts.length} accounts; running grantline`);
  const p = await runPipeline(sim);
  const simRssMb = Math.round(readProcKb(sim.proc.pid ?? 0, "VmHWM") / 102.4) / 10;
  await sim.stop();
  log(`grantline: ${p.status} in ${sec(p.wallMs)}`);

  let ref: Awaited<ReturnType<typeof referenceSync>> | null = null;
  let refTimeline: Timeline = {};
  let refStart = 0;
  let refCounters: Counters | null = null;
  if (!values["skip-reference"]) {
    sim = await startSim();
    log(`reference sync against a fresh aws-sim at ${sim.url}`);
    await sim.post("/_sim/counters/reset", {});
    refStart = Date.now() / 1000;
    ref = await referenceSync({
      endpoint: sim.url,
      region: "us-east-1",
      credentials: sim.credentials,
      iam: iamMapped,
      iamRoleName: iamAll ? ACCESS_ROLE : undefined,
    });
    [refCounters, refTimeline] = await Promise.all([
      sim.get<Counters>("/_sim/counters"),
      sim.get<Timeline>("/_sim/timeline"),
    ]);
    await sim.stop();
    log(`reference: ${sec(ref.wallMs)}`);
  }
  if (!values["skip-writer"]) writer = await runWriterBench({ databaseUrl: DATABASE_URL, log });
  const loadAfter = await loadAvg();

  // Figures.
  const { floor, scopes } = floorOf(p.counters, iamCallsByAccount(p.timeline));
  const ratio = p.wallMs / 1000 / floor.seconds;
  const ideal = idealFloor(p.taskTimes, org.organization.managementAccountId);
  const throttledShare = p.counters.totals.calls ? p.counters.totals.throttled / p.counters.totals.calls : 0;
  const rowsPerSec = p.rowsWritten / (p.wallMs / 1000);
  // The reference collects Organizations and Identity Center rows only; grantline's IAM rows are compared with the
  // ground truth of the accounts it synced.
  const { iam: iamActual, rest: actual } = splitIam(p.actual);
  const diffTruth = diffRows(truth, actual);
  const diffIamTruth = iamMapped
    ? diffRows(
        expectedIamRows(org, iamAll ? {} : { accounts: [org.organization.managementAccountId] }),
        iamActual,
      )
    : [];
  const refDiffTruth = ref ? diffRows(truth, ref.rows) : [];
  const diffRef = ref ? diffRows(rowsAsExpected(ref.rows), actual) : [];
  const speedup = ref ? ref.wallMs / p.wallMs : null;
  const maxRss = Math.max(...Object.values(p.rss).map((r) => Math.max(r.peakMb, r.hwmMb)));

  const rawFile = join(tmpdir(), `gl-bench-${stamp}.json`);
  writeFileSync(
    rawFile,
    JSON.stringify({
      counters: p.counters,
      timeline: p.timeline,
      startEpoch: p.startEpoch,
      wallMs: p.wallMs,
      tasks: p.taskTimes,
      reference: ref
        ? {
            wallMs: ref.wallMs,
            calls: ref.calls,
            counters: refCounters,
            timeline: refTimeline,
            startEpoch: refStart,
          }
        : null,
    }),
  );
  log(`raw data (counters, timelines, task times): ${rawFile}`);

  let svgName: string | null = null;
  if (!values["no-append"]) {
    mkdirSync(join(ROOT, "docs/bench"), { recursive: true });
    svgName = `${stamp}-calls.svg`;
    const runs = [
      {
        title: `grantline (${preset}, ×${scale}) — ${sec(p.wallMs)}`,
        timeline: onlyCharted(p.timeline),
        startEpoch: p.startEpoch,
        seconds: p.wallMs / 1000,
      },
    ];
    if (ref)
      runs.push({
        title: `reference, sequential — ${sec(ref.wallMs)}`,
        timeline: onlyCharted(refTimeline),
        startEpoch: refStart,
        seconds: ref.wallMs / 1000,
      });
    writeFileSync(join(ROOT, "docs/bench", svgName), chart(runs));
  }

  say(
    `\n## ${new Date().toISOString()} — ${preset}, quota scale ${scale}, latency ${values.latency} ms, ${replicas} fetcher replicas\n`,
  );
  say(
    `Budgets = quotas × ${scale}: sso-admin ${rates.sso}/s (instance), identitystore ${rates.identitystore}/s per operation, organizations ${rates.organizations}/s per operation. IAM ${iamMapped ? (iamAll ? "synced in every active account" : "synced in the management account") : "not synced (no IAM mappers registered)"}. Service env overrides: ${Object.keys(p.env).length ? `\`${JSON.stringify(p.env)}\`` : "none"}. Load average before/after: ${loadBefore} / ${loadAfter} (${(await import("node:os")).cpus().length} cores).\n`,
  );
  say(`| AWS operation (grantline run) | calls | throttled | errors |${ref ? " reference calls |" : ""}`);
  say(`| --- | ---: | ---: | ---: |${ref ? " ---: |" : ""}`);
  const ops = [
    ...new Set([...Object.keys(p.counters.operations), ...Object.keys(refCounters?.operations ?? {})]),
  ].sort();
  for (const op of ops) {
    const c = p.counters.operations[op] ?? { calls: 0, throttled: 0, errors: 0 };
    say(
      `| ${op} | ${c.calls} | ${c.throttled} | ${c.errors} |${ref ? ` ${refCounters?.operations[op]?.calls ?? 0} |` : ""}`,
    );
  }
  say(`\nRate-limit floor = max over quota scopes of (successful calls in the scope ÷ the scope's rate):\n`);
  say(`| quota scope | calls | rate/s | seconds |`);
  say(`| --- | ---: | ---: | ---: |`);
  for (const s of scopes.slice(0, 8))
    say(`| ${s.scope} | ${s.calls} | ${s.rate} | ${s.seconds.toFixed(1)} |`);
  say("");
  const verdict = (ok: boolean): string => (ok ? "met" : "**MISSED**");
  say(`| figure | value | target |`);
  say(`| --- | --- | --- |`);
  say(
    `| run status | ${p.status} (${p.tasks} tasks, ${p.failedTasks} failed) | succeeded, 0 failed — ${verdict(p.status === "succeeded" && p.failedTasks === 0)} |`,
  );
  say(`| rate-limit floor | ${floor.seconds.toFixed(1)} s (${floor.scope}) | |`);
  say(
    `| floor if every task were fetched once | ${ideal.seconds.toFixed(1)} s (${ideal.scope}; wall ÷ this = ${(p.wallMs / 1000 / ideal.seconds).toFixed(2)}) | differs from the floor when tasks were re-published |`,
  );
  say(`| grantline wall time | ${sec(p.wallMs)} | |`);
  say(`| wall ÷ floor | ${ratio.toFixed(2)} | ≤ 1.15 — ${verdict(ratio <= 1.15)} |`);
  if (ref && speedup !== null)
    say(
      `| reference wall time | ${sec(ref.wallMs)} | |\n| speed-up over reference | ${speedup.toFixed(2)}× | ≥ 5× (medium) — ${verdict(speedup >= 5)} |`,
    );
  say(
    `| throttled share | ${pct(throttledShare)} (${p.counters.totals.throttled} of ${p.counters.totals.calls}) | < 1 % — ${verdict(throttledShare < 0.01)} |`,
  );
  for (const [name, r] of Object.entries(p.rss))
    say(
      `| peak RSS ${name} | ${Math.max(r.peakMb, r.hwmMb)} MB (sampled VmRSS ${r.peakMb}, VmHWM ${r.hwmMb}) | ≤ 256 MB — ${verdict(Math.max(r.peakMb, r.hwmMb) <= 256)} |`,
    );
  say(`| aws-sim peak RSS (for reference) | ${simRssMb} MB | |`);
  say(
    `| CPU seconds during the run | ${Object.entries(p.cpuS)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}; machine busy ${pct(p.machineBusy)} of ${cpus().length} cores | |`,
  );
  say(`| rows written / s (writer, whole run) | ${rowsPerSec.toFixed(0)} (${p.rowsWritten} rows) | |`);
  if (writer)
    say(
      `| writer apply ÷ plain unnest | ${writer.ratio} (${writer.applyRowsPerSec} vs ${writer.plainRowsPerSec} rows/s, ${writer.batches}×${writer.rowsPerBatch} grants; bound with one outbox event per grant: ${writer.eventsBoundRatio}, applyBatch ÷ that bound: ${writer.plainWithEventsRatio}) | ≥ 0.5 — ${verdict(writer.ratio >= 0.5)} |`,
    );
  say(
    `| rows: grantline vs reference | ${ref ? (diffRef.length ? `${diffCount(diffRef)} differences` : "identical") : "n/a"} | identical |`,
  );
  say(
    `| rows: grantline vs ground truth | ${diffTruth.length ? `${diffCount(diffTruth)} differences` : "identical"} | identical |`,
  );
  if (iamMapped)
    say(
      `| IAM rows (${iamAll ? "every active account" : "management account"}): grantline vs ground truth | ${diffIamTruth.length ? `${diffCount(diffIamTruth)} differences` : `identical (${iamActual.resources.length} resources, ${iamActual.grants.length} grants)`} | identical |`,
    );
  if (ref)
    say(
      `| rows: reference vs ground truth | ${refDiffTruth.length ? `${diffCount(refDiffTruth)} differences` : "identical"} | identical |`,
    );
  for (const [what, d] of [
    ["grantline vs reference", diffRef],
    ["grantline vs ground truth", diffTruth],
    ["reference vs ground truth", refDiffTruth],
    ["grantline IAM vs ground truth", diffIamTruth],
  ] as const)
    if (d.length) say(`\n${what} (first differences): \`${d.slice(0, 5).join("`, `")}\``);
  if (svgName) say(`\n![AWS calls per second per quota scope](bench/${svgName})`);
  const json = {
    kind: "full-sync",
    at: new Date().toISOString(),
    org: preset,
    quotaScale: scale,
    latency: values.latency,
    replicas,
    iam: iamMapped,
    env: p.env,
    status: p.status,
    failedTasks: p.failedTasks,
    calls: Object.fromEntries(Object.entries(p.counters.operations).map(([k, v]) => [k, v.calls])),
    floorS: Number(floor.seconds.toFixed(2)),
    floorScope: floor.scope,
    idealFloorS: Number(ideal.seconds.toFixed(2)),
    wallS: Number((p.wallMs / 1000).toFixed(2)),
    wallOverFloor: Number(ratio.toFixed(3)),
    referenceWallS: ref ? Number((ref.wallMs / 1000).toFixed(2)) : null,
    speedup: speedup === null ? null : Number(speedup.toFixed(2)),
    throttledShare: Number(throttledShare.toFixed(5)),
    cpuS: p.cpuS,
    machineBusy: Math.round(p.machineBusy * 1000) / 1000,
    rssMb: Object.fromEntries(Object.entries(p.rss).map(([k, r]) => [k, Math.max(r.peakMb, r.hwmMb)])),
    maxRssMb: maxRss,
    writerRowsPerS: Math.round(rowsPerSec),
    writerApplyRatio: writer?.ratio ?? null,
    rowsMatchReference: ref ? diffRef.length === 0 : null,
    rowsMatchTruth: diffTruth.length === 0 && diffIamTruth.length === 0,
    iamAccounts: iamMapped ? values["iam-accounts"] : null,
    loadavg: { before: loadBefore, after: loadAfter },
  };
  say(`\n\`\`\`json\n${JSON.stringify(json)}\n\`\`\``);
  if (!values["no-append"]) await appendResults(lines);
  return p.status === "succeeded" ? 0 : 1;
}

/** Appends and re-formats the whole file: CI's `prettier --check` rejects hand-aligned tables. */
async function appendResults(lines: string[]): Promise<void> {
  const file = join(ROOT, "docs/benchmarks.md");
  if (!existsSync(file))
    writeFileSync(file, "# Benchmarks\n\nResults are appended below by `npm run bench`.\n");
  appendFileSync(file, `${lines.join("\n")}\n`);
  const options = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(readFileSync(file, "utf8"), { ...options, filepath: file }));
}

async function shutdown(): Promise<void> {
  await Promise.all(children.map((c) => stopProcess(c, 3000)));
}

process.once("SIGINT", () => void shutdown().then(() => process.exit(130)));
process.once("SIGTERM", () => void shutdown().then(() => process.exit(143)));
main().then(
  async (code) => {
    await shutdown();
    process.exit(code);
  },
  async (err: unknown) => {
    console.error("bench failed:", err);
    await shutdown();
    process.exit(1);
  },
);
