import { randomUUID } from "node:crypto";
import {
  SyncRequest,
  StatusRequest,
  type PageRequest,
  type RunSummary,
  type StatusReply,
  type SyncReply,
} from "@grantline/contracts";
import type { SourceConfig } from "@grantline/config";
import type { Logger } from "@grantline/log";
import { inSpan } from "@grantline/nats";

export interface RunStore {
  start(
    sourceId: string,
    runId: string,
    roots: PageRequest[],
  ): Promise<{ runId: string; alreadyRunning: boolean }>;
  summaries(filter: { sourceId?: string; runId?: string }): Promise<RunSummary[]>;
}

export interface ControlDeps {
  runs: RunStore;
  sources: SourceConfig[];
  /** The run's first tasks; may read what earlier runs saw (the assignment route is chosen from counts). */
  roots(source: SourceConfig, runId: string): Promise<PageRequest[]>;
  /** Wakes the outbox publisher so root tasks go out at once. */
  kickOutbox(): void;
  logger: Logger;
}

export interface ControlHandlers {
  sync(body: unknown): Promise<SyncReply>;
  status(body: unknown): Promise<StatusReply>;
  /** Starts a full run of a source; used by the schedule and by `sync`. */
  startRun(sourceId: string): Promise<SyncReply>;
}

/** The `gl.ctl.*` request/reply verbs. Replies are always a schema value: errors are `{ ok: false, error }`. */
export function createControlHandlers(deps: ControlDeps): ControlHandlers {
  const byId = new Map(deps.sources.map((s) => [s.id, s]));

  /** Each run is a trace: its root tasks carry the span's context, and every later message continues it. */
  async function startRun(sourceId: string): Promise<SyncReply> {
    return inSpan("grantline sync", { "grantline.source_id": sourceId }, async (span) => {
      const reply = await startRunInSpan(sourceId);
      if (reply.ok)
        span.setAttributes({
          "grantline.run_id": reply.runId,
          "grantline.already_running": reply.alreadyRunning,
        });
      return reply;
    });
  }

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

  return {
    startRun,
    async sync(body) {
      const req = SyncRequest.safeParse(body);
      if (!req.success)
        return {
          ok: false,
          error: `bad sync request: ${req.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`,
        };
      return startRun(req.data.sourceId);
    },
    async status(body) {
      const req = StatusRequest.safeParse(body ?? {});
      if (!req.success)
        return {
          ok: false,
          error: `bad status request: ${req.error.issues.map((i) => i.message).join("; ")}`,
        };
      return { ok: true, runs: await deps.runs.summaries(req.data) };
    },
  };
}
