import { describe, expect, it } from "vitest";
import type { PageRequest, ResultBatch } from "@grantline/contracts";
import { createGroupCommit, type GroupApply } from "./group-commit.ts";

function batch(taskId: string, runId = "run-a", feed = false): ResultBatch {
  return {
    v: 1,
    taskId,
    runId,
    sourceId: "src",
    scope: null,
    resources: [],
    entitlements: [],
    grants: [],
    children: [],
    scopeComplete: false,
    keepScopes: [],
    stats: { awsCalls: 1, throttled: 0 },
    warnings: [],
    ...(feed ? { feed: { feedId: "f", records: [], windowComplete: true } } : {}),
  };
}

function pageRequest(): PageRequest {
  return {
    v: 1,
    taskId: "t",
    runId: "00000000-0000-4000-8000-000000000000",
    sourceId: "src",
    service: "identitystore",
    operation: "ListUsers",
    params: {},
    pageToken: "p2",
    accountId: null,
    scope: null,
    pageIndex: 1,
  };
}

/**
 * Records every transaction the group commit asks for. Transactions stay open until `release()` — so a test can
 * hold one and watch what queues behind it — and a batch whose task id starts with "bad" fails its transaction.
 */
function recorder() {
  const transactions: string[][] = [];
  let open = 0;
  let maxOpen = 0;
  let gate: Promise<void> = Promise.resolve();
  let release = () => {};
  const tx = async <T>(ids: string[], value: () => T): Promise<T> => {
    transactions.push(ids);
    open++;
    maxOpen = Math.max(maxOpen, open);
    try {
      await gate;
      if (ids.some((id) => id.startsWith("bad"))) throw new Error(`refused ${ids.join(",")}`);
      return value();
    } finally {
      open--;
    }
  };
  const apply: GroupApply<string> = {
    one: (b) => tx([b.taskId], () => `done ${b.taskId}`),
    many: (bs) =>
      tx(
        bs.map((b) => b.taskId),
        () => bs.map((b) => `done ${b.taskId}`),
      ),
    key: (b) => (b.feed ? null : b.runId),
  };
  return {
    apply,
    transactions,
    maxOpen: () => maxOpen,
    hold() {
      gate = new Promise((r) => (release = r));
    },
    release: () => release(),
  };
}

describe("createGroupCommit", () => {
  it("applies the batches waiting for a transaction together, and answers each caller with its own result", async () => {
    const r = recorder();
    const gc = createGroupCommit(r.apply, { maxBatches: 8, waitMs: 0, concurrency: 1 });
    r.hold();
    const first = gc.apply(batch("t1"));
    // t1's transaction is open: these three wait for it, and then share one.
    const rest = ["t2", "t3", "t4"].map((id) => gc.apply(batch(id)));
    expect(gc.waiting()).toBe(3);
    r.release();
    expect(await Promise.all([first, ...rest])).toEqual(["done t1", "done t2", "done t3", "done t4"]);
    expect(r.transactions).toEqual([["t1"], ["t2", "t3", "t4"]]);
  });

  it("lets a group's first batch wait up to waitMs to be joined, and starts a full group at once", async () => {
    const r = recorder();
    const gc = createGroupCommit(r.apply, { maxBatches: 3, waitMs: 60_000, concurrency: 1 });
    const two = ["t1", "t2"].map((id) => gc.apply(batch(id)));
    await Promise.resolve();
    // Nothing starts while the group could still grow…
    expect(r.transactions).toEqual([]);
    // …until it is full.
    const third = gc.apply(batch("t3"));
    expect(await Promise.all([...two, third])).toEqual(["done t1", "done t2", "done t3"]);
    // And a group that does not fill starts when its first batch has waited waitMs.
    const short = createGroupCommit(r.apply, { maxBatches: 3, waitMs: 20, concurrency: 1 });
    expect(await Promise.all(["u1", "u2"].map((id) => short.apply(batch(id))))).toEqual([
      "done u1",
      "done u2",
    ]);
    expect(r.transactions).toEqual([
      ["t1", "t2", "t3"],
      ["u1", "u2"],
    ]);
  });

  it("does not make a batch that queues tasks wait: its group starts at once, with what already waits", async () => {
    const r = recorder();
    const gc = createGroupCommit(r.apply, { maxBatches: 8, waitMs: 60_000, concurrency: 1 });
    const leaf = gc.apply(batch("leaf"));
    await Promise.resolve();
    expect(r.transactions).toEqual([]);
    // A chain's page: its next page is queued by its commit. With a minute's wait, this resolving proves it did not wait.
    const link = gc.apply({ ...batch("link"), children: [{ ...pageRequest(), taskId: "next" }] });
    expect(await Promise.all([leaf, link])).toEqual(["done leaf", "done link"]);
    expect(r.transactions).toEqual([["leaf", "link"]]);
    // Alone, it starts at once too.
    expect(await gc.apply({ ...batch("link2"), children: [{ ...pageRequest(), taskId: "next2" }] })).toBe(
      "done link2",
    );
  });

  it("puts a batch that queues tasks in the next group even behind more leaves than a group holds", async () => {
    const r = recorder();
    const gc = createGroupCommit(r.apply, { maxBatches: 3, waitMs: 0, concurrency: 1 });
    const link = (id: string, runId = "run-a") => ({
      ...batch(id, runId),
      children: [{ ...pageRequest(), taskId: `after-${id}` }],
    });
    r.hold();
    const held = gc.apply(batch("t0"));
    const queued = [
      ...["l1", "l2", "l3", "l4", "l5"].map((id) => gc.apply(batch(id))),
      gc.apply(batch("b1", "run-b")),
      gc.apply(link("c1", "run-b")),
      gc.apply(link("c2")),
    ];
    r.release();
    await Promise.all([held, ...queued]);
    expect(r.transactions).toEqual([
      ["t0"],
      // Seeded by the oldest batch that unblocks work, filled from its run: arrival order within the group.
      ["b1", "c1"],
      // Then c2's, filled with the oldest leaves of its run; arrival order again.
      ["l1", "l2", "c2"],
      ["l3", "l4", "l5"],
    ]);
  });

  it("seeds a group with every part of a chain page, not only the last (which carries the tasks)", async () => {
    const r = recorder();
    const gc = createGroupCommit(r.apply, { maxBatches: 3, waitMs: 0, concurrency: 1 });
    const part = (id: string, index: number): ResultBatch => ({
      ...batch(id),
      part: { index, count: 2 },
      children: index === 1 ? [{ ...pageRequest(), taskId: "next" }] : [],
    });
    r.hold();
    const held = gc.apply(batch("t0"));
    const queued = [
      ...["l1", "l2", "l3", "l4"].map((id) => gc.apply(batch(id))),
      gc.apply(part("p0", 0), "chain"),
      gc.apply(part("p1", 1), "chain"),
    ];
    r.release();
    await Promise.all([held, ...queued]);
    // Seeded with p1 alone (the only part with tasks), the group would be l1, l2, p1: the last part without the
    // first, which applyBatches refuses — and the group would fall back to one by one.
    expect(r.transactions).toEqual([["t0"], ["l1", "p0", "p1"], ["l2", "l3", "l4"]]);
  });

  it("never puts two runs, more than maxBatches, or a feed page in one transaction", async () => {
    const r = recorder();
    const gc = createGroupCommit(r.apply, { maxBatches: 2, waitMs: 0, concurrency: 1 });
    r.hold();
    const held = gc.apply(batch("t0"));
    const queued = [
      gc.apply(batch("a1", "run-a")),
      gc.apply(batch("b1", "run-b")),
      gc.apply(batch("a2", "run-a")),
      gc.apply(batch("a3", "run-a")),
      gc.apply(batch("f1", "run-a", true)),
      gc.apply(batch("b2", "run-b")),
    ];
    r.release();
    await Promise.all([held, ...queued]);
    expect(r.transactions).toEqual([["t0"], ["a1", "a2"], ["b1", "b2"], ["a3"], ["f1"]]);
  });

  it("re-applies a failed group one batch at a time: only the poison batch fails, with its own error", async () => {
    const r = recorder();
    const observed: Array<[number, string]> = [];
    const gc = createGroupCommit(r.apply, {
      maxBatches: 8,
      waitMs: 0,
      concurrency: 1,
      observe: (n, outcome) => observed.push([n, outcome]),
    });
    r.hold();
    const held = gc.apply(batch("t0"));
    const group = [gc.apply(batch("t1")), gc.apply(batch("bad2")), gc.apply(batch("t3"))];
    r.release();
    const settled = await Promise.allSettled([held, ...group]);
    expect(settled.map((s) => (s.status === "fulfilled" ? s.value : (s.reason as Error).message))).toEqual([
      "done t0",
      "done t1",
      "refused bad2",
      "done t3",
    ]);
    expect(r.transactions).toEqual([["t0"], ["t1", "bad2", "t3"], ["t1"], ["bad2"], ["t3"]]);
    expect(observed).toEqual([
      [1, "committed"],
      [3, "split"],
    ]);
  });

  it("keeps at most `concurrency` transactions open, and applies each batch alone when grouping is off", async () => {
    const r = recorder();
    const gc = createGroupCommit(r.apply, { maxBatches: 4, waitMs: 0, concurrency: 2 });
    r.hold();
    const all = Array.from({ length: 9 }, (_, i) => gc.apply(batch(`t${i}`, `run-${i % 3}`)));
    r.release();
    await Promise.all(all);
    expect(r.maxOpen()).toBe(2);
    expect(r.transactions.flat().sort()).toEqual(Array.from({ length: 9 }, (_, i) => `t${i}`).sort());

    const off = recorder();
    const alone = createGroupCommit(off.apply, { maxBatches: 1, waitMs: 1_000, concurrency: 1 });
    await Promise.all(["x", "y"].map((id) => alone.apply(batch(id))));
    expect(off.transactions).toEqual([["x"], ["y"]]);
  });
});
