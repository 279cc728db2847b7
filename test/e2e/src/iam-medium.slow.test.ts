import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_ROLE, startAwsSim, type AwsSim } from "@grantline/aws-sim";
import { diffRows, expectedIamRows, expectedRows, mergeRows } from "./ground-truth.ts";
import { createPipeline, simSource, type Pipeline, liveRows, syncAndWait } from "./pipeline-harness.ts";

// IAM in every account of a medium organization (100 accounts), exact against aws-sim's ground truth, while
// aws-sim hands out 2-second role sessions: the run outlasts every session many times over, so the fetchers
// must re-assume roles before (or as) their credentials expire, and still lose nothing.
let sim: AwsSim;
let p: Pipeline;

beforeAll(async () => {
  sim = await startAwsSim({ preset: "medium", seed: 7 });
  p = await createPipeline({
    sources: {
      sources: [
        simSource("medium-iam", sim, {
          iam: { enabled: true, crossAccount: true, roleName: ACCESS_ROLE, onlyAttachedPolicies: true },
        }),
      ],
    },
  });
  p.startAll();
  p.start("fetcher");
}, 120_000);
afterAll(async () => {
  await p?.close();
  await sim?.close();
});

describe("IAM in every account of a medium organization", () => {
  it("syncs to exactly its ground truth with short-lived role sessions", async () => {
    const org = sim.exportOrg();
    const members = org.accounts.filter(
      (a) => a.status === "ACTIVE" && a.id !== org.organization.managementAccountId,
    );
    expect(members.length).toBeGreaterThan(50);
    sim.setFaults({ sessionDurationOverrideSeconds: 2 });
    sim.resetCounters();
    const started = Date.now();
    try {
      await syncAndWait(p, "medium-iam", 600_000);
    } finally {
      sim.setFaults({ sessionDurationOverrideSeconds: null });
    }
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeGreaterThan(4); // several session lifetimes
    const truth = mergeRows(expectedRows(org), expectedIamRows(org));
    expect([...truth.resources.keys()].filter((k) => k.startsWith("iam_account/"))).toHaveLength(
      members.length + 1,
    );
    expect(diffRows(truth, await liveRows(p, "medium-iam"))).toEqual([]);
    // At least one session per member account, and re-assumed ones beyond that.
    const assumes = sim.counters().operations["sts:AssumeRole"]?.calls ?? 0;
    expect(assumes).toBeGreaterThan(members.length);
  });
});
