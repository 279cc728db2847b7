// Issue 15, must show 2: random sequences of aws-sim mutations of every kind, interleaved with feed cycles and
// late CloudTrail deliveries; once the feeds caught up, the incrementally synced rows equal a fresh full sync's,
// and the change events since the first full sync are exactly the difference (per subject, latest sequence wins).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  expectConverged,
  feedCycle,
  firstFullSync,
  startFreshness,
  type FreshnessSetup,
} from "./freshness-convergence.ts";
import { MUTATION_KINDS, randomMutations } from "./random-mutation.ts";

/** Printed in every failure: `FRESHNESS_SEED=<n>` replays the same mutation choices. */
const SEED = Number(process.env.FRESHNESS_SEED ?? Date.now() % 1_000_000);
/** Mutations between two waits for a feed cycle. */
const BURST = 6;

let f: FreshnessSetup | undefined;
beforeAll(async () => {
  f = await startFreshness();
}, 60_000);
afterAll(async () => {
  await f?.p.close();
  await f?.sim.close();
});

describe(`freshness property (seed ${SEED})`, () => {
  it("after random mutations of every kind, rows equal a fresh full sync and events are exactly the difference", async () => {
    const { sim, p, maxDeliveryMs } = f!;
    const first = await firstFullSync(p);
    const driver = randomMutations(sim, SEED);
    // Every kind at least once, in bursts separated by feed cycles: windows see mutations on both sides of their
    // edges, and late deliveries cross them.
    while (driver.missing().length > 0 && driver.applied.length < MUTATION_KINDS.length * 3) {
      for (let i = 0; i < BURST; i++) driver.next();
      await feedCycle(p, new Date(), `mutation #${driver.applied.length}`);
    }
    expect(driver.missing(), `seed ${SEED}: mutation kinds never applied`).toEqual([]);
    await expectConverged(
      p,
      first,
      { seed: SEED, applied: driver.applied },
      new Date(Date.now() + maxDeliveryMs),
    );
  }, 300_000);
});
