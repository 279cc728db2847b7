import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim, type AwsSim } from "@grantline/aws-sim";
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

// Few messages at once and slow AWS answers: the run goes on for many seconds, so it is cancelled mid-way.
const MAX_IN_FLIGHT = 4;
let sim: AwsSim;
let p: Pipeline;

const calls = () => sim.counters().totals.calls;
const tasks = (runId: string) => taskCounts(p, runId);

beforeAll(async () => {
  sim = await startAwsSim({ preset: "small", seed: 11, latency: { minMs: 250, maxMs: 350 } });
  p = await createPipeline({
    sources: { sources: [simSource("acme", sim)] },
    env: { MAX_IN_FLIGHT: String(MAX_IN_FLIGHT) },
  });
  p.startAll();
});
afterAll(async () => {
  await p?.close();
  await sim?.close();
});

describe("cancelling a run", () => {
  it("stops a running sync at once; a new sync of the source then reaches ground truth", async () => {
    const started = await p.request<SyncReply>("sync", { sourceId: "acme" });
    if (!started.ok) throw new Error(started.error);
    const { runId } = started;
    // Well under way: pages written, more queued.
    await waitFor(async () => ((await tasks(runId)).done ?? 0) >= 10, { timeoutMs: 60_000 });

    // "At once" is what the reply means, not a time bound (a timed assertion fails on a loaded machine):
    // when it arrives, the run is already settled (below) and AWS hears no more of it.
    const cancelled = await cli(p, ["cancel", runId, "--json"]);
    expect(cancelled.err).toBe("");
    expect(cancelled.code).toBe(0);
    expect(JSON.parse(cancelled.out)).toMatchObject({ ok: true, runId, alreadyCancelled: false });
    const callsAtCancel = calls();

    // Settled in the reply's transaction: cancelled, nothing pending.
    const run = await p.db.selectFrom("runs").selectAll().where("id", "=", runId).executeTakeFirstOrThrow();
    expect(run.status).toBe("cancelled");
    const after = await tasks(runId);
    expect(after.pending).toBeUndefined();
    expect(after.cancelled).toBeGreaterThan(0);

    // Then AWS hears nothing more of this run: the call counter stays put for 2 s.
    const settled = await awsCallsSettled(calls);
    // At most the calls already on the wire: the fetcher drops buffered requests of the run and abandons those
    // waiting (MAX_IN_FLIGHT per AWS service in use: sso-admin, identitystore, organizations).
    expect(settled - callsAtCancel).toBeLessThanOrEqual(MAX_IN_FLIGHT * 3);
    // Nothing of the run is left in the pipeline, and its leftovers wrote nothing.
    await pipelineDrained(p, 20_000);
    expect(await tasks(runId)).toEqual(after);

    await expectOneCancelledEvent(p, runId, 10_000);

    // Cancelling twice is harmless; cancelling a finished or unknown run is a clear error.
    const again = await cli(p, ["cancel", runId, "--json"]);
    expect(JSON.parse(again.out)).toMatchObject({ ok: true, alreadyCancelled: true });
    const unknown = await cli(p, ["cancel", "00000000-0000-4000-8000-000000000000"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err.trim()).toBe("grantline: unknown run 00000000-0000-4000-8000-000000000000");

    sim.setFaults({ latency: null });
    const next = await syncAndWait(p, "acme", 60_000);
    expect(diffRows(expectedRows(sim.exportOrg()), await liveRows(p, "acme"))).toEqual([]);
    const finished = await cli(p, ["cancel", next]);
    expect(finished.code).toBe(1);
    expect(finished.err).toMatch(/already finished \(succeeded\); only a running run can be cancelled/);
  });
});
