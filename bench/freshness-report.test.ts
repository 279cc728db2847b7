import { describe, expect, it } from "vitest";
import type { BenchSettings } from "./bench-settings.ts";
import type { FreshnessResult, MutationOutcome } from "./freshness.ts";
import { freshnessChart, freshnessFigures, freshnessReport } from "./freshness-report.ts";
import { changeCost, idleQuota } from "./freshness-stats.ts";

const empty = { operations: {}, totals: { calls: 0, throttled: 0, errors: 0 } };

function result(latencies: Array<number | null>, calls = 0): FreshnessResult {
  const outcomes = latencies.map((l, i): MutationOutcome => ({
    kind: i % 2 ? "membership-add" : "assignment-create",
    expect: `grant.created g${i}`,
    sentAt: 1_000_000 + i * 2000,
    latencyMs: l,
    runStartMs: l === null ? null : l - 1000,
    runKind: l === null ? null : "refresh",
    delayMs: 3000,
    afterVisibleMs: l === null ? null : l - 3000,
  }));
  const counters = {
    operations: { "sso:ListAccountAssignments": { calls, throttled: 0, errors: 0 } },
    totals: { calls, throttled: 0, errors: 0 },
  };
  const idle = idleQuota(empty, {}, { fromS: 0, toS: 300, rate: 2 });
  return {
    settings: {
      preset: "small",
      scale: 1,
      latency: "30-80",
      replicas: 2,
      env: {},
    } as unknown as BenchSettings,
    options: {
      mutations: latencies.length,
      intervalMs: 2000,
      trailDelay: "10000",
      feeds: {},
      idleS: 300,
      eventTimeoutS: 60,
      seed: 1,
    },
    delay: { p95Ms: 10_000, maxMs: 10_000 },
    org: { accounts: 10, feeds: 14 },
    firstSync: { status: "succeeded", wallMs: 20_000, feedsStartMs: 5000 },
    outcomes,
    otherEvents: 0,
    phase: { startEpoch: 1000, seconds: 60, counters, cost: changeCost(counters, latencies.length) },
    runs: [],
    idle: { ...idle, steady: idle, counters: empty, runsStarted: 0, cpuS: {} },
    feedTotals: {},
    load: { before: "0 0 0", after: "0 0 0" },
    machineBusy: { phase: 0.5, idle: 0.1 },
  };
}

describe("freshness figures", () => {
  it("judges p95 against the delay's p95 + 15 s, and counts calls per change", () => {
    const ok = freshnessFigures(
      result(
        Array.from({ length: 20 }, (_, i) => 10_000 + i * 500),
        60,
      ),
    );
    expect(ok.targetMs).toBe(25_000);
    expect(ok.all.p95).toBe(19_000);
    expect(ok.latencyMet).toBe(true);
    expect(ok.callsMet).toBe(true);
    expect(ok.byKind.map((k) => [k.kind, k.n])).toEqual([
      ["assignment-create", 10],
      ["membership-add", 10],
    ]);
    expect(freshnessFigures(result([1000, 1000, 30_000], 16)).latencyMet).toBe(false);
    expect(freshnessFigures(result([1000, 1000, 1000], 16)).callsMet).toBe(false);
  });

  it("a missed event is later than any target: more than 5 % missed misses the p95", () => {
    const f = freshnessFigures(result([1000, 1000, 1000, null]));
    expect(f.missed).toBe(1);
    expect(f.all.p95).toBe(1000);
    expect(f.latencyMet).toBe(false);
  });

  it("reports and draws every change, a miss as a cross on the top edge", () => {
    const r = result([5000, null, 12_000]);
    expect(freshnessReport(r, "x.svg").join("\n")).toMatch(/missed \(no event within 60 s\) \| 1 \|/);
    const svg = freshnessChart(r);
    expect(svg.match(/<circle cx/g)?.length).toBe(2 + 2); // two changes seen, two legend marks
    expect(svg.match(/>×</g)?.length).toBe(1);
  });
});
