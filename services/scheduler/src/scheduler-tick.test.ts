import { describe, expect, it } from "vitest";
import { parseSources } from "@grantline/config";
import type { RunSummary, SyncReply } from "@grantline/contracts";
import { createLogger } from "@grantline/log";
import { createSchedulerTick } from "./scheduler-tick.ts";

const logger = createLogger({ service: "test", level: "silent" });
const sources = parseSources({
  sources: [
    { id: "hourly", fullSyncEveryMinutes: 60 },
    { id: "manual", fullSyncEveryMinutes: 0 },
  ],
}).sources;

function run(sourceId: string, status: RunSummary["status"], startedAt: number): RunSummary {
  return {
    runId: "5b1f6a52-8f0e-4c8e-9a55-0f2b4a8f6b11",
    sourceId,
    status,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: null,
    tasksDone: 0,
    tasksPending: 0,
    tasksFailed: 0,
    warnings: [],
    stats: {},
  };
}

function tick(o: { leader: boolean; last?: RunSummary; now: number; recoverable?: string[] }) {
  const started: string[] = [];
  let republished = 0;
  const t = createSchedulerTick({
    sources,
    isLeader: () => o.leader,
    lastRun: (id) => Promise.resolve(id === "hourly" ? o.last : undefined),
    startRun: (id): Promise<SyncReply> => {
      started.push(id);
      return Promise.resolve({
        ok: true,
        runId: "5b1f6a52-8f0e-4c8e-9a55-0f2b4a8f6b11",
        alreadyRunning: false,
      });
    },
    republishStalled: () => Promise.resolve(++republished && 0),
    completeIdle: () => Promise.resolve(0),
    recoverableServices: () => Promise.resolve(o.recoverable ?? ["iam"]),
    logger,
    now: () => o.now,
  });
  return { t, started, republished: () => republished };
}

describe("scheduler tick", () => {
  const hour = 3_600_000;
  it("starts a source's first run, and the next one when its interval has passed", async () => {
    const first = tick({ leader: true, now: 10 * hour });
    await first.t();
    expect(first.started).toEqual(["hourly"]);
    const notYet = tick({ leader: true, last: run("hourly", "succeeded", 10 * hour), now: 10.5 * hour });
    await notYet.t();
    expect(notYet.started).toEqual([]);
    const due = tick({ leader: true, last: run("hourly", "succeeded", 10 * hour), now: 11 * hour });
    await due.t();
    expect(due.started).toEqual(["hourly"]);
  });

  it("never starts a second run while one is running, nor anything on a standby", async () => {
    const running = tick({ leader: true, last: run("hourly", "running", 0), now: 100 * hour });
    await running.t();
    expect(running.started).toEqual([]);
    expect(running.republished()).toBe(1);
    const busy = tick({ leader: true, last: run("hourly", "running", 0), now: 100 * hour, recoverable: [] });
    await busy.t();
    expect(busy.republished()).toBe(0); // queued behind a backlog is not lost
    const standby = tick({ leader: false, now: 100 * hour });
    await standby.t();
    expect(standby.started).toEqual([]);
    expect(standby.republished()).toBe(0);
  });
});
