import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SyncReply } from "@grantline/contracts";
import { waitFor } from "@grantline/testing";
import { createPipeline, diagSource, type Pipeline, type RunningService } from "./pipeline-harness.ts";

let p: Pipeline;

beforeAll(async () => {
  p = await createPipeline({
    sources: { sources: [diagSource("lead", { pages: 3 })] },
    env: { STALL_TIMEOUT_MS: "2000" },
  });
});
afterAll(async () => {
  await p?.close();
});

const leads = (s: RunningService) => s.output.join("").includes("became leader");

describe("scheduler leadership", () => {
  it("one of two replicas leads; when it dies the standby takes over and re-publishes lost work", async () => {
    // Two schedulers; leadership is a Postgres advisory lock, so exactly one holds it.
    const a = p.start("scheduler");
    const b = p.start("scheduler");
    const leader = await waitFor(() => [a, b].find(leads));
    const standby = leader === a ? b : a;
    expect(leads(standby)).toBe(false);

    // Start a run while no fetcher runs: its root task's message sits in the stream.
    const r = await p.request<SyncReply>("sync", { sourceId: "lead" });
    if (!r.ok) throw new Error(r.error);
    // Lose that message (as if the stream had been purged), then kill the leader.
    await waitFor(async () => (await p.jsm.streams.info(p.subjects.streams.pageRequests)).state.messages > 0);
    await p.jsm.streams.purge(p.subjects.streams.pageRequests);
    leader.child.kill("SIGKILL");
    await leader.exited;

    await waitFor(() => leads(standby), { timeoutMs: 30_000 });
    for (const s of ["fetcher", "mapper", "writer"] as const) p.start(s);
    // Only a leader re-publishes stalled tasks: the run completes because the standby took over.
    expect(await p.waitForRun(r.runId, 60_000)).toBe("succeeded");
    expect(standby.output.join("")).toMatch(/re-published stalled tasks/);
  });
});
