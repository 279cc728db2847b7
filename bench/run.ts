// `npm run bench`: grantline's full-sync benchmark against aws-sim running AWS's quotas. See docs/benchmarks.md for
// what it does, how to run it and what each figure means. Not a test: it prints, appends to docs/benchmarks.md and
// draws docs/bench/<timestamp>-calls.svg.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ACCESS_ROLE, type OrgDocument } from "@grantline/aws-sim";
import { measureAccessLatency, type AccessLatency } from "./access-latency.ts";
import { DATABASE_URL, ROOT, log } from "./bench-env.ts";
import { iamMappersRegistered, type BenchSettings } from "./bench-settings.ts";
import { compareRows } from "./compare-rows.ts";
import { profileReport } from "./cpu-profile.ts";
import { floorOf, iamCallsByAccount, idealFloor, quotaRates } from "./floor.ts";
import { sec } from "./format.ts";
import { defaultFeeds, runFreshness, type FreshnessOptions } from "./freshness.ts";
import { MUTATION_KINDS, type MutationKind } from "./freshness-plan.ts";
import { freshnessChart, freshnessReport } from "./freshness-report.ts";
import { delayFigures } from "./freshness-stats.ts";
import { stopAll } from "./process-control.ts";
import { provisioningReport, runProvisioning } from "./provisioning.ts";
import { referenceSync, type ReferenceResult } from "./reference-sync.ts";
import {
  appendResults,
  fullSyncFigures,
  type FullSyncReport,
  fullSyncReport,
  writerOnlyReport,
} from "./report.ts";
import { repeatCount, repeatReport, type RepeatRun } from "./repeat-report.ts";
import { runPipeline } from "./run-pipeline.ts";
import { loadAvg, readProcKb } from "./sampling.ts";
import { startSim, type Counters, type Timeline } from "./sim-process.ts";
import { callsChart, type ChartedSync } from "./svg-chart.ts";
import { runWriterBench, type WriterBenchResult } from "./writer-apply.ts";

const USAGE = `npm run bench -- [options]
  --org small|medium|large  organization preset (default medium, large with --freshness; small: a quick check)
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
  --second-run            sync the same organization again right after the first run, with the same services and
                          Redis (the permission-set cache warm), and report both runs' floors, wall times and
                          permission-set describe calls
  --timeout-min N         give up on the grantline run after N minutes (default 30)
  --repeat N              run the full sync N times (fresh aws-sim, database and services each; the reference and
                          the writer micro-benchmark only with the first) and add a section of medians and ranges
  --no-append             print only; do not append to docs/benchmarks.md or draw the chart
  --cpu-prof              run each service's node with --cpu-prof: prints where its .cpuprofile is and its top
                          self times (by package and function) and inclusive times (by the deepest grantline
                          frame) over the run; the bundles are kept beside the profiles to name their packages
  --redraw-from FILE.json redraw docs/bench/<stamp>-calls.svg from a run's raw dump (/tmp/gl-bench-<stamp>.json)
  --provisioning          the provisioning benchmark instead (default org small): many callers ask for account
                          assignments at once; its options:
    --requests N          grant requests (default 100)
    --callers N           NATS connections sending them (default 20)
    --assignment-delay SPEC  aws-sim's IN_PROGRESS time, ms: MS | uniform:MIN-MAX | lognormal:… (default uniform:500-3000)
    --cap N               grantline's outstanding-operation cap (default 10)
  --freshness             the freshness benchmark instead (CloudTrail feeds → targeted refresh → event); its options:
    --mutations N         changes made after the first sync (default 60)
    --mutation-interval-s S  one change every S seconds (default 2)
    --kinds K,K,…         mutation kinds (default all: ${MUTATION_KINDS.join(", ")})
    --trail-delay SPEC    aws-sim's CloudTrail delivery delay, ms: MS | uniform:MIN-MAX | lognormal:MEDIAN,P95[,MAX]
                          (default lognormal:15000,40000,60000)
    --feeds JSON          merged into the source's feeds block (default: on, overlap ≥ the delay's bound)
    --idle-s S            the idle phase (default 300)
    --event-timeout-s S   an event later than this after its mutation is a miss (default: delay bound + 120)
    --seed N              seed of the mutation plan (default 1)`;

const { values } = parseArgs({
  options: {
    org: { type: "string" },
    "quota-scale": { type: "string", default: "1" },
    latency: { type: "string", default: "30-80" },
    replicas: { type: "string", default: "2" },
    "iam-accounts": { type: "string", default: "all" },
    "skip-reference": { type: "boolean", default: false },
    "skip-writer": { type: "boolean", default: false },
    "writer-only": { type: "boolean", default: false },
    env: { type: "string", multiple: true, default: [] },
    "timeout-min": { type: "string", default: "30" },
    repeat: { type: "string", default: "1" },
    "second-run": { type: "boolean", default: false },
    "from-source": { type: "boolean", default: false },
    "no-append": { type: "boolean", default: false },
    "cpu-prof": { type: "boolean", default: false },
    "redraw-from": { type: "string" },
    freshness: { type: "boolean", default: false },
    provisioning: { type: "boolean", default: false },
    requests: { type: "string", default: "100" },
    callers: { type: "string", default: "20" },
    "assignment-delay": { type: "string", default: "uniform:500-3000" },
    cap: { type: "string", default: "10" },
    mutations: { type: "string", default: "60" },
    "mutation-interval-s": { type: "string", default: "2" },
    kinds: { type: "string" },
    "trail-delay": { type: "string", default: "lognormal:15000,40000,60000" },
    feeds: { type: "string" },
    "idle-s": { type: "string", default: "300" },
    "event-timeout-s": { type: "string" },
    seed: { type: "string", default: "1" },
    help: { type: "boolean", default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const preset = values.org ?? (values.freshness ? "large" : values.provisioning ? "small" : "medium");
if (preset !== "small" && preset !== "medium" && preset !== "large") {
  console.error(`bench: --org must be small, medium or large\n${USAGE}`);
  process.exit(2);
}
const scale = Number(values["quota-scale"]);
const replicas = Number(values.replicas);
const [latMin, latMax] = values.latency.split("-").map(Number);
if (!(scale > 0) || !(replicas >= 1) || !Number.isFinite(latMin) || !Number.isFinite(latMax)) {
  console.error(`bench: bad --quota-scale, --replicas or --latency\n${USAGE}`);
  process.exit(2);
}
const iamMapped = iamMappersRegistered();
if (!["all", "management"].includes(values["iam-accounts"]))
  throw new Error(`--iam-accounts must be "all" or "management", not "${values["iam-accounts"]}"`);
const settings: BenchSettings = {
  preset,
  scale,
  latency: values.latency,
  replicas,
  rates: quotaRates(scale),
  iamMapped,
  iamAll: iamMapped && values["iam-accounts"] === "all",
  iamAccounts: values["iam-accounts"],
  env: Object.fromEntries(
    values.env.map((kv) => {
      const i = kv.indexOf("=");
      return [kv.slice(0, i), kv.slice(i + 1)];
    }),
  ),
  fromSource: values["from-source"],
  timeoutMin: Number(values["timeout-min"]),
  ...(values["cpu-prof"]
    ? { cpuProfDir: join(tmpdir(), `gl-bench-prof-${new Date().toISOString().replace(/[:.]/g, "-")}`) }
    : {}),
};

/** Prints a report's lines and, unless `--no-append`, appends them to docs/benchmarks.md. */
async function publish(lines: string[]): Promise<void> {
  for (const l of lines) console.log(l);
  if (!values["no-append"]) await appendResults(lines);
}

function redraw(file: string, stamp: string): void {
  const raw = JSON.parse(readFileSync(file, "utf8")) as ChartedSync & { reference: ChartedSync | null };
  const name = /gl-bench-(.+)\.json$/.exec(file)?.[1] ?? stamp;
  const out = join(ROOT, "docs/bench", `${name}-calls.svg`);
  writeFileSync(out, callsChart(settings, raw, raw.reference));
  log(`redrew ${out}`);
}

interface ReferenceRun {
  ref: ReferenceResult;
  counters: Counters;
  timeline: Timeline;
  startEpoch: number;
}

/** The sequential reference against a fresh aws-sim (full buckets, clean counters). */
async function referenceRun(): Promise<ReferenceRun> {
  const sim = await startSim(settings);
  log(`reference sync against a fresh aws-sim at ${sim.url}`);
  await sim.post("/_sim/counters/reset", {});
  const startEpoch = Date.now() / 1000;
  const ref = await referenceSync({
    endpoint: sim.url,
    region: "us-east-1",
    credentials: sim.credentials,
    iam: iamMapped,
    iamRoleName: settings.iamAll ? ACCESS_ROLE : undefined,
  });
  const [counters, timeline] = await Promise.all([
    sim.get<Counters>("/_sim/counters"),
    sim.get<Timeline>("/_sim/timeline"),
  ]);
  await sim.stop();
  log(`reference: ${sec(ref.wallMs)}`);
  return { ref, counters, timeline, startEpoch };
}

async function fullSync(
  stamp: string,
  loadBefore: string,
  only: { reference: boolean; writer: boolean } = { reference: true, writer: true },
): Promise<{ code: number; run: RepeatRun }> {
  log(
    `org ${preset}, quota scale ${scale} (sso-admin ${settings.rates.sso}/s, identitystore ${settings.rates.identitystore}/s per op, organizations ${settings.rates.organizations}/s per op), latency ${values.latency} ms, fetcher replicas ${replicas}, IAM ${iamMapped ? "on (mappers registered)" : "off (no IAM mappers registered in libs/model/src/map-page.ts)"}`,
  );
  if (Object.keys(settings.env).length) log(`service env: ${JSON.stringify(settings.env)}`);
  const sim = await startSim(settings);
  const org = await sim.get<OrgDocument>("/_sim/org");
  log(`aws-sim at ${sim.url}: ${org.accounts.length} accounts; running grantline`);
  let access: AccessLatency[] | null = null;
  const p = await runPipeline(sim, settings, {
    secondRun: values["second-run"],
    afterRun: async (db) => {
      log("access-query latency right after the first sync (100 random targets per question)");
      access = await measureAccessLatency(db);
    },
  });
  const simRssMb = Math.round(readProcKb(sim.proc.pid ?? 0, "VmHWM") / 102.4) / 10;
  await sim.stop();
  log(`grantline: ${p.status} in ${sec(p.wallMs)}`);
  // The services have exited (runPipeline stops them), so their profiles are written.
  if (settings.cpuProfDir) for (const l of profileReport(settings.cpuProfDir, p.monoWindow)) console.log(l);
  const reference = values["skip-reference"] || !only.reference ? null : await referenceRun();
  const writer: WriterBenchResult | null =
    values["skip-writer"] || !only.writer ? null : await runWriterBench({ databaseUrl: DATABASE_URL, log });
  const loadAfter = loadAvg();

  const { floor, scopes } = floorOf(p.counters, settings.rates, iamCallsByAccount(p.timeline));
  const second = p.secondRun && {
    run: p.secondRun,
    floor: floorOf(p.secondRun.counters, settings.rates, iamCallsByAccount(p.secondRun.timeline)).floor,
    diffs: compareRows(org, p.secondRun.actual, null, { mapped: iamMapped, all: settings.iamAll }),
  };
  const ideal = idealFloor(p.taskTimes, org.organization.managementAccountId, settings.rates);
  const ref = reference?.ref ?? null;
  const diffs = compareRows(org, p.actual, ref?.rows ?? null, { mapped: iamMapped, all: settings.iamAll });
  const refChart = reference && { ...reference, wallMs: reference.ref.wallMs };
  const rawFile = join(tmpdir(), `gl-bench-${stamp}.json`);
  writeFileSync(
    rawFile,
    JSON.stringify({
      counters: p.counters,
      timeline: p.timeline,
      startEpoch: p.startEpoch,
      wallMs: p.wallMs,
      tasks: p.taskTimes,
      secondRun: p.secondRun && { counters: p.secondRun.counters, wallMs: p.secondRun.wallMs },
      reference: reference && {
        wallMs: reference.ref.wallMs,
        calls: reference.ref.calls,
        counters: reference.counters,
        timeline: reference.timeline,
        startEpoch: reference.startEpoch,
      },
    }),
  );
  log(`raw data (counters, timelines, task times): ${rawFile}`);

  let svgName: string | null = null;
  if (!values["no-append"]) {
    mkdirSync(join(ROOT, "docs/bench"), { recursive: true });
    svgName = `${stamp}-calls.svg`;
    writeFileSync(join(ROOT, "docs/bench", svgName), callsChart(settings, p, refChart));
  }
  const report: FullSyncReport = {
    settings,
    p,
    ref,
    refCounters: reference?.counters ?? null,
    writer,
    access,
    floor,
    scopes,
    ideal,
    diffs,
    second,
    simRssMb,
    svgName,
    load: { before: loadBefore, after: loadAfter },
  };
  await publish(fullSyncReport(report));
  const code =
    p.status === "succeeded" && (!values["second-run"] || p.secondRun?.status === "succeeded") ? 0 : 1;
  return { code, run: fullSyncFigures(report) };
}

function freshnessOptions(): FreshnessOptions {
  const delay = delayFigures(values["trail-delay"]);
  const kinds = values.kinds?.split(",").map((k) => k.trim());
  const unknown = kinds?.filter((k) => !(MUTATION_KINDS as readonly string[]).includes(k)) ?? [];
  if (unknown.length)
    throw new Error(`--kinds: unknown ${unknown.join(", ")} (known: ${MUTATION_KINDS.join(", ")})`);
  const boundS = Number.isFinite(delay.maxMs)
    ? Math.ceil(delay.maxMs / 1000)
    : Math.ceil((3 * delay.p95Ms) / 1000);
  return {
    mutations: Number(values.mutations),
    intervalMs: Number(values["mutation-interval-s"]) * 1000,
    trailDelay: values["trail-delay"],
    feeds: {
      ...defaultFeeds(boundS),
      ...(values.feeds ? (JSON.parse(values.feeds) as Record<string, unknown>) : {}),
    },
    idleS: Number(values["idle-s"]),
    eventTimeoutS: values["event-timeout-s"] ? Number(values["event-timeout-s"]) : boundS + 120,
    seed: Number(values.seed),
    ...(kinds ? { kinds: kinds as MutationKind[] } : {}),
  };
}

async function freshness(stamp: string): Promise<number> {
  const o = freshnessOptions();
  log(
    `freshness: org ${preset}, quota scale ${scale}, CloudTrail delay ${o.trailDelay}, feeds ${JSON.stringify(o.feeds)}`,
  );
  const r = await runFreshness(settings, o);
  const rawFile = join(tmpdir(), `gl-bench-freshness-${stamp}.json`);
  writeFileSync(rawFile, JSON.stringify(r));
  log(`raw data (every mutation's outcome, counters): ${rawFile}`);
  let svgName: string | null = null;
  if (!values["no-append"]) {
    mkdirSync(join(ROOT, "docs/bench"), { recursive: true });
    svgName = `${stamp}-freshness.svg`;
    writeFileSync(join(ROOT, "docs/bench", svgName), freshnessChart(r));
  }
  await publish(freshnessReport(r, svgName));
  return 0;
}

async function main(): Promise<number> {
  const repeat = repeatCount({
    repeat: values.repeat,
    otherMode: Boolean(
      values.freshness || values.provisioning || values["writer-only"] || values["redraw-from"],
    ),
    cpuProf: Boolean(settings.cpuProfDir),
  });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const loadBefore = loadAvg();
  if (values.freshness) return freshness(stamp);
  if (values.provisioning) {
    const r = await runProvisioning(settings, {
      requests: Number(values.requests),
      callers: Number(values.callers),
      assignmentDelay: values["assignment-delay"],
      cap: Number(values.cap),
    });
    await publish(provisioningReport(r));
    return r.states.active === r.options.requests && r.sim.peakOutstanding <= r.options.cap ? 0 : 1;
  }
  if (values["redraw-from"]) {
    redraw(values["redraw-from"], stamp);
    return 0;
  }
  if (values["writer-only"]) {
    const writer = await runWriterBench({ databaseUrl: DATABASE_URL, log });
    await publish(writerOnlyReport(writer, loadAvg()));
    return 0;
  }
  if (repeat === 1) return (await fullSync(stamp, loadBefore)).code;
  const runs: RepeatRun[] = [];
  let code = 0;
  for (let i = 1; i <= repeat; i++) {
    log(`run ${i} of ${repeat}`);
    const r = await fullSync(`${stamp}-${i}`, i === 1 ? loadBefore : loadAvg(), {
      reference: i === 1,
      writer: i === 1,
    });
    runs.push(r.run);
    code = Math.max(code, r.code);
  }
  await publish(
    repeatReport(
      `${preset}, quota scale ${scale}, latency ${values.latency} ms, ${replicas} fetcher replicas${Object.keys(settings.env).length ? `, env ${JSON.stringify(settings.env)}` : ""}`,
      runs,
    ),
  );
  return code;
}

process.once("SIGINT", () => void stopAll(3000).then(() => process.exit(130)));
process.once("SIGTERM", () => void stopAll(3000).then(() => process.exit(143)));
main().then(
  async (code) => {
    await stopAll(3000);
    process.exit(code);
  },
  async (err: unknown) => {
    console.error("bench failed:", err);
    await stopAll(3000);
    process.exit(1);
  },
);
