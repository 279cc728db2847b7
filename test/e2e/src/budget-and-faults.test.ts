import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim, type AwsSim } from "@grantline/aws-sim";
import { diffRows, expectedRows } from "./ground-truth.ts";
import { createPipeline, simSource, type Pipeline, liveRows, syncAndWait } from "./pipeline-harness.ts";

let sim: AwsSim;
let p: Pipeline;
const SSO_BUDGET = 8;

beforeAll(async () => {
  sim = await startAwsSim({ preset: "small", seed: 11 });
  p = await createPipeline({
    sources: {
      sources: [
        // The emulator's own limits are off: what is measured is grantline's budget, not AWS pushing back.
        simSource("budgeted", sim, {
          budgets: {
            "sso-admin": SSO_BUDGET,
            identitystore: 50,
            organizations: 50,
            iam: 50,
            sts: 50,
            cloudtrail: 2,
          },
        }),
        simSource("stormy", sim),
      ],
    },
  });
  p.startAll();
  p.start("fetcher"); // two fetcher replicas share the Redis budgets
});
afterAll(async () => {
  await p?.close();
  await sim?.close();
});

describe("AWS budgets and faults", () => {
  it("two fetcher replicas together never exceed a budget", async () => {
    sim.resetCounters();
    await syncAndWait(p, "budgeted");
    const scopes = Object.entries(sim.timeline()).filter(([scope]) => scope.startsWith("sso"));
    expect(scopes.length).toBeGreaterThan(0);
    for (const [scope, points] of scopes) {
      const bySecond = new Map(points.map((pt) => [pt.t, pt.calls]));
      const seconds = [...bySecond.keys()].sort((a, b) => a - b);
      const first = seconds[0]!;
      const last = seconds[seconds.length - 1]!;
      // Any 5-second window holds at most 5 seconds of budget plus one burst.
      for (let t = first; t + 4 <= last; t++) {
        let sum = 0;
        for (let k = 0; k < 5; k++) sum += bySecond.get(t + k) ?? 0;
        expect(sum, `${scope} calls in [${t}, ${t + 4}]`).toBeLessThanOrEqual(5 * SSO_BUDGET + SSO_BUDGET);
      }
      const total = points.reduce((s, pt) => s + pt.calls, 0);
      if (total > 3 * SSO_BUDGET) expect(total / (last - first + 1)).toBeLessThanOrEqual(SSO_BUDGET * 1.2);
    }
    expect(diffRows(expectedRows(sim.exportOrg()), await liveRows(p, "budgeted"))).toEqual([]);
  });

  it("a storm of throttling and 5xx errors: the run completes, correct", async () => {
    sim.setFaults({ errorRate: 0.15, throttleFirstAttempt: true });
    try {
      await syncAndWait(p, "stormy");
    } finally {
      sim.setFaults({ errorRate: 0, throttleFirstAttempt: false });
    }
    expect(sim.counters().totals.throttled).toBeGreaterThan(0);
    expect(sim.counters().totals.errors).toBeGreaterThan(0);
    expect(diffRows(expectedRows(sim.exportOrg()), await liveRows(p, "stormy"))).toEqual([]);
  });
});
