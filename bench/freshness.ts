// `npm run bench -- --freshness`: how fast a change in AWS reaches a subscriber through the CloudTrail feeds and
// targeted refreshes, what it costs in AWS calls, and what the feeds cost while nothing changes (docs/benchmarks.md
// "Freshness"). aws-sim delivers CloudTrail events after a configured random delay, as AWS does.
import { DEFAULT_RATE_LIMITS, type OrgDocument } from "@grantline/aws-sim";
import { sql } from "kysely";
import { log } from "./bench-env.ts";
import type { BenchSettings } from "./bench-settings.ts";
import { sec } from "./format.ts";
import { planMutations, TRAIL_EVENT, type MutationKind, type PlannedMutation } from "./freshness-plan.ts";
import {
  changeCost,
  delayFigures,
  diffCounters,
  idleQuota,
  matchTrail,
  type ChangeCost,
  type DelayFigures,
  type IdleQuota,
  type TrailEntry,
} from "./freshness-stats.ts";
import { createMatcher, watchEvents } from "./freshness-watch.ts";
import { startPipeline, type Pipeline } from "./run-pipeline.ts";
import { cpuSince, cpuSnapshot, loadAvg } from "./sampling.ts";
import { startSim, type Counters, type Sim } from "./sim-process.ts";

export interface FreshnessOptions {
  mutations: number;
  /** Between two mutations (a steady rate). */
  intervalMs: number;
  /** aws-sim's `--cloudtrail-delay`. */
  trailDelay: string;
  /** The source's `feeds` block in the sources file. */
  feeds: Record<string, unknown>;
  idleS: number;
  /** How long after its mutation an event may arrive before it counts as missed. */
  eventTimeoutS: number;
  seed: number;
  kinds?: MutationKind[];
}

export interface MutationOutcome {
  kind: MutationKind;
  expect: string;
  /** Epoch ms the mutation was sent to aws-sim. */
  sentAt: number;
  /** Milliseconds from sent to its event on the subscriber subject; null = missed (or the mutation failed). */
  latencyMs: number | null;
  /** Milliseconds from sent to the start of the run that emitted its event (detection and queueing). */
  runStartMs: number | null;
  runKind: string | null;
  /** CloudTrail's delivery delay of its event (visible − happened); null if its event was not found. */
  delayMs: number | null;
  /** From its event becoming visible to LookupEvents to its event on the subject: what grantline added. */
  afterVisibleMs: number | null;
  error?: string;
}

export interface FreshnessResult {
  settings: BenchSettings;
  options: FreshnessOptions;
  delay: DelayFigures;
  org: { accounts: number; feeds: number };
  /** The first full sync, and the time after it until every feed had committed a first window. */
  firstSync: { status: string; wallMs: number; feedsStartMs: number };
  outcomes: MutationOutcome[];
  /** Events of the mutation phase no mutation expected (side effects of a change, duplicates). */
  otherEvents: number;
  phase: { startEpoch: number; seconds: number; counters: Counters; cost: ChangeCost };
  runs: Array<{ kind: string; status: string; n: number }>;
  idle: IdleQuota & {
    steady: IdleQuota;
    counters: Counters;
    runsStarted: number;
    cpuS: Record<string, number>;
  };
  feedTotals: Record<string, number>;
  load: { before: string; after: string };
  machineBusy: { phase: number; idle: number };
}

/**
 * The feeds block the benchmark runs with unless `--feeds` overrides part of it: the overlap covers the delay's
 * bound (`boundS`) with a margin, so no late event is lost; intervals and windows in flight are the sources
 * file's defaults (written out so the results say what ran).
 */
export function defaultFeeds(boundS: number): Record<string, unknown> {
  return {
    enabled: true,
    lookback: "15m",
    overlap: `${Math.max(60, boundS + 30)}s`,
    minInterval: "5s",
    maxInterval: "60s",
    accountInterval: "15s",
    maxWindowsInFlight: 256,
    managementFeeds: "combined",
    pollsPerTask: 25,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function waitUntil(
  what: string | (() => string),
  p: Pipeline,
  ok: () => Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let lastLog = Date.now();
  while (Date.now() < deadline) {
    p.assertAlive();
    if (await ok()) return true;
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      log(`  … waiting for ${typeof what === "string" ? what : what()}`);
    }
    await sleep(500);
  }
  return false;
}

/** No full or refresh run active, no refresh waiting, no derivation owed: what the changes set off is done. */
async function settled(p: Pipeline): Promise<boolean> {
  const r = await sql<{ active: number; waiting: number; owed: number }>`
    SELECT (SELECT count(*) FROM runs WHERE source_id = ${p.sourceId} AND status = 'running' AND kind <> 'feed')::int
             AS active,
           (SELECT count(*) FROM refresh_queue WHERE source_id = ${p.sourceId} AND run_id IS NULL)::int AS waiting,
           (SELECT count(*) FROM sources WHERE id = ${p.sourceId} AND derive_run IS NOT NULL)::int AS owed
  `.execute(p.db);
  return r.rows[0]?.active === 0 && r.rows[0]?.waiting === 0 && r.rows[0]?.owed === 0;
}

/**
 * Every feed of the source has committed a first window: the feeds are in their steady state (the first windows of
 * a thousand new feeds, each reading its lookback, are start-up, not the cost of a change).
 */
async function feedsStarted(p: Pipeline): Promise<boolean> {
  const r = await sql<{ feeds: number; fresh: number }>`
    SELECT count(*)::int AS feeds, count(*) FILTER (WHERE committed_at IS NULL)::int AS fresh
      FROM feed_cursors WHERE source_id = ${p.sourceId}`.execute(p.db);
  return (r.rows[0]?.feeds ?? 0) > 0 && r.rows[0]?.fresh === 0;
}

/** Sends the plan at a steady rate, each mutation registered with the matcher just before it is sent. */
async function applyMutations(
  sim: Sim,
  plan: PlannedMutation[],
  matcher: ReturnType<typeof createMatcher>,
  intervalMs: number,
): Promise<Array<{ m: PlannedMutation; sentAt: number; error?: string }>> {
  const start = Date.now();
  const sent: Array<{ m: PlannedMutation; sentAt: number; error?: string }> = [];
  for (const [i, m] of plan.entries()) {
    await sleep(start + i * intervalMs - Date.now());
    const sentAt = Date.now();
    matcher.expect(m.expect, sentAt);
    try {
      await sim.post(`/_sim/mutate/${m.name}`, m.body);
      sent.push({ m, sentAt });
    } catch (err) {
      sent.push({ m, sentAt, error: err instanceof Error ? err.message : String(err) });
    }
    if ((i + 1) % 10 === 0) log(`  … ${i + 1}/${plan.length} mutations sent`);
  }
  return sent;
}

/** Each change's own CloudTrail event, from aws-sim's trail of the account it was recorded in. */
async function trailEvents(sim: Sim, sent: Array<{ m: PlannedMutation; sentAt: number }>) {
  // IAM events are recorded in the account that changed; Identity Center and Organizations in the management one.
  const accountOf = (m: PlannedMutation): string =>
    m.kind.startsWith("iam-") ? String(m.body.accountId) : "";
  const trails = new Map<string, TrailEntry[]>();
  for (const acct of new Set(sent.map((s) => accountOf(s.m))))
    trails.set(acct, await sim.get<TrailEntry[]>(`/_sim/trail${acct ? `?accountId=${acct}` : ""}`));
  const out = new Map<PlannedMutation, { eventTime: number; visibleAt: number } | null>();
  for (const [acct, trail] of trails) {
    const of = sent.filter((s) => accountOf(s.m) === acct);
    const found = matchTrail(
      of.map((s) => ({ eventName: TRAIL_EVENT[s.m.kind], sentAt: s.sentAt })),
      trail,
    );
    of.forEach((s, i) => out.set(s.m, found[i] ?? null));
  }
  return out;
}

async function runStarts(
  p: Pipeline,
  ids: string[],
): Promise<Map<string, { kind: string; startedAt: number }>> {
  if (!ids.length) return new Map();
  const r = await p.db
    .selectFrom("runs")
    .select(["id", "kind", "started_at"])
    .where("id", "in", ids)
    .execute();
  return new Map(r.map((x) => [x.id, { kind: x.kind, startedAt: new Date(x.started_at).getTime() }]));
}

async function feedTotals(p: Pipeline): Promise<Record<string, number>> {
  const r = await sql<Record<string, number>>`
    SELECT count(*)::int AS feeds, coalesce(sum(events_seen), 0)::int AS "eventsSeen",
           coalesce(sum(events_translated), 0)::int AS "eventsTranslated",
           coalesce(sum(events_ignored), 0)::int AS "eventsIgnored",
           coalesce(sum(events_unknown), 0)::int AS "eventsUnknown"
      FROM feed_cursors WHERE source_id = ${p.sourceId}`.execute(p.db);
  return r.rows[0] ?? {};
}

async function runsSince(p: Pipeline, sinceMs: number) {
  const r = await sql<{ kind: string; status: string; n: number }>`
    SELECT kind, status, count(*)::int AS n FROM runs
     WHERE source_id = ${p.sourceId} AND kind <> 'feed' AND started_at >= to_timestamp(${sinceMs / 1000})
     GROUP BY kind, status ORDER BY kind, status`.execute(p.db);
  return r.rows;
}

/** The mutation phase: mutations at a steady rate, every expected event awaited, then the calls counted. */
async function mutationPhase(
  sim: Sim,
  p: Pipeline,
  plan: PlannedMutation[],
  o: FreshnessOptions,
  firstRunId: string,
) {
  const matcher = createMatcher({ ignoreRuns: [firstRunId] });
  const sub = watchEvents(p.nc, `${p.subjects.prefix}.events.${p.sourceId}.>`, matcher);
  const before = await sim.get<Counters>("/_sim/counters");
  const startEpoch = Date.now() / 1000;
  const cpu0 = cpuSnapshot(p.procs, sim.proc.pid);
  log(`mutation phase: ${plan.length} mutations, one every ${sec(o.intervalMs)}`);
  const sent = await applyMutations(sim, plan, matcher, o.intervalMs);
  const lastSent = Math.max(...sent.map((s) => s.sentAt));
  const allArrived = await waitUntil(
    () => `${matcher.pending()} events`,
    p,
    () => Promise.resolve(matcher.pending() === sent.filter((s) => s.error).length),
    lastSent + o.eventTimeoutS * 1000 - Date.now(),
  );
  if (!allArrived)
    log(`  ${matcher.pending()} events missed (none within ${o.eventTimeoutS} s of its mutation)`);
  await waitUntil("the refreshes to settle", p, () => settled(p), 120_000);
  const after = await sim.get<Counters>("/_sim/counters");
  const seconds = Date.now() / 1000 - startEpoch;
  const { machineBusy } = cpuSince(cpu0, p.procs, sim.proc.pid);
  sub.unsubscribe();
  const arrivals = sent.map((s) => ({ s, a: matcher.arrival(s.m.expect) }));
  const runs = await runStarts(p, [...new Set(arrivals.flatMap(({ a }) => (a ? [a.runId] : [])))]);
  const trail = await trailEvents(sim, sent);
  const outcomes = arrivals.map(({ s, a }): MutationOutcome => {
    const run = a ? runs.get(a.runId) : undefined;
    const late = a && a.at - s.sentAt > o.eventTimeoutS * 1000;
    const t = trail.get(s.m) ?? null;
    return {
      delayMs: t && t.visibleAt - t.eventTime,
      afterVisibleMs: t && a && !late ? a.at - t.visibleAt : null,
      kind: s.m.kind,
      expect: s.m.expect,
      sentAt: s.sentAt,
      latencyMs: a && !late ? a.at - s.sentAt : null,
      runStartMs: run ? run.startedAt - s.sentAt : null,
      runKind: run?.kind ?? null,
      ...(s.error ? { error: s.error } : {}),
    };
  });
  const counters = diffCounters(before, after);
  return {
    outcomes,
    otherEvents: matcher.others(),
    phase: { startEpoch, seconds, counters, cost: changeCost(counters, sent.filter((s) => !s.error).length) },
    machineBusy,
  };
}

/** The idle phase: nothing changes for `idleS`; what the feeds poll, and anything else called, is counted. */
async function idlePhase(sim: Sim, p: Pipeline, idleS: number) {
  log(`idle phase: ${idleS} s with no change`);
  const before = await sim.get<Counters>("/_sim/counters");
  const fromS = Math.ceil(Date.now() / 1000);
  const cpu0 = cpuSnapshot(p.procs, sim.proc.pid);
  await sleep(fromS * 1000 - Date.now());
  const started = Date.now();
  while (Date.now() - started < idleS * 1000) {
    p.assertAlive();
    await sleep(Math.min(5000, started + idleS * 1000 - Date.now()));
  }
  const toS = Math.floor(Date.now() / 1000);
  const [after, timeline] = await Promise.all([
    sim.get<Counters>("/_sim/counters"),
    sim.get<Record<string, Array<{ t: number; calls: number; throttled: number }>>>("/_sim/timeline"),
  ]);
  const { cpuS, machineBusy } = cpuSince(cpu0, p.procs, sim.proc.pid);
  const counters = diffCounters(before, after);
  // Against AWS's own CloudTrail quota, whatever --quota-scale gave aws-sim and the budgets.
  const rate = DEFAULT_RATE_LIMITS.cloudtrail;
  const steadyFrom = Math.max(fromS, toS - Math.min(120, Math.floor(idleS / 2)));
  const runsStarted = (await runsSince(p, fromS * 1000)).reduce((n, r) => n + r.n, 0);
  return {
    idle: {
      ...idleQuota(counters, timeline, { fromS, toS, rate }),
      steady: idleQuota(counters, timeline, { fromS: steadyFrom, toS, rate }),
      counters,
      runsStarted,
      cpuS,
    },
    machineBusy,
  };
}

/** The whole benchmark: aws-sim, the services with feeds, a first full sync, the mutation phase, the idle phase. */
export async function runFreshness(settings: BenchSettings, o: FreshnessOptions): Promise<FreshnessResult> {
  const delay = delayFigures(o.trailDelay);
  const loadBefore = loadAvg();
  const sim = await startSim({ ...settings, cloudTrailDelay: o.trailDelay });
  const org = await sim.get<OrgDocument>("/_sim/org");
  const plan = planMutations(org, { count: o.mutations, seed: o.seed, kinds: o.kinds });
  log(`aws-sim at ${sim.url}: ${org.accounts.length} accounts; CloudTrail delay ${o.trailDelay}`);
  const p = await startPipeline(sim, settings, { feeds: o.feeds });
  try {
    const runId = await p.requestSync();
    const t0 = Date.now();
    log(`first full sync ${runId} (db ${p.dbName}, prefix ${p.subjects.prefix})`);
    const status = await p.waitForRun(runId);
    const wallMs = Date.now() - t0;
    log(`first full sync: ${status} in ${sec(wallMs)}`);
    if (status !== "succeeded") throw new Error(`the first full sync ended ${status}`);
    await waitUntil("the first sync's aftermath to settle", p, () => settled(p), 120_000);
    const t1 = Date.now();
    if (!(await waitUntil("every feed's first window", p, () => feedsStarted(p), 600_000)))
      log("  not every feed committed a first window within 10 minutes; mutating anyway");
    const firstSync = { status, wallMs, feedsStartMs: Date.now() - t1 };
    log(`feeds started in ${sec(firstSync.feedsStartMs)}`);
    const m = await mutationPhase(sim, p, plan, o, runId);
    const runs = await runsSince(p, m.phase.startEpoch * 1000);
    const i = await idlePhase(sim, p, o.idleS);
    const totals = await feedTotals(p);
    return {
      settings,
      options: o,
      delay,
      org: { accounts: org.accounts.length, feeds: totals.feeds ?? 0 },
      firstSync,
      outcomes: m.outcomes,
      otherEvents: m.otherEvents,
      phase: m.phase,
      runs,
      idle: i.idle,
      feedTotals: totals,
      load: { before: loadBefore, after: loadAvg() },
      machineBusy: { phase: m.machineBusy, idle: i.machineBusy },
    };
  } finally {
    await p.stop();
    await sim.stop();
  }
}
