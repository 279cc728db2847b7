import { generateOrg, startAwsSim, type AwsSim } from "@grantline/aws-sim";
import { expectedIamRows, expectedRows, type ExpectedRows } from "@grantline/e2e";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MUTATION_KINDS, planMutations } from "./freshness-plan.ts";

/** Organizations + Identity Center + IAM rows of every active account: what a synced source holds. */
function truth(sim: AwsSim): ExpectedRows {
  const org = sim.exportOrg();
  const a = expectedRows(org);
  const b = expectedIamRows(org);
  return {
    resources: new Map([...a.resources, ...b.resources]),
    entitlements: new Set([...a.entitlements, ...b.entitlements]),
    grants: new Set([...a.grants, ...b.grants]),
  };
}

describe("planMutations", () => {
  const org = generateOrg("small", 1);
  let sim: AwsSim;
  beforeAll(async () => {
    sim = await startAwsSim({ org });
  });
  afterAll(() => sim.close());

  it("cycles through every kind, touches each key once, and is the same for the same seed", () => {
    const plan = planMutations(org, { count: 36, seed: 7 });
    expect(plan).toHaveLength(36);
    expect(plan.slice(0, MUTATION_KINDS.length).map((m) => m.kind)).toEqual([...MUTATION_KINDS]);
    const keys = plan.map((m) => m.expect.split(" ")[1]);
    expect(new Set(keys).size).toBe(keys.length);
    expect(planMutations(org, { count: 36, seed: 7 })).toEqual(plan);
    expect(planMutations(org, { count: 36, seed: 8 })).not.toEqual(plan);
    expect(org).toEqual(generateOrg("small", 1));
  });

  it("predicts the change each mutation makes to the ground truth, applied one after the other", async () => {
    const plan = planMutations(org, { count: 27, seed: 3 });
    for (const m of plan) {
      const before = truth(sim);
      const r = await fetch(`${sim.url}/_sim/mutate/${m.name}`, {
        method: "POST",
        body: JSON.stringify(m.body),
      });
      expect(r.status, `${m.kind} ${await r.text()}`).toBe(200);
      const after = truth(sim);
      const [type, key] = m.expect.split(" ") as [string, string];
      if (type === "grant.created")
        expect([before.grants.has(key), after.grants.has(key)], m.kind).toEqual([false, true]);
      else if (type === "grant.revoked")
        expect([before.grants.has(key), after.grants.has(key)], m.kind).toEqual([true, false]);
      else {
        // A disabled user keeps its name and place: the row is updated in its attributes only.
        expect(type).toBe("resource.updated");
        expect(after.resources.get(key), m.kind).toEqual(before.resources.get(key));
        const userId = key.replace("sso_user/", "");
        expect(sim.exportOrg().identityCenter?.users.find((u) => u.userId === userId)?.active).toBe(false);
      }
    }
  });
});
