import { randomUUID } from "node:crypto";
import type {
  FeedStatus,
  PageRequest,
  RefreshIntent,
  RunStatus,
  RunSummary,
  SyncReply,
} from "@grantline/contracts";
import type { SourceConfig } from "@grantline/config";
import type { Logger } from "@grantline/log";
import { inSpan, type ControlHandlers } from "@grantline/nats";
import { createProvisioningHandlers, sourceOf, type ProvisioningStore } from "./provisioning-handlers.ts";

/** What cancelling a run found (`CancelRunResult` of libs/db). */
export type CancelOutcome =
  | { kind: "cancelled"; runId: string; sourceId: string; tasksCancelled: number; requestsDropped: number }
  | { kind: "already-cancelled"; runId: string; sourceId: string }
  | { kind: "finished"; runId: string; sourceId: string; status: RunStatus }
  | { kind: "unknown"; runId: string };

export interface RunStore {
  start(
    sourceId: string,
    runId: string,
    roots: PageRequest[],
  ): Promise<{ runId: string; alreadyRunning: boolean }>;
  summaries(filter: { sourceId?: string; runId?: string }): Promise<RunSummary[]>;
  /** Settles the run's pending tasks and marks it cancelled, in one transaction. */
  cancel(runId: string, signal: AbortSignal): Promise<CancelOutcome>;
}

export interface WorkQueues {
  /** Removes a source's queued page requests, page results and batches from the streams. */
  purgeSource(sourceId: string): Promise<Record<string, number>>;
}

/** Targeted refreshes (libs/db refresh-queue, refresh-runs, refresh-target), kept in Postgres. */
export interface RefreshStore {
  /** The refreshes an operator's `<type>:<id>` names, or why there are none. */
  resolve(sourceId: string, target: string): Promise<{ intents: RefreshIntent[] } | { error: string }>;
  /** Queues them (identical waiting ones are not queued twice); returns how many were added. */
  queue(sourceId: string, intents: RefreshIntent[], requestedBy: string): Promise<number>;
  /**
   * Starts a refresh run taking every waiting refresh of the source (a full run when one asks for the whole
   * source, built with `fullRunRoots`), unless a full or refresh run is active.
   */
  start(
    sourceId: string,
    runId: string,
    fullRunRoots: (runId: string) => Promise<PageRequest[]>,
  ): Promise<{ runId: string | null; activeRunId: string | null; kind: string | null; tasks: number }>;
}

export interface ControlDeps {
  runs: RunStore;
  refreshes: RefreshStore;
  provisioning: ProvisioningStore;
  queues: WorkQueues;
  sources: SourceConfig[];
  /** The run's first tasks; may read what earlier runs saw (the assignment route is chosen from counts). */
  roots(source: SourceConfig, runId: string): Promise<PageRequest[]>;
  /** Wakes the outbox publisher so what a commit wrote goes out at once. */
  kickOutbox(): void;
  /** The change feeds' state (of one source, or all), for `status`; absent: no feeds in the reply. */
  feeds?: (sourceId?: string) => Promise<FeedStatus[]>;
  logger: Logger;
}

/** Starts a full run of a source, or returns the one already running; used by `sync` and by the schedule. */
export type RunStarter = (sourceId: string) => Promise<SyncReply>;

export function createRunStarter(deps: ControlDeps): RunStarter {
  const byId = new Map(deps.sources.map((s) => [s.id, s]));

  async function startRunInSpan(sourceId: string): Promise<SyncReply> {
    const source = byId.get(sourceId);
    if (!source)
      return {
        ok: false,
        error: `unknown source "${sourceId}" (configured: ${[...byId.keys()].join(", ")})`,
      };
    const runId = randomUUID();
    let roots: PageRequest[];
    try {
      roots = await deps.roots(source, runId);
    } catch (err) {
      return { ok: false, error: (err as Error).message };
    }
    const r = await deps.runs.start(sourceId, runId, roots);
    if (!r.alreadyRunning) {
      deps.kickOutbox();
      deps.logger.info({ sourceId, runId: r.runId, roots: roots.length }, "run started");
    }
    return { ok: true, runId: r.runId, alreadyRunning: r.alreadyRunning };
  }

  // Each run is a trace: its root tasks carry the span's context, and every later message continues it.
  return (sourceId) =>
    inSpan("grantline sync", { "grantline.source_id": sourceId }, async (span) => {
      const reply = await startRunInSpan(sourceId);
      if (reply.ok)
        span.setAttributes({
          "grantline.run_id": reply.runId,
          "grantline.already_running": reply.alreadyRunning,
        });
      return reply;
    });
}

/** Starts a refresh run of a configured source from what its queue holds; used by `refresh` and the refresh tick. */
export type RefreshStarter = (
  sourceId: string,
) => Promise<{ runId: string | null; activeRunId: string | null }>;

export function createRefreshStarter(deps: ControlDeps): RefreshStarter {
  const byId = new Map(deps.sources.map((s) => [s.id, s]));
  return async (sourceId) => {
    const source = byId.get(sourceId);
    if (!source) return { runId: null, activeRunId: null };
    const r = await deps.refreshes.start(sourceId, randomUUID(), (runId) => deps.roots(source, runId));
    if (r.runId !== null) {
      deps.kickOutbox();
      deps.logger.info({ sourceId, runId: r.runId, kind: r.kind, tasks: r.tasks }, "refresh run started");
    }
    return r;
  };
}

/**
 * The `gl.ctl.*` verbs, one handler each (`ControlHandlers` is total over `CtlVerb`). Requests arrive parsed
 * against their schema; replies are schema values, errors `{ ok: false, error }`.
 */
export function createControlHandlers(
  deps: ControlDeps,
  startRun: RunStarter = createRunStarter(deps),
  startRefresh: RefreshStarter = createRefreshStarter(deps),
): ControlHandlers {
  const configured = new Set(deps.sources.map((s) => s.id));
  return {
    ...createProvisioningHandlers(configured, deps.provisioning),
    sync: (req) => startRun(req.sourceId),
    async refresh(req, ctx) {
      const s = sourceOf(configured, req.sourceId);
      if ("error" in s) return { ok: false, error: s.error };
      const { sourceId } = s;
      const t = await deps.refreshes.resolve(sourceId, req.target);
      if ("error" in t) return { ok: false, error: t.error };
      const queued = await deps.refreshes.queue(sourceId, t.intents, `ctl:${ctx.user}`);
      ctx.logger.info({ sourceId, target: req.target, queued }, "refresh requested");
      const r = await startRefresh(sourceId);
      return { ok: true, runId: r.runId, queued, waitingFor: r.runId === null ? r.activeRunId : null };
    },
    async status(req) {
      const runs = await deps.runs.summaries(req);
      // A question about one run is not about the source's feeds.
      if (!deps.feeds || req.runId) return { ok: true, runs };
      const feeds = await deps.feeds(req.sourceId);
      return feeds.length > 0 ? { ok: true, runs, feeds } : { ok: true, runs };
    },
    async cancel(req, ctx) {
      const r = await deps.runs.cancel(req.runId, ctx.signal);
      switch (r.kind) {
        case "unknown":
          return { ok: false, error: `unknown run ${r.runId}` };
        case "finished":
          return {
            ok: false,
            error: `run ${r.runId} already finished (${r.status}); only a running run can be cancelled`,
          };
        case "already-cancelled":
          // Its queued work was purged by the request that cancelled it; purging now could hit a newer run.
          return {
            ok: true,
            runId: r.runId,
            sourceId: r.sourceId,
            alreadyCancelled: true,
            tasksCancelled: 0,
          };
        case "cancelled": {
          deps.kickOutbox();
          // After the commit: from here no page request of the run can enter the streams (its outbox rows
          // are gone, its tasks are settled), so what the purge removes stays removed. If the purge fails the
          // run is still cancelled: fetchers drop its queued requests (run.cancelled) and the writer its batches.
          const purged = await deps.queues.purgeSource(r.sourceId).catch((err: unknown) => {
            ctx.logger.warn({ err, sourceId: r.sourceId }, "purging the cancelled run's queued work failed");
            return null;
          });
          ctx.logger.info(
            {
              runId: r.runId,
              sourceId: r.sourceId,
              tasksCancelled: r.tasksCancelled,
              requestsDropped: r.requestsDropped,
              purged,
            },
            "run cancelled",
          );
          return {
            ok: true,
            runId: r.runId,
            sourceId: r.sourceId,
            alreadyCancelled: false,
            tasksCancelled: r.tasksCancelled,
          };
        }
      }
    },
  };
}
