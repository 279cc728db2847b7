import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SyncReply } from "@grantline/contracts";
import { createPipeline, diagSource, type Pipeline } from "./pipeline-harness.ts";

let p: Pipeline;

beforeAll(async () => {
  p = await createPipeline({
    sources: { sources: [diagSource("huge", { pages: 1, itemsPerPage: 100_000 })] },
  });
  p.startAll();
});
afterAll(async () => {
  await p?.close();
});

describe("a page too large for one batch", () => {
  it("a 100,000-row page reaches the writer in bounded parts: writer alive, every row stored, run succeeds", async () => {
    const r = await p.request<SyncReply>("sync", { sourceId: "huge" });
    if (!r.ok) throw new Error(r.error);
    expect(await p.waitForRun(r.runId, 240_000)).toBe("succeeded");
    const [{ n } = { n: 0 }] = await p.db
      .selectFrom("resources")
      .select(({ fn }) => fn.countAll<number>().as("n"))
      .where("source_id", "=", "huge")
      .where("deleted_at", "is", null)
      .execute();
    expect(Number(n)).toBe(100_000);
    const [task] = await p.db
      .selectFrom("tasks")
      .select(["status", "parts_applied"])
      .where("run_id", "=", r.runId)
      .execute();
    // 100,000 rows at MAX_BATCH_ROWS 5000: 19 parts before the last.
    expect(task?.status).toBe("done");
    expect(task?.parts_applied).toHaveLength(19);
    for (const w of p.services.get("writer") ?? []) expect(w.child.exitCode).toBeNull();
  });
});
