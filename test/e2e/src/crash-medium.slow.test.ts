import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAwsSim, type AwsSim } from "@grantline/aws-sim";
import type { SyncReply } from "@grantline/contracts";
import { waitFor } from "@grantline/testing";
import { diffRows, expectedRows } from "./ground-truth.ts";
import { restartNats, restartPostgres, restartRedis } from "./infra-control.ts";
import { createPipeline, readEvents, simSource, type Pipeline, liveRows } from "./pipeline-harness.ts";

// Three sources over one medium organization: an undisturbed run, one whose services are SIGKILLed in turn,
// and one whose NATS, Redis and Postgres restart under it. All three must end identical.
let sim: AwsSim;
let p: Pipeline;

beforeAll(async () => {
  sim = await startAwsSim({ preset: "medium", seed: 3 });
  p = await createPipeline({
    sources: { sources: ["calm", "killed", "restarted"].map((id) => simSource(id, sim)) },
    env: { STALL_TIMEOUT_MS: "15000", ACK_WAIT_MS: "5000" },
  });
  p.startAll();
  p.start("fetcher");
}, 120_000);
afterAll(async () => {
  await p?.close();
  await sim?.close();
});

async function start(sourceId: string): Promise<string> {
  const r = await p.request<SyncReply>("sync", { sourceId });
  if (!r.ok) throw new Error(r.error);
  return r.runId;
}

async function done(runId: string): Promise<number> {
  const r = await p.db
    .selectFrom("tasks")
    .select(p.db.fn.countAll<number>().as("n"))
    .where("run_id", "=", runId)
    .where("status", "=", "done")
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

async function finished(runId: string): Promise<boolean> {
  const r = await p.db.selectFrom("runs").select("status").where("id", "=", runId).executeTakeFirstOrThrow();
  return r.status !== "running";
}

async function eventTypes(runId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const e of await readEvents(p, runId)) out[e.type] = (out[e.type] ?? 0) + 1;
  return out;
}

describe("crash safety on a medium organization", () => {
  let calmEvents: Record<string, number>;

  it("an undisturbed run matches ground truth", async () => {
    const runId = await start("calm");
    expect(await p.waitForRun(runId, 600_000)).toBe("succeeded");
    expect(diffRows(expectedRows(sim.exportOrg()), await liveRows(p, "calm"))).toEqual([]);
    calmEvents = await eventTypes(runId);
  });

  it("SIGKILL of each service in turn at random moments: same rows, same events, no duplicates", async () => {
    const runId = await start("killed");
    for (const name of ["fetcher", "mapper", "writer", "scheduler", "fetcher"] as const) {
      const target = (await done(runId)) + 20 + Math.floor(Math.random() * 80);
      await waitFor(async () => (await done(runId)) >= target || (await finished(runId)), {
        timeoutMs: 300_000,
      });
      await p.kill(name, "SIGKILL");
      p.start(name);
    }
    expect(await p.waitForRun(runId, 600_000)).toBe("succeeded");
    expect(diffRows(expectedRows(sim.exportOrg()), await liveRows(p, "killed"))).toEqual([]);
    await waitFor(
      async () =>
        (await p.db.selectFrom("outbox").select("id").where("published_at", "is", null).execute()).length ===
        0,
      { timeoutMs: 60_000 },
    );
    expect(await eventTypes(runId)).toEqual(calmEvents);
  });

  it("NATS, Redis and Postgres restarting mid-run: the run completes with the same rows and events", async () => {
    const runId = await start("restarted");
    for (const restart of [restartNats, restartRedis, restartPostgres]) {
      const target = (await done(runId)) + 50;
      // Postgres may be the one restarting: the wait tolerates a failed query and tries again.
      await waitFor(async () => (await done(runId)) >= target || (await finished(runId)), {
        timeoutMs: 300_000,
      });
      restart();
    }
    expect(await p.waitForRun(runId, 600_000)).toBe("succeeded");
    expect(diffRows(expectedRows(sim.exportOrg()), await liveRows(p, "restarted"))).toEqual([]);
    await waitFor(
      async () =>
        (await p.db.selectFrom("outbox").select("id").where("published_at", "is", null).execute()).length ===
        0,
      { timeoutMs: 60_000 },
    );
    expect(await eventTypes(runId)).toEqual(calmEvents);
  });
});
