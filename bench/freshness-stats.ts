// The freshness benchmark's arithmetic: latency percentiles, AWS calls per change beyond the feed polls, and the
// CloudTrail quota the feeds use while nothing changes. Pure, so each figure's definition is unit-tested.
import type { Counters, Timeline } from "./sim-process.ts";

export interface LatencyStats {
  n: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile (the smallest value with at least p % of the values at or below it). */
export function percentile(values: readonly number[], p: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function latencyStats(values: readonly number[]): LatencyStats {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    max: values.length ? Math.max(...values) : NaN,
    mean: values.length ? values.reduce((a, b) => a + b, 0) / values.length : NaN,
  };
}

/** What aws-sim counted between two snapshots (`after − before`), operation by operation. */
export function diffCounters(before: Counters, after: Counters): Counters {
  const operations: Counters["operations"] = {};
  const totals = { calls: 0, throttled: 0, errors: 0 };
  for (const [op, a] of Object.entries(after.operations)) {
    const b = before.operations[op] ?? { calls: 0, throttled: 0, errors: 0 };
    const d = { calls: a.calls - b.calls, throttled: a.throttled - b.throttled, errors: a.errors - b.errors };
    if (!d.calls) continue;
    operations[op] = d;
    totals.calls += d.calls;
    totals.throttled += d.throttled;
    totals.errors += d.errors;
  }
  return { operations, totals };
}

/** The feed polls: every other AWS call is the cost of the changes. */
export const FEED_POLL_OPERATION = "cloudtrail:LookupEvents";
const isIdentityCenter = (op: string): boolean => op.startsWith("sso:") || op.startsWith("identitystore:");

export interface ChangeCost {
  /** AWS calls beyond the feed polls (throttled attempts included: AWS counts them). */
  calls: number;
  polls: number;
  perChange: number;
  /**
   * The same without STS: a member account's feed poll needs its role's credentials too, so AssumeRole is partly
   * the polls' cost (the idle phase shows how much).
   */
  perChangeWithoutSts: number;
  byOperation: Array<[string, number]>;
}

/** AWS calls per change, beyond the feed polls, over a phase in which `changes` mutations were made. */
export function changeCost(phase: Counters, changes: number): ChangeCost {
  const byOperation = Object.entries(phase.operations)
    .filter(([op]) => op !== FEED_POLL_OPERATION)
    .map(([op, c]): [string, number] => [op, c.calls])
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const calls = byOperation.reduce((n, [, c]) => n + c, 0);
  const sts = byOperation.filter(([op]) => op.startsWith("sts:")).reduce((n, [, c]) => n + c, 0);
  return {
    calls,
    polls: phase.operations[FEED_POLL_OPERATION]?.calls ?? 0,
    perChange: changes ? calls / changes : NaN,
    perChangeWithoutSts: changes ? (calls - sts) / changes : NaN,
    byOperation,
  };
}

export interface IdleQuota {
  seconds: number;
  polls: number;
  /** CloudTrail quota scopes (account, or account and region) polled in the window. */
  scopes: number;
  /** Polls per second of the busiest scope, and its share of the quota. */
  busiest: { scope: string; perSecond: number; share: number };
  /** The mean over the polled scopes. */
  meanShare: number;
  identityCenterCalls: number;
  /** Every other call (not a feed poll, not Identity Center): the cost of doing nothing, which should be 0. */
  otherCalls: Array<[string, number]>;
}

/**
 * The quota the feeds use while idle, over `[fromS, toS)` (epoch seconds): LookupEvents calls per CloudTrail quota
 * scope (aws-sim's timeline: `cloudtrail:<account>` or `cloudtrail:<account>:<region>`) per second, ÷ `rate`.
 */
export function idleQuota(
  phase: Counters,
  timeline: Timeline,
  o: { fromS: number; toS: number; rate: number },
): IdleQuota {
  const seconds = o.toS - o.fromS;
  const perScope: Array<[string, number]> = [];
  for (const [scope, pts] of Object.entries(timeline)) {
    if (!scope.startsWith("cloudtrail:")) continue;
    const calls = pts.filter((p) => p.t >= o.fromS && p.t < o.toS).reduce((n, p) => n + p.calls, 0);
    if (calls) perScope.push([scope, calls]);
  }
  perScope.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const [scope, calls] = perScope[0] ?? ["-", 0];
  const polls = perScope.reduce((n, [, c]) => n + c, 0);
  const ops = Object.entries(phase.operations);
  return {
    seconds,
    polls,
    scopes: perScope.length,
    busiest: { scope, perSecond: calls / seconds, share: calls / seconds / o.rate },
    meanShare: perScope.length ? polls / perScope.length / seconds / o.rate : 0,
    identityCenterCalls: ops.filter(([op]) => isIdentityCenter(op)).reduce((n, [, c]) => n + c.calls, 0),
    otherCalls: ops
      .filter(([op]) => op !== FEED_POLL_OPERATION && !isIdentityCenter(op))
      .map(([op, c]): [string, number] => [op, c.calls]),
  };
}

/** CloudTrail delivery delay as aws-sim's `--cloudtrail-delay` states it: its p95 and its bound, in ms. */
export interface DelayFigures {
  p95Ms: number;
  /** Infinity for an unbounded lognormal. */
  maxMs: number;
}

/**
 * `MS`, `uniform:MIN-MAX`, `lognormal:MEDIAN,P95[,MAX]` (ms) or the JSON form (`{"kind":"fixed","ms":…}` …). The
 * target "p95 ≤ the configured delivery delay + 15 s" reads the distribution's p95 (a fixed delay is its own).
 */
export function delayFigures(spec: string): DelayFigures {
  const t = spec.trim();
  if (t.startsWith("{")) {
    const d = JSON.parse(t) as { kind?: string; ms?: number; minMs?: number; maxMs?: number; p95Ms?: number };
    if (d.kind === "fixed" && d.ms !== undefined) return { p95Ms: d.ms, maxMs: d.ms };
    if (d.kind === "uniform" && d.minMs !== undefined && d.maxMs !== undefined)
      return { p95Ms: d.minMs + 0.95 * (d.maxMs - d.minMs), maxMs: d.maxMs };
    if (d.kind === "lognormal" && d.p95Ms !== undefined)
      return { p95Ms: Math.min(d.p95Ms, d.maxMs ?? Infinity), maxMs: d.maxMs ?? Infinity };
  }
  if (/^\d+$/.test(t)) return { p95Ms: Number(t), maxMs: Number(t) };
  const u = /^uniform:(\d+)-(\d+)$/.exec(t);
  if (u) return { p95Ms: Number(u[1]) + 0.95 * (Number(u[2]) - Number(u[1])), maxMs: Number(u[2]) };
  const l = /^lognormal:(\d+),(\d+)(?:,(\d+))?$/.exec(t);
  if (l) {
    const max = l[3] === undefined ? Infinity : Number(l[3]);
    return { p95Ms: Math.min(Number(l[2]), max), maxMs: max };
  }
  throw new Error(
    `--trail-delay: expected MS, uniform:MIN-MAX or lognormal:MEDIAN,P95[,MAX] (ms), got "${spec}"`,
  );
}

/** One event of aws-sim's `GET /_sim/trail`: when it happened and when LookupEvents could first see it. */
export interface TrailEntry {
  eventName: string;
  eventTime: string;
  visibleAt: string;
  readOnly?: boolean;
}

/**
 * Each change's own CloudTrail event: the write event of its name nearest to when it was sent (within 10 s), each
 * event taken once. Its `visibleAt` splits a latency into CloudTrail's delay and what grantline added after it.
 */
export function matchTrail(
  changes: ReadonlyArray<{ eventName: string; sentAt: number }>,
  trail: readonly TrailEntry[],
): Array<{ eventTime: number; visibleAt: number } | null> {
  const used = new Set<number>();
  return changes.map((c) => {
    let best = -1;
    let bestGap = 10_000;
    for (const [i, e] of trail.entries()) {
      if (used.has(i) || e.readOnly || e.eventName !== c.eventName) continue;
      const gap = Math.abs(Date.parse(e.eventTime) - c.sentAt);
      if (gap <= bestGap) [best, bestGap] = [i, gap];
    }
    const e = trail[best];
    if (!e) return null;
    used.add(best);
    return { eventTime: Date.parse(e.eventTime), visibleAt: Date.parse(e.visibleAt) };
  });
}
