import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SyncReply } from "@grantline/contracts";
import { waitFor } from "@grantline/testing";
import { createPipeline, diagSource, type Pipeline } from "./pipeline-harness.ts";

const STALL_MS = 3000;
let p: Pipeline;

beforeAll(async () => {
  p = await createPipeline({
    sources: {
      sources: [
        // Its page request fails (retryably) on every delivery: a message that keeps being retried.
        diagSource("retrying", { pages: 2, failUntilDelivery: 100 }),
        diagSource("lost", { pages: 3 }),
      ],
    },
    env: { STALL_TIMEOUT_MS: String(STALL_MS) },
  });
});
afterAll(async () => {
  await p?.close();
});

const start = async (sourceId: string) => {
  const r = await p.request<SyncReply>("sync", { sourceId });
  if (!r.ok) throw new Error(r.error);
  return r.runId;
};

describe("stalled-task recovery", () => {
  it("re-publishes a lost page request, and not the one that keeps being retried, without waiting for it", async () => {
    // No fetcher yet: both runs' root requests wait in the stream.
    p.start("scheduler");
    const retrying = await start("retrying");
    const lost = await start("lost");
    await waitFor(
      async () => (await p.jsm.streams.info(p.subjects.streams.pageRequests)).state.messages >= 2,
    );
    // Lose one run's request, as a lost message would be.
    await p.jsm.streams.purge(p.subjects.streams.pageRequests, { filter: p.subjects.pageRequestsOf("lost") });
    for (const s of ["fetcher", "mapper", "writer"] as const) p.start(s);
    // The other request is now in flight at the fetcher, failing and redelivered: the pipeline is never idle.
    await waitFor(() => /simulated transient failure \(delivery 2/.test(p.logs("fetcher")), {
      timeoutMs: 60_000,
    });
    // The pipeline is up; its start-up (slow on a loaded machine) is not what is measured.
    const runningAt = Date.now();

    expect(await p.waitForRun(lost, 60_000)).toBe("succeeded");
    // Recovered within one stall timeout, plus ticks and the three pages (slower on a loaded machine) — not
    // after the other message's retries end (~25 minutes of deliveries), which is when it used to be.
    expect(Date.now() - runningAt).toBeLessThan(STALL_MS + 30_000);
    expect(p.logs("scheduler")).toMatch(/re-published stalled tasks/);
    const other = await p.db
      .selectFrom("runs")
      .select("status")
      .where("id", "=", retrying)
      .executeTakeFirst();
    expect(other?.status).toBe("running");
    // Its request is still in the fetcher's queue (being retried): slow, not lost, so never copied — it used
    // to be re-published with the lost one, and fetched once more per copy.
    const copies = await p.db
      .selectFrom("tasks")
      .select("publish_count")
      .where("run_id", "=", retrying)
      .execute();
    expect(copies.map((t) => t.publish_count)).toEqual([1]);
  });
});
