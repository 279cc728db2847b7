// Issue 15, must show 2: random sequences of aws-sim mutations of every kind, interleaved with feed cycles and
// late CloudTrail deliveries; once the feeds caught up, the incrementally synced rows equal a fresh full sync's,
// and the change events since the first full sync are exactly the difference (per subject, latest sequence wins).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_ROLE, startAwsSim, type AwsSim } from "@grantline/aws-sim";
import { waitFor } from "@grantline/testing";
import {
  changeEventsOf,
  diffSources,
  diffStates,
  foldEvents,
  keyedState,
  suspects,
  waitForCatchUp,
  type KeyDifference,
  type KeyedState,
} from "./freshness-convergence.ts";
import { createPipeline, simSource, syncAndWait, type Pipeline } from "./pipeline-harness.ts";
import { MUTATION_KINDS, randomMutations, type SimMutation } from "./random-mutation.ts";

/** Printed on failure: `FRESHNESS_SEED=<n>` replays the same mutation sequence. */
const SEED = Number(process.env.FRESHNESS_SEED ?? Date.now() % 1_000_000);
/** Longest CloudTrail delivery delay aws-sim draws (its distribution's cap). */
const MAX_DELIVERY_MS = 8_000;
/** Mutations between two waits for a feed cycle. */
const BURST = 6;

const LIVE = "live";
const TRUTH = "truth";

let sim: AwsSim;
let p: Pipeline;

beforeAll(async () => {
  sim = await startAwsSim({
    preset: "small",
    seed: 21,
    // Events become visible after a delay drawn per event (not a constant), so they surface out of order and
    // some only after the window that should have seen them: the overlap must find them.
    cloudTrailDelivery: { distribution: "uniform", minMs: 0, maxMs: MAX_DELIVERY_MS },
  } as Parameters<typeof startAwsSim>[0]);
  const iam = { enabled: true, crossAccount: true, roleName: ACCESS_ROLE, onlyAttachedPolicies: true };
  p = await createPipeline({
    sources: {
      sources: [
        simSource(LIVE, sim, {
          iam,
          feeds: { enabled: true, lookback: "10m", overlap: "1m", minInterval: "1s", maxInterval: "2s" },
        }),
        // The ground truth: a full sync of the same organization into a source of its own, feeds off.
        simSource(TRUTH, sim, { iam }),
      ],
    },
  });
  p.startAll();
}, 60_000);

afterAll(async () => {
  await p?.close();
  await sim?.close();
});

function report(title: string, diffs: KeyDifference[], applied: SimMutation[]): string {
  const lines = diffs
    .slice(0, 40)
    .map(
      (d) =>
        `  ${d.key}: expected ${JSON.stringify(d.expected)}, got ${JSON.stringify(d.actual)}` +
        ` — suspects: ${suspects(d.key, applied).join(", ") || "?"}`,
    );
  const kinds = new Set(diffs.flatMap((d) => suspects(d.key, applied).map((s) => s.split(" ")[1])));
  return [
    `${title} (seed ${SEED}; ${diffs.length} difference(s)); mutation kinds that did not converge: ${[...kinds].join(", ") || "unknown"}`,
    ...lines,
  ].join("\n");
}

describe(`freshness property (seed ${SEED})`, () => {
  it("after random mutations of every kind, rows equal a fresh full sync and events are exactly the difference", async () => {
    const firstRun = await syncAndWait(p, LIVE);
    const before: KeyedState = await keyedState(p.db, LIVE);
    // The feeds exist once the first run told the scheduler the accounts.
    await waitFor(
      async () =>
        (await p.db.selectFrom("feed_cursors").select("feed_id").where("source_id", "=", LIVE).execute())
          .length > 0,
      { timeoutMs: 60_000, message: "feeds of the live source" },
    );

    const driver = randomMutations(sim, SEED);
    // Every kind at least once; bursts separated by feed cycles, so windows see mutations on both sides of
    // their edges, and deliveries arrive late across them.
    while (driver.missing().length > 0 && driver.applied.length < MUTATION_KINDS.length * 2) {
      for (let i = 0; i < BURST; i++) driver.next();
      const mark = new Date();
      await waitFor(
        async () =>
          (
            await p.db
              .selectFrom("feed_cursors")
              .select("feed_id")
              .where("source_id", "=", LIVE)
              .where("committed_at", ">", mark)
              .execute()
          ).length > 0,
        { timeoutMs: 60_000, message: `a feed cycle after mutation #${driver.applied.length}` },
      );
    }
    expect(driver.missing(), `seed ${SEED}: mutation kinds never applied`).toEqual([]);
    const settledAt = new Date(Date.now() + MAX_DELIVERY_MS);

    await waitForCatchUp(p, LIVE, settledAt);
    await syncAndWait(p, TRUTH);

    // (a) Rows: the incremental sync converged on what a fresh full sync reads.
    const rows = await diffSources(p.db, TRUTH, LIVE);
    expect(rows, report("rows differ from a fresh full sync", rows, driver.applied)).toEqual([]);

    // (b) Events: since the first full run, folded per subject (latest sequence wins) onto the state after
    // it, they give exactly the state now — none missing, none spurious.
    const after = await keyedState(p.db, LIVE);
    const mine = await changeEventsOf(p, LIVE, firstRun);
    const folded = diffStates(after, foldEvents(before, mine));
    expect(folded, report("events are not the difference", folded, driver.applied)).toEqual([]);
    // No spurious event: every subject with an event since changed state, or some mutation touched it.
    const changed = new Set(diffStates(before, after).map((d) => d.key));
    const spurious = [...new Set(mine.map((e) => e.subject))].filter(
      (s) => /^(grant|resource)\//.test(s) && !changed.has(s) && suspects(s, driver.applied).length === 0,
    );
    expect(spurious, `seed ${SEED}: events for subjects nothing changed`).toEqual([]);
  }, 180_000);
});
