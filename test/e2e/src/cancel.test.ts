import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim, type AwsSim } from "@grantline/aws-sim";
import type { SyncReply } from "@grantline/contracts";
import { waitFor } from "@grantline/testing";
import { diffRows, expectedRows } from "./ground-truth.ts";
import {
  createPipeline,
  liveRows,
  readEvents,
  simSource,
  syncAndWait,
  type Pipeline,
} from "./pipeline-harness.ts";

const BIN = fileURLToPath(new URL("../../../cli/bin/grantline.js", import.meta.url));
// Few messages at once and slow AWS answers: the run goes on for many seconds, so it is cancelled mid-way.
const MAX_IN_FLIGHT = 4;
let sim: AwsSim;
let p: Pipeline;

function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH ?? "", ...p.env } });
    let out = "";
    let err = "";
    c.stdout.on("data", (d: Buffer) => (out += d.toString()));
    c.stderr.on("data", (d: Buffer) => (err += d.toString()));
    c.once("exit", (code) => resolve({ code: code ?? 1, out, err }));
  });
}

const calls = () => sim.counters().totals.calls;

async function tasks(runId: string): Promise<Record<string, number>> {
  const rows = await p.db
    .selectFrom("tasks")
    .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
    .where("run_id", "=", runId)
    .groupBy("status")
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

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

    const t0 = Date.now();
    const cancelled = await cli(["cancel", runId, "--json"]);
    expect(cancelled.err).toBe("");
    expect(cancelled.code).toBe(0);
    expect(JSON.parse(cancelled.out)).toMatchObject({ ok: true, runId, alreadyCancelled: false });
    expect(Date.now() - t0).toBeLessThan(5_000);
    const callsAtCancel = calls();

    // Settled in the reply's transaction: cancelled, nothing pending.
    const run = await p.db.selectFrom("runs").selectAll().where("id", "=", runId).executeTakeFirstOrThrow();
    expect(run.status).toBe("cancelled");
    const after = await tasks(runId);
    expect(after.pending).toBeUndefined();
    expect(after.cancelled).toBeGreaterThan(0);

    // Then AWS hears nothing more of this run: the call counter stays put for 2 s.
    let last = { calls: -1, since: Date.now() };
    const settled = await waitFor(
      () => {
        const n = calls();
        if (n !== last.calls) last = { calls: n, since: Date.now() };
        return Date.now() - last.since >= 2_000 ? n : null;
      },
      { timeoutMs: 20_000, intervalMs: 100, message: "AWS calls to stop" },
    );
    // At most the calls already on the wire: the fetcher drops buffered requests of the run and abandons those
    // waiting (MAX_IN_FLIGHT per AWS service in use: sso-admin, identitystore, organizations).
    expect(settled - callsAtCancel).toBeLessThanOrEqual(MAX_IN_FLIGHT * 3);
    // Nothing of the run is left in the pipeline, and its leftovers wrote nothing.
    await waitFor(
      async () => {
        for (const s of [
          p.subjects.streams.pageRequests,
          p.subjects.streams.pageResults,
          p.subjects.streams.batches,
        ])
          if ((await p.jsm.streams.info(s)).state.messages > 0) return false;
        return true;
      },
      { timeoutMs: 20_000, message: "pipeline streams to empty" },
    );
    expect(await tasks(runId)).toEqual(after);

    const events = await waitFor(
      async () => {
        const found = (await readEvents(p, runId)).filter((e) => e.type === "dev.grantline.run.cancelled");
        return found.length > 0 ? found : null;
      },
      { timeoutMs: 10_000, message: "run.cancelled event" },
    );
    expect(events).toHaveLength(1);
    expect(events[0]!.data).toMatchObject({ runId, status: "cancelled" });

    // Cancelling twice is harmless; cancelling a finished or unknown run is a clear error.
    const again = await cli(["cancel", runId, "--json"]);
    expect(JSON.parse(again.out)).toMatchObject({ ok: true, alreadyCancelled: true });
    const unknown = await cli(["cancel", "00000000-0000-4000-8000-000000000000"]);
    expect(unknown.code).toBe(1);
    expect(unknown.err.trim()).toBe("grantline: unknown run 00000000-0000-4000-8000-000000000000");

    sim.setFaults({ latency: null });
    const next = await syncAndWait(p, "acme", 60_000);
    expect(diffRows(expectedRows(sim.exportOrg()), await liveRows(p, "acme"))).toEqual([]);
    const finished = await cli(["cancel", next]);
    expect(finished.code).toBe(1);
    expect(finished.err).toMatch(/already finished \(succeeded\); only a running run can be cancelled/);
  });
});
