import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SyncReply } from "@grantline/contracts";
import { waitFor } from "@grantline/testing";
import { createPipeline, diagSource, SERVICES, type Pipeline } from "./pipeline-harness.ts";

let p: Pipeline;
const PAGES = 120;
const ITEMS = 5;

beforeAll(async () => {
  p = await createPipeline({
    sources: {
      sources: [
        diagSource("long", { pages: PAGES, itemsPerPage: ITEMS }),
        diagSource("term", { pages: 80, itemsPerPage: 3 }),
      ],
    },
    // Short stall timeout: a page whose message died with a killed process is re-published quickly.
    env: { STALL_TIMEOUT_MS: "8000", ACK_WAIT_MS: "3000" },
  });
  p.startAll();
});
afterAll(async () => {
  await p?.close();
});

async function doneTasks(runId: string): Promise<number> {
  const r = await p.db
    .selectFrom("tasks")
    .select(p.db.fn.countAll<number>().as("n"))
    .where("run_id", "=", runId)
    .where("status", "=", "done")
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

async function eventsBySubject(): Promise<Record<string, number>> {
  const info = await p.jsm.streams.info(p.subjects.streams.events, { subjects_filter: ">" });
  return info.state.subjects ?? {};
}

describe("crash safety", () => {
  it("SIGKILL of each service in turn mid-run: the run completes with exactly the rows and events of an undisturbed run", async () => {
    const r = await p.request<SyncReply>("sync", { sourceId: "long" });
    if (!r.ok) throw new Error(r.error);
    let threshold = 5;
    for (const name of ["writer", "mapper", "fetcher", "scheduler"] as const) {
      await waitFor(async () => (await doneTasks(r.runId)) >= threshold, { timeoutMs: 60_000 });
      const [exit] = await p.kill(name, "SIGKILL");
      expect(exit?.signal).toBe("SIGKILL");
      p.start(name);
      threshold += 15;
    }
    expect(await p.waitForRun(r.runId, 120_000)).toBe("succeeded");

    const items = await p.db
      .selectFrom("resources")
      .select("id")
      .where("source_id", "=", "long")
      .where("deleted_at", "is", null)
      .execute();
    expect(items).toHaveLength(PAGES * ITEMS);
    const tasks = await p.db.selectFrom("tasks").select("status").where("run_id", "=", r.runId).execute();
    expect(tasks).toHaveLength(PAGES);
    expect(tasks.every((t) => t.status === "done")).toBe(true);
    // Every outbox row published, and the events stream holds each event exactly once.
    await waitFor(
      async () =>
        (await p.db.selectFrom("outbox").select("id").where("published_at", "is", null).execute()).length ===
        0,
      { timeoutMs: 30_000 },
    );
    const events = await eventsBySubject();
    expect(events[`${p.prefix}.events.long.resource.created`]).toBe(PAGES * ITEMS);
    expect(events[`${p.prefix}.events.long.run.started`]).toBe(1);
    expect(events[`${p.prefix}.events.long.run.completed`]).toBe(1);
  });

  it("SIGTERM finishes in-flight work and exits 0 within the grace period; a restarted pipeline completes the run", async () => {
    const r = await p.request<SyncReply>("sync", { sourceId: "term" });
    if (!r.ok) throw new Error(r.error);
    await waitFor(async () => (await doneTasks(r.runId)) >= 10, { timeoutMs: 60_000 });
    const grace = Number(p.env.SHUTDOWN_GRACE_MS);
    for (const name of SERVICES) {
      const started = Date.now();
      const [exit] = await p.kill(name, "SIGTERM");
      expect(exit).toEqual({ code: 0, signal: null });
      expect(Date.now() - started).toBeLessThan(grace + 5_000);
      expect(p.logs(name)).toMatch(/shutdown complete/);
    }
    p.startAll();
    expect(await p.waitForRun(r.runId, 120_000)).toBe("succeeded");
    const items = await p.db.selectFrom("resources").select("id").where("source_id", "=", "term").execute();
    expect(items).toHaveLength(240);
  });
});
