import { expect } from "vitest";
import { waitFor } from "@grantline/testing";
import { readEvents, runCli, type Pipeline } from "./pipeline-harness.ts";

// What every cancel test checks after `grantline cancel` answered, shared by cancel.test.ts (a small
// organization) and cancel-medium.slow.test.ts.

/** Runs the `grantline` CLI against the pipeline's NATS and Postgres. */
export function cli(p: Pipeline, args: string[]): Promise<{ code: number; out: string; err: string }> {
  return runCli(args, p.env);
}

/** A run's tasks counted by status (statuses with no task are absent). */
export async function taskCounts(p: Pipeline, runId: string): Promise<Record<string, number>> {
  const rows = await p.db
    .selectFrom("tasks")
    .select(["status", (eb) => eb.fn.countAll<number>().as("n")])
    .where("run_id", "=", runId)
    .groupBy("status")
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** Waits until AWS's call counter has held still for 2 s and returns it. */
export function awsCallsSettled(calls: () => number): Promise<number> {
  let last = { calls: -1, since: Date.now() };
  return waitFor(
    () => {
      const n = calls();
      if (n !== last.calls) last = { calls: n, since: Date.now() };
      return Date.now() - last.since >= 2_000 ? n : null;
    },
    { timeoutMs: 20_000, intervalMs: 100, message: "AWS calls to stop" },
  );
}

/** Nothing of the cancelled run is left in the pipeline's streams. */
export async function pipelineDrained(p: Pipeline, timeoutMs: number): Promise<void> {
  const streams = [
    p.subjects.streams.pageRequests,
    p.subjects.streams.pageResults,
    p.subjects.streams.batches,
  ];
  await waitFor(
    async () => {
      for (const s of streams) if ((await p.jsm.streams.info(s)).state.messages > 0) return false;
      return true;
    },
    { timeoutMs, message: "pipeline streams to empty" },
  );
}

/** Exactly one `run.cancelled` event was published for the run. */
export async function expectOneCancelledEvent(p: Pipeline, runId: string, timeoutMs: number): Promise<void> {
  const events = await waitFor(
    async () => {
      const found = (await readEvents(p, runId)).filter((e) => e.type === "dev.grantline.run.cancelled");
      return found.length > 0 ? found : null;
    },
    { timeoutMs, message: "run.cancelled event" },
  );
  expect(events).toHaveLength(1);
  expect(events[0]!.data).toMatchObject({ runId, status: "cancelled" });
}
