import { describe, expect, it } from "vitest";
import {
  changeCost,
  delayFigures,
  diffCounters,
  idleQuota,
  latencyStats,
  matchTrail,
  percentile,
} from "./freshness-stats.ts";
import { createMatcher, eventKey } from "./freshness-watch.ts";
import type { Counters } from "./sim-process.ts";

const counters = (ops: Record<string, number>): Counters => {
  const operations = Object.fromEntries(
    Object.entries(ops).map(([k, calls]) => [k, { calls, throttled: 0, errors: 0 }]),
  );
  const calls = Object.values(ops).reduce((a, b) => a + b, 0);
  return { operations, totals: { calls, throttled: 0, errors: 0 } };
};

describe("latency figures", () => {
  it("nearest-rank percentiles", () => {
    const v = Array.from({ length: 20 }, (_, i) => 20 - i); // 20..1, unsorted on purpose
    expect(percentile(v, 50)).toBe(10);
    expect(percentile(v, 95)).toBe(19);
    expect(percentile(v, 100)).toBe(20);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 95)).toBeNaN();
    expect(latencyStats([1, 2, 3, 10])).toEqual({ n: 4, p50: 2, p95: 10, max: 10, mean: 4 });
  });
});

describe("AWS calls per change", () => {
  it("counts only what the phase added, beyond the feed polls", () => {
    const before = counters({ "cloudtrail:LookupEvents": 100, "sso:ListAccountAssignments": 800 });
    const after = counters({
      "cloudtrail:LookupEvents": 160,
      "sso:ListAccountAssignments": 812,
      "identitystore:ListGroupMemberships": 4,
      "iam:GetRole": 4,
      "sts:AssumeRole": 10,
    });
    const phase = diffCounters(before, after);
    expect(phase.totals.calls).toBe(90);
    const c = changeCost(phase, 10);
    expect(c).toEqual({
      calls: 30,
      polls: 60,
      perChange: 3,
      perChangeWithoutSts: 2,
      byOperation: [
        ["sso:ListAccountAssignments", 12],
        ["sts:AssumeRole", 10],
        ["iam:GetRole", 4],
        ["identitystore:ListGroupMemberships", 4],
      ],
    });
  });
});

describe("idle quota", () => {
  it("polls per second of the busiest CloudTrail scope over the window, ÷ the quota", () => {
    const timeline = {
      "cloudtrail:111111111111": [
        { t: 99, calls: 50, throttled: 0 }, // before the window
        { t: 100, calls: 1, throttled: 0 },
        { t: 150, calls: 2, throttled: 0 },
        { t: 199, calls: 1, throttled: 0 },
        { t: 200, calls: 9, throttled: 0 }, // after it
      ],
      "cloudtrail:222222222222": [{ t: 120, calls: 1, throttled: 0 }],
      "sso:arn": [{ t: 120, calls: 3, throttled: 0 }],
    };
    const q = idleQuota(
      counters({ "cloudtrail:LookupEvents": 5, "sso:ListInstances": 3, "sts:AssumeRole": 1 }),
      timeline,
      {
        fromS: 100,
        toS: 200,
        rate: 2,
      },
    );
    expect(q.polls).toBe(5);
    expect(q.scopes).toBe(2);
    expect(q.busiest).toEqual({ scope: "cloudtrail:111111111111", perSecond: 0.04, share: 0.02 });
    expect(q.meanShare).toBeCloseTo(0.0125);
    expect(q.identityCenterCalls).toBe(3);
    expect(q.otherCalls).toEqual([["sts:AssumeRole", 1]]);
  });
});

describe("event matching", () => {
  it("keys events as the e2e tests do", () => {
    expect(eventKey({ type: "dev.grantline.grant.created", data: { grantId: "e:sso_user:u" } })).toBe(
      "grant.created e:sso_user:u",
    );
    expect(
      eventKey({
        type: "dev.grantline.resource.updated",
        data: { resourceType: "sso_user", resourceId: "u1" },
      }),
    ).toBe("resource.updated sso_user/u1");
    expect(eventKey({ type: "dev.grantline.run.completed", data: {} })).toBeNull();
  });

  it("takes the first arrival after the mutation was sent; anything else is counted apart", () => {
    const m = createMatcher();
    m.expect("grant.created g1", 1000);
    m.expect("grant.revoked g2", 2000);
    expect(() => m.expect("grant.created g1", 3000)).toThrow();
    m.observe("grant.revoked g2", { at: 1500, runId: "full" }); // before the mutation: not its event
    m.observe("grant.created g1", { at: 4000, runId: "r1" });
    m.observe("grant.created g1", { at: 4100, runId: "r1" }); // redelivery
    m.observe("resource.created x", { at: 4200, runId: "r1" });
    const first = createMatcher({ ignoreRuns: ["full"] });
    first.observe("grant.created g0", { at: 1, runId: "full" }); // the first sync's straggler
    expect(first.others()).toBe(0);
    expect(m.arrival("grant.created g1")).toEqual({ at: 4000, runId: "r1" });
    expect(m.arrival("grant.revoked g2")).toBeNull();
    expect(m.pending()).toBe(1);
    expect(m.others()).toBe(3);
  });
});

describe("delivery delay figures", () => {
  it("reads the p95 and the bound of every form aws-sim takes", () => {
    expect(delayFigures("30000")).toEqual({ p95Ms: 30000, maxMs: 30000 });
    expect(delayFigures("uniform:0-20000")).toEqual({ p95Ms: 19000, maxMs: 20000 });
    expect(delayFigures("lognormal:15000,40000,60000")).toEqual({ p95Ms: 40000, maxMs: 60000 });
    expect(delayFigures("lognormal:15000,40000")).toEqual({ p95Ms: 40000, maxMs: Infinity });
    expect(delayFigures('{"kind":"uniform","minMs":1000,"maxMs":3000}')).toEqual({
      p95Ms: 2900,
      maxMs: 3000,
    });
    expect(() => delayFigures("soon")).toThrow(/--trail-delay/);
  });
});

describe("each change's CloudTrail event", () => {
  it("is the nearest write event of its name, each taken once", () => {
    const iso = (ms: number): string => new Date(ms).toISOString();
    const trail = [
      { eventName: "UpdateUser", eventTime: iso(1000), visibleAt: iso(9000), readOnly: true },
      { eventName: "UpdateUser", eventTime: iso(1100), visibleAt: iso(30_000) },
      { eventName: "UpdateUser", eventTime: iso(3100), visibleAt: iso(5000) },
      { eventName: "AttachPolicy", eventTime: iso(2000), visibleAt: iso(4000) },
    ];
    const got = matchTrail(
      [
        { eventName: "UpdateUser", sentAt: 3000 },
        { eventName: "UpdateUser", sentAt: 1000 },
        { eventName: "UpdateUser", sentAt: 1000 }, // its event is taken already
        { eventName: "AttachPolicy", sentAt: 60_000 }, // too far
      ],
      trail,
    );
    expect(got).toEqual([
      { eventTime: 3100, visibleAt: 5000 },
      { eventTime: 1100, visibleAt: 30_000 },
      null,
      null,
    ]);
  });
});
