import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_RATE_LIMITS, startAwsSim, type AwsSim } from "@grantline/aws-sim";
import type { SyncReply } from "@grantline/contracts";
import { waitFor } from "@grantline/testing";
import {
  awsCallsSettled,
  cli,
  expectOneCancelledEvent,
  pipelineDrained,
  taskCounts,
} from "./cancel-checks.ts";
import { diffRows, expectedRows } from "./ground-truth.ts";
import { createPipeline, liveRows, simSource, syncAndWait, type Pipeline } from "./pipeline-harness.ts";

// `grantline cancel` on a medium organization (100 accounts, 40 permission sets, ~800 pairs, 2,000 users,
// 200 groups), cancelled well into the run: the same promises as cancel.test.ts at a size where a run holds
// hundreds of pending tasks and a full queue of page requests when it is cancelled.
// aws-sim runs AWS's quotas and grantline's budgets match them, both scaled so that a full sync of the
// organization takes a few dozen seconds (sso-admin: ~1,000 calls at 20 × QUOTA_SCALE per second).
const QUOTA_SCALE = 2;
const MAX_IN_FLIGHT = 16;
const SOURCE = "medium";
let sim: AwsSim;
let p: Pipeline;

const calls = () => sim.counters().totals.calls;
const tasks = (runId: string) => taskCounts(p, runId);

beforeAll(async () => {
  const q = DEFAULT_RATE_LIMITS;
  sim = await startAwsSim({
    preset: "medium",
    seed: 5,
    rateLimits: { enabled: true, scale: QUOTA_SCALE },
    latency: { minMs: 20, maxMs: 60 },
  });
  p = await createPipeline({
    sources: {
      sources: [
        simSource(SOURCE, sim, {
          budgets: {
            "sso-admin": q.ssoAdmin * QUOTA_SCALE,
            identitystore: q.identityStore * QUOTA_SCALE,
            organizations: q.organizations * QUOTA_SCALE,
            iam: q.iam * QUOTA_SCALE,
            sts: q.sts * QUOTA_SCALE,
            cloudtrail: q.cloudtrail * QUOTA_SCALE,
          },
        }),
      ],
    },
    env: { MAX_IN_FLIGHT: String(MAX_IN_FLIGHT) },
  });
  p.startAll();
}, 120_000);
afterAll(async () => {
  await p?.close();
  await sim?.close();
});

describe("cancelling a run of a medium organization", () => {
  it("stops it within seconds; a new sync of the source then reaches ground truth", async () => {
    const started = await p.request<SyncReply>("sync", { sourceId: SOURCE });
    if (!started.ok) throw new Error(started.error);
    const { runId } = started;
    // A meaningful part done, much more still to do.
    const before = await waitFor(
      async () => {
        const t = await tasks(runId);
        return (t.done ?? 0) >= 200 && (t.pending ?? 0) >= 100 ? t : null;
      },
      { timeoutMs: 180_000, intervalMs: 200, message: "200 tasks done, 100 pending" },
    );

    // The reply is timed from the moment the CLI's request goes out (seen by a plain subscriber beside the
    // scheduler's) to the CLI's exit: on two cores busy with the run, starting node and tsx alone takes seconds.
    let askedAt = 0;
    const watch = p.nc.subscribe(p.subjects.ctl("cancel"), {
      callback: () => {
        askedAt ||= Date.now();
      },
    });
    await p.nc.flush();
    const t0 = Date.now();
    const cancelled = await cli(p, ["cancel", runId, "--json"]);
    const exitedAt = Date.now();
    watch.unsubscribe();
    expect(cancelled.err).toBe("");
    expect(cancelled.code).toBe(0);
    expect(JSON.parse(cancelled.out)).toMatchObject({ ok: true, runId, alreadyCancelled: false });
    expect(askedAt).toBeGreaterThan(0);
    const replyMs = exitedAt - askedAt;
    expect(replyMs).toBeLessThan(5_000);
    const callsAtCancel = calls();

    // Settled in the reply's transaction: cancelled, nothing pending.
    const run = await p.db.selectFrom("runs").selectAll().where("id", "=", runId).executeTakeFirstOrThrow();
    expect(run.status).toBe("cancelled");
    const after = await tasks(runId);
    expect(after.pending).toBeUndefined();
    expect(after.done ?? 0).toBeGreaterThanOrEqual(before.done ?? 0);
    expect(after.cancelled).toBeGreaterThanOrEqual(100);

    // Then AWS hears nothing more of this run: the call counter stays put for 2 s.
    const settled = await awsCallsSettled(calls);
    // At most the calls already on the wire: the fetcher drops buffered requests of the run and abandons those
    // waiting for their budget (MAX_IN_FLIGHT per AWS service in use: sso-admin, identitystore, organizations).
    expect(settled - callsAtCancel).toBeLessThanOrEqual(MAX_IN_FLIGHT * 3);
    // Nothing of the run is left in the pipeline, and its leftovers wrote nothing.
    await pipelineDrained(p, 30_000);
    expect(await tasks(runId)).toEqual(after);

    await expectOneCancelledEvent(p, runId, 20_000);

    // Cancelling twice is harmless.
    const again = await cli(p, ["cancel", runId, "--json"]);
    expect(JSON.parse(again.out)).toMatchObject({ ok: true, alreadyCancelled: true });

    // The cancelled run's tasks stay as they were while a new full sync of the source runs to ground truth.
    const t1 = Date.now();
    const next = await syncAndWait(p, SOURCE, 240_000);
    console.info(
      `cancel-medium: tasks at cancel ${JSON.stringify(before)} -> ${JSON.stringify(after)}, reply ${replyMs} ms (CLI ${exitedAt - t0} ms), ` +
        `${settled - callsAtCancel} AWS calls after the reply, second sync ${Date.now() - t1} ms`,
    );
    expect(next).not.toBe(runId);
    expect(diffRows(expectedRows(sim.exportOrg()), await liveRows(p, SOURCE))).toEqual([]);
    expect(await tasks(runId)).toEqual(after);
    expect(Object.keys(await tasks(next))).toEqual(["done"]);
    const finished = await cli(p, ["cancel", next]);
    expect(finished.code).toBe(1);
    expect(finished.err).toMatch(/already finished \(succeeded\); only a running run can be cancelled/);
  });
});
