import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim, type AwsSim } from "@grantline/aws-sim";
import { waitFor } from "@grantline/testing";
import { createPipeline, readEvents, simSource, syncAndWait, type Pipeline } from "./pipeline-harness.ts";
import { freeAssignment, provision, requestRow } from "./provisioning-targets.ts";

// Provisioning through crashes: a fetcher SIGKILLed while its assignment operation is IN_PROGRESS, a writer
// SIGKILLed before the confirming re-read is written, and a time-bound grant whose expiry falls due while no
// scheduler runs. Each request still ends in its final, correct state, and the expiry fires once.

let sim: AwsSim;
let p: Pipeline;

beforeAll(async () => {
  // Long enough IN_PROGRESS that a crash lands mid-operation.
  sim = await startAwsSim({ preset: "small", seed: 37, assignmentDelayMs: 4000 });
  p = await createPipeline({
    sources: { sources: [simSource("acme", sim)] },
    env: { FEED_TICK_MS: "200" },
  });
  p.startAll();
  await syncAndWait(p, "acme");
}, 240_000);
afterAll(async () => {
  await p?.close();
  await sim?.close();
});

const outstanding = () => sim.provisioning()[sim.instanceArn!]?.outstanding ?? 0;

describe("provisioning through crashes", () => {
  it("a fetcher killed mid-operation: the redelivered execution finishes the grant, no conflict reaches the caller", async () => {
    const { target, has } = freeAssignment(sim, 0);
    expect(await provision(p, "grant", { id: "kill-fetcher", target, waitSeconds: 0 })).toMatchObject({
      state: "accepted",
    });
    await waitFor(() => outstanding() > 0, {
      timeoutMs: 30_000,
      message: "the assignment operation to start",
    });
    await p.kill("fetcher");
    p.start("fetcher");
    // Asking again with the same id waits for the same request.
    const r = await provision(p, "grant", { id: "kill-fetcher", target });
    expect(r).toMatchObject({ state: "active", existing: true });
    expect(has()).toBe(true);
    expect((await requestRow(p, "kill-fetcher"))?.state).toBe("active");
  });

  it("a writer killed before the re-read is written: confirmed once it is back", async () => {
    const { target, has } = freeAssignment(sim, 1);
    await provision(p, "grant", { id: "kill-writer", target, waitSeconds: 0 });
    await waitFor(() => outstanding() > 0, {
      timeoutMs: 30_000,
      message: "the assignment operation to start",
    });
    await p.kill("writer");
    await waitFor(async () => (await requestRow(p, "kill-writer"))?.aws_done_at, {
      timeoutMs: 60_000,
      message: "AWS to answer while the writer is down",
    });
    expect((await requestRow(p, "kill-writer"))?.state).toBe("executing");
    p.start("writer");
    expect(await provision(p, "grant", { id: "kill-writer", target })).toMatchObject({ state: "active" });
    expect(has()).toBe(true);
  });

  it("an expiry due while no scheduler runs fires once after it, and the access goes", async () => {
    const { target, has } = freeAssignment(sim, 2);
    // Time counts from acceptance: the grant must be made well within its 6 s.
    sim.setFaults({ assignmentDelayMs: 200 });
    const g = await provision(p, "grant", { id: "short", target, durationSeconds: 6 });
    expect(g.state).toBe("active");
    expect(has()).toBe(true);
    await p.kill("scheduler");
    const expiresAt = new Date(g.expiresAt!).getTime();
    // The scheduler stays down until the expiry is past due (no fixed sleep: the condition is the clock).
    await waitFor(() => Date.now() > expiresAt + 1000, {
      timeoutMs: 30_000,
      message: "the expiry to fall due",
    });
    expect(has()).toBe(true);
    p.start("scheduler");
    await waitFor(async () => (await requestRow(p, "expiry:short"))?.state === "done", {
      timeoutMs: 90_000,
      message: "the expiry's revoke to be confirmed",
    });
    expect(has()).toBe(false);
    expect((await requestRow(p, "short"))?.state).toBe("expired");
    const events = (await readEvents(p)).filter(
      (e) => e.data.requestId === "short" || e.data.requestId === "expiry:short",
    );
    expect(events.filter((e) => e.type.endsWith("provisioning.expired"))).toHaveLength(1);
    expect(events.filter((e) => e.type.endsWith("provisioning.confirmed"))).toHaveLength(2);
  });
});
