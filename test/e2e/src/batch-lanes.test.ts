import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pageRequest, WRITER_DURABLES, type PageRequest, type ResultBatch } from "@grantline/contracts";
import { startRun } from "@grantline/db";
import { waitFor } from "@grantline/testing";
import { createPipeline, diagSource, type Pipeline } from "./pipeline-harness.ts";

const SOURCE = "lanes";
const LEAVES = 300;
let p: Pipeline;

beforeAll(async () => {
  p = await createPipeline({ sources: { sources: [diagSource(SOURCE)] } });
});
afterAll(async () => {
  await p?.close();
});

const request = (runId: string, params: Record<string, unknown>): PageRequest =>
  pageRequest({
    runId,
    sourceId: SOURCE,
    service: "diag",
    operation: "Pages",
    params,
    pageToken: null,
    accountId: null,
    scope: null,
    pageIndex: 0,
  });

const batchFor = (r: PageRequest, children: PageRequest[] = []): ResultBatch => ({
  v: 1,
  taskId: r.taskId,
  runId: r.runId,
  sourceId: SOURCE,
  scope: null,
  resources: [],
  entitlements: [],
  grants: [],
  children,
  scopeComplete: false,
  keepScopes: [],
  stats: { awsCalls: 1, throttled: 0 },
  warnings: [],
});

describe("the writer's chain lane", () => {
  it("applies a batch that queues tasks ahead of a backlog of leaves queued before it", async () => {
    // Started once so its streams and both consumers exist, then stopped: the backlog builds with no writer.
    const first = p.start("writer");
    await waitFor(() => p.jsm.consumers.info(p.subjects.streams.batches, WRITER_DURABLES.chain), {
      timeoutMs: 60_000,
      message: "the writer's chain consumer",
    });
    first.child.kill("SIGTERM");
    await first.exited;

    const runId = randomUUID();
    const leaves = Array.from({ length: LEAVES }, (_, i) => request(runId, { leaf: i }));
    const link = request(runId, { link: true });
    await startRun(p.db, { sourceId: SOURCE, runId, roots: [...leaves, link], subjects: p.subjects });
    for (const r of leaves)
      await p.js.publish(p.subjects.batch(SOURCE), JSON.stringify(batchFor(r)), {
        msgID: `batch:${r.taskId}`,
      });
    // The last to arrive: under one FIFO it would be applied after every leaf.
    const next = request(runId, { link: true, page: 2 });
    await p.js.publish(p.subjects.chainBatch(SOURCE), JSON.stringify(batchFor(link, [next])), {
      msgID: `batch:${link.taskId}`,
    });
    expect((await p.jsm.streams.info(p.subjects.streams.batches)).state.messages).toBe(LEAVES + 1);

    p.start("writer");
    const doneAt = async (taskIds: string[]) =>
      p.db
        .selectFrom("tasks")
        .select(["id", "done_at"])
        .where("id", "in", taskIds)
        .where("status", "=", "done")
        .execute();
    const linkDone = await waitFor(async () => (await doneAt([link.taskId]))[0]?.done_at ?? null, {
      timeoutMs: 60_000,
      message: "the chain batch to be applied",
    });
    const leafIds = leaves.map((r) => r.taskId);
    await waitFor(async () => ((await doneAt(leafIds)).length === LEAVES ? true : null), {
      timeoutMs: 60_000,
      message: "every leaf to be applied",
    });
    const before = (await doneAt(leafIds)).filter((t) => t.done_at! < linkDone).length;
    // Its lane is read apart and the group commit seeds its next group with it: at most a few groups of leaves
    // (4 transactions × 8 batches by default) can have been applied before it, never the backlog.
    expect(before).toBeLessThan(LEAVES / 3);
    // Its child task was queued by its commit.
    const child = await p.db
      .selectFrom("tasks")
      .select("status")
      .where("id", "=", next.taskId)
      .executeTakeFirst();
    expect(child?.status).toBe("pending");
  });
});
