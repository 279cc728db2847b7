// Issue 15, must show 4: SIGKILL of each service while incremental cycles (feed windows, targeted refresh runs)
// are in flight loses no change: after restart and catch-up the rows equal a fresh full sync and the events are
// exactly the difference.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@grantline/testing";
import type { ServiceName } from "./pipeline-harness.ts";
import {
  expectConverged,
  firstFullSync,
  LIVE,
  startFreshness,
  type FreshnessSetup,
} from "./freshness-convergence.ts";
import { MUTATION_KINDS, randomMutations } from "./random-mutation.ts";

const SEED = Number(process.env.FRESHNESS_SEED ?? Date.now() % 1_000_000);
const VICTIMS: ServiceName[] = [
  "scheduler",
  "fetcher",
  "mapper",
  "writer",
  "writer",
  "fetcher",
  "scheduler",
  "mapper",
];

let f: FreshnessSetup | undefined;
beforeAll(async () => {
  f = await startFreshness({ preset: "small", env: { STALL_TIMEOUT_MS: "10000", ACK_WAIT_MS: "4000" } });
}, 60_000);
afterAll(async () => {
  await f?.p.close();
  await f?.sim.close();
});

describe(`freshness under SIGKILL (seed ${SEED})`, () => {
  it("killing any service during incremental cycles loses no change", async () => {
    const { sim, p, maxDeliveryMs } = f!;
    const first = await firstFullSync(p);
    const driver = randomMutations(sim, SEED);
    const per = Math.ceil(MUTATION_KINDS.length / VICTIMS.length) + 1;
    for (const victim of VICTIMS) {
      for (let i = 0; i < per; i++) driver.next();
      // Kill while incremental work is in flight: a feed window open or a targeted refresh run going.
      await waitFor(
        async () => {
          const windows = await p.db
            .selectFrom("feed_cursors")
            .select("feed_id")
            .where("source_id", "=", LIVE)
            .where("window_task_id", "is not", null)
            .execute();
          const refreshing = await p.db
            .selectFrom("runs")
            .select("id")
            .where("source_id", "=", LIVE)
            .where("kind", "=", "refresh")
            .where("status", "=", "running")
            .execute();
          return victim === "writer" || victim === "mapper"
            ? refreshing.length > 0 || windows.length > 0
            : windows.length > 0;
        },
        {
          timeoutMs: 60_000,
          intervalMs: 20,
          message: `incremental work in flight before killing the ${victim}`,
        },
      );
      await p.kill(victim, "SIGKILL");
      p.start(victim);
    }
    while (driver.missing().length > 0) driver.next();
    expect(driver.missing()).toEqual([]);
    await expectConverged(
      p,
      first,
      { seed: SEED, applied: driver.applied },
      new Date(Date.now() + maxDeliveryMs),
    );
  }, 600_000);
});
