import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { PageRequest, PageResult } from "@grantline/contracts";
import { createLogger } from "@grantline/log";
import type { MessageContext } from "@grantline/nats";
import { createFetchHandler, type CancelledRuns, type PageExecutor } from "./fetch-handler.ts";

const logger = createLogger({ service: "test", level: "silent" });

function ctx(): MessageContext {
  return {
    logger,
    signal: new AbortController().signal,
    subject: "t.page.req.acme.sso-admin",
    seq: 1,
    deliveryCount: 1,
    headers: undefined,
    working: () => undefined,
  };
}

function request(runId: string): PageRequest {
  return {
    v: 1,
    taskId: randomUUID(),
    runId,
    sourceId: "acme",
    service: "sso-admin",
    operation: "ListPermissionSets",
    params: {},
    pageToken: null,
    accountId: null,
    scope: null,
    pageIndex: 0,
  };
}

/** Cancelled runs the test controls. */
function cancelledRuns() {
  const ids = new Set<string>();
  const watchers = new Map<string, () => void>();
  const runs: CancelledRuns = {
    isCancelled: (id) => ids.has(id),
    watch(id, fn) {
      watchers.set(id, fn);
      return () => watchers.delete(id);
    },
  };
  return {
    runs,
    watching: (id: string) => watchers.has(id),
    cancel(id: string) {
      ids.add(id);
      watchers.get(id)?.();
    },
  };
}

describe("the fetch handler and cancelled runs", () => {
  it("drops a request of a cancelled run without calling AWS", async () => {
    const c = cancelledRuns();
    const calls: string[] = [];
    const published: PageResult[] = [];
    const handler = createFetchHandler({
      executor: { execute: async (r) => (calls.push(r.taskId), { page: {}, warnings: [] }) },
      publisher: { publish: async (r) => void published.push(r) },
      cancelled: c.runs,
    });
    const runId = randomUUID();
    c.cancel(runId);
    await handler(request(runId), ctx());
    await handler(request(randomUUID()), ctx());
    expect(calls).toHaveLength(1);
    expect(published).toHaveLength(1);
  });

  it("abandons a request waiting for its budget when its run is cancelled: no call, no result, acked", async () => {
    const c = cancelledRuns();
    let aborted = false;
    // Waits for a budget grant that never comes, as a saturated budget would, until its signal aborts.
    const executor: PageExecutor = {
      execute: (_r, { signal }) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener("abort", () => {
            aborted = true;
            reject(signal.reason as Error);
          }),
        ),
    };
    const published: PageResult[] = [];
    const handler = createFetchHandler({
      executor,
      publisher: { publish: async (r) => void published.push(r) },
      cancelled: c.runs,
    });
    const runId = randomUUID();
    const handled = handler(request(runId), ctx());
    expect(c.watching(runId)).toBe(true);
    c.cancel(runId);
    await expect(handled).resolves.toBeUndefined();
    expect(aborted).toBe(true);
    expect(published).toEqual([]);
    expect(c.watching(runId)).toBe(false);
  });

  it("a failure of a run not cancelled still fails the message", async () => {
    const handler = createFetchHandler({
      executor: { execute: async () => Promise.reject(new Error("throttled")) },
      publisher: { publish: async () => undefined },
      cancelled: cancelledRuns().runs,
    });
    await expect(handler(request(randomUUID()), ctx())).rejects.toThrow("throttled");
  });
});
