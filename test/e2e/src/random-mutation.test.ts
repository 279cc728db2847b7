import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OrgDocument, startAwsSim, type AwsSim } from "@grantline/aws-sim";
import { MUTATION_KINDS, randomMutations } from "./random-mutation.ts";

let sim: AwsSim;
beforeAll(async () => {
  sim = await startAwsSim({ preset: "small", seed: 5 });
});
afterAll(async () => {
  await sim?.close();
});

describe("randomMutations", () => {
  it("applies every mutation kind aws-sim has, with arguments it accepts, and leaves a valid organization", () => {
    const seed = 1234;
    const driver = randomMutations(sim, seed);
    for (let i = 0; i < MUTATION_KINDS.length * 3 && driver.missing().length > 0; i++) driver.next();
    expect(driver.missing(), `seed ${seed}; rejected: ${JSON.stringify(driver.rejected)}`).toEqual([]);
    expect(() => OrgDocument.parse(sim.exportOrg())).not.toThrow();
  });
});
