import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cloudEventType, type GrantlineEvent } from "@grantline/contracts";
import { waitFor } from "@grantline/testing";
import { openTestStreams, type TestStreams } from "./test-streams.ts";
import { watchCancelledRuns } from "./watch-cancelled-runs.ts";

let t: TestStreams;

beforeAll(async () => {
  t = await openTestStreams("wcr");
});
afterAll(() => t.close());

function event(type: "run.cancelled" | "run.completed", runId: string): GrantlineEvent {
  return {
    specversion: "1.0",
    id: randomUUID(),
    source: "grantline/acme",
    type: cloudEventType(type),
    time: new Date().toISOString(),
    subject: `run/${runId}`,
    datacontenttype: "application/json",
    grantlinerunid: runId,
    grantlineinitialload: false,
    data: { runId },
  };
}

describe("watchCancelledRuns", () => {
  it("learns cancelled runs from run.cancelled events and tells their watchers once", async () => {
    const runs = watchCancelledRuns(t);
    await t.nc.flush(); // the subscription is registered before anything is published
    const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
    const told: string[] = [];
    runs.watch(a, () => told.push("a"));
    const stop = runs.watch(b, () => told.push("b"));
    stop();

    // Published as the outbox does: to the events stream, which core subscribers see as well.
    await t.js.publish(t.subjects.event("acme", "run.completed"), JSON.stringify(event("run.completed", c)));
    await t.js.publish(t.subjects.event("acme", "run.cancelled"), "not json");
    await t.js.publish(t.subjects.event("acme", "run.cancelled"), JSON.stringify(event("run.cancelled", a)));
    await t.js.publish(t.subjects.event("other", "run.cancelled"), JSON.stringify(event("run.cancelled", b)));

    await waitFor(() => runs.isCancelled(a) && runs.isCancelled(b));
    expect(runs.isCancelled(c)).toBe(false);
    expect(told).toEqual(["a"]);
  });
});
