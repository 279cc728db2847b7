import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseSources } from "@grantline/config";
import { pageRequest, type PageRequest, type RefreshIntent, type RunSummary } from "@grantline/contracts";
import { createLogger } from "@grantline/log";
import { createControlHandlers, type CancelOutcome, type ControlDeps } from "./control-handlers.ts";

const logger = createLogger({ service: "test", level: "silent" });
const ctx = { logger, user: "operator", signal: new AbortController().signal };
const sources = parseSources({ sources: [{ id: "acme", kind: "diag", fullSyncEveryMinutes: 0 }] }).sources;

function fixture(o: { cancel?: CancelOutcome; purgeFails?: boolean; activeRun?: string } = {}) {
  const calls = {
    started: [] as string[],
    purged: [] as string[],
    kicks: 0,
    cancelled: [] as string[],
    queued: [] as RefreshIntent[],
    refreshes: [] as string[],
  };
  const deps: ControlDeps = {
    sources,
    roots: async (source, runId): Promise<PageRequest[]> => [
      pageRequest({
        runId,
        sourceId: source.id,
        service: "diag",
        operation: "Pages",
        params: {},
        pageToken: null,
        accountId: null,
        scope: null,
        pageIndex: 0,
      }),
    ],
    runs: {
      start: async (sourceId, runId) => {
        calls.started.push(sourceId);
        return { runId, alreadyRunning: false };
      },
      summaries: async (): Promise<RunSummary[]> => [],
      cancel: async (runId) => {
        calls.cancelled.push(runId);
        return o.cancel ?? { kind: "unknown", runId };
      },
    },
    provisioning: {
      grant: async () => ({ ok: false, error: "not in this test" }),
      revoke: async () => ({ ok: false, error: "not in this test" }),
      list: async () => [],
      state: async () => undefined,
    },
    queues: {
      purgeSource: async (sourceId) => {
        if (o.purgeFails) throw new Error("nats is down");
        calls.purged.push(sourceId);
        return { pageRequests: 3 };
      },
    },
    refreshes: {
      resolve: async (_sourceId, target) =>
        target === "sso_user:u-1"
          ? { intents: [{ kind: "sso-user", identityStoreId: "d-1", userId: "u-1" }] }
          : { error: `no ${target}` },
      queue: async (_sourceId, intents) => {
        calls.queued.push(...intents);
        return intents.length;
      },
      start: async (sourceId, runId) => {
        calls.refreshes.push(sourceId);
        return o.activeRun
          ? { runId: null, activeRunId: o.activeRun, kind: null, tasks: 0 }
          : { runId, activeRunId: null, kind: "refresh", tasks: 1 };
      },
    },
    kickOutbox: () => void calls.kicks++,
    logger,
  };
  return { handlers: createControlHandlers(deps), calls };
}

describe("the control handlers", () => {
  it("sync starts a run of a configured source and refuses an unknown one", async () => {
    const { handlers, calls } = fixture();
    expect(await handlers.sync({ sourceId: "acme", kind: "full" }, ctx)).toMatchObject({
      ok: true,
      alreadyRunning: false,
    });
    expect(calls).toMatchObject({ started: ["acme"], kicks: 1 });
    expect(await handlers.sync({ sourceId: "nope", kind: "full" }, ctx)).toEqual({
      ok: false,
      error: 'unknown source "nope" (configured: acme)',
    });
  });

  it("refresh queues what the target names and starts a refresh run, or says which run it waits for", async () => {
    const { handlers, calls } = fixture();
    const r = await handlers.refresh({ sourceId: "acme", target: "sso_user:u-1" }, ctx);
    expect(r).toMatchObject({ ok: true, queued: 1, waitingFor: null });
    expect(r.ok && r.runId).toBeTruthy();
    expect(calls).toMatchObject({
      queued: [{ kind: "sso-user", identityStoreId: "d-1", userId: "u-1" }],
      refreshes: ["acme"],
      kicks: 1,
    });
    const active = randomUUID();
    const busy = fixture({ activeRun: active });
    expect(await busy.handlers.refresh({ sourceId: "acme", target: "sso_user:u-1" }, ctx)).toEqual({
      ok: true,
      runId: null,
      queued: 1,
      waitingFor: active,
    });
    expect(busy.calls.kicks).toBe(0);
  });

  it("refresh of an unknown target or source is a clear error and queues nothing", async () => {
    const { handlers, calls } = fixture();
    expect(await handlers.refresh({ sourceId: "acme", target: "sso_user:nobody" }, ctx)).toEqual({
      ok: false,
      error: "no sso_user:nobody",
    });
    expect(await handlers.refresh({ sourceId: "nope", target: "sso_user:u-1" }, ctx)).toEqual({
      ok: false,
      error: 'unknown source "nope" (configured: acme)',
    });
    expect([calls.queued, calls.refreshes]).toEqual([[], []]);
  });

  it("status lists runs", async () => {
    expect(await fixture().handlers.status({}, ctx)).toEqual({ ok: true, runs: [] });
  });

  it("cancel settles the run, then purges its source's queued work and wakes the outbox", async () => {
    const runId = randomUUID();
    const { handlers, calls } = fixture({
      cancel: { kind: "cancelled", runId, sourceId: "acme", tasksCancelled: 7, requestsDropped: 2 },
    });
    expect(await handlers.cancel({ runId }, ctx)).toEqual({
      ok: true,
      runId,
      sourceId: "acme",
      alreadyCancelled: false,
      tasksCancelled: 7,
    });
    expect(calls).toMatchObject({ cancelled: [runId], purged: ["acme"], kicks: 1 });
  });

  it("cancelling again is idempotent and purges nothing (the source may have a newer run by now)", async () => {
    const runId = randomUUID();
    const { handlers, calls } = fixture({ cancel: { kind: "already-cancelled", runId, sourceId: "acme" } });
    expect(await handlers.cancel({ runId }, ctx)).toEqual({
      ok: true,
      runId,
      sourceId: "acme",
      alreadyCancelled: true,
      tasksCancelled: 0,
    });
    expect(calls.purged).toEqual([]);
  });

  it("cancel of a finished or unknown run is a clear error", async () => {
    const runId = randomUUID();
    const finished = fixture({ cancel: { kind: "finished", runId, sourceId: "acme", status: "succeeded" } });
    expect(await finished.handlers.cancel({ runId }, ctx)).toEqual({
      ok: false,
      error: `run ${runId} already finished (succeeded); only a running run can be cancelled`,
    });
    expect(await fixture().handlers.cancel({ runId }, ctx)).toEqual({
      ok: false,
      error: `unknown run ${runId}`,
    });
  });

  it("a failed purge still reports the run cancelled: it is, in the database", async () => {
    const runId = randomUUID();
    const { handlers } = fixture({
      cancel: { kind: "cancelled", runId, sourceId: "acme", tasksCancelled: 1, requestsDropped: 0 },
      purgeFails: true,
    });
    expect(await handlers.cancel({ runId }, ctx)).toMatchObject({ ok: true, alreadyCancelled: false });
  });
});
