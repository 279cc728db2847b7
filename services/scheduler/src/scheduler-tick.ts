import type { RunSummary, SyncReply } from "@grantline/contracts";
import type { SourceConfig } from "@grantline/config";
import type { Logger } from "@grantline/log";

export interface TickDeps {
  sources: SourceConfig[];
  isLeader(): boolean;
  lastRun(sourceId: string): Promise<RunSummary | undefined>;
  startRun(sourceId: string): Promise<SyncReply>;
  /** Re-publishes tasks pending with no progress; returns how many. */
  republishStalled(): Promise<number>;
  /**
   * True when no pipeline consumer has messages waiting or in flight. Only then is a pending task's message
   * known to be lost rather than queued behind a backlog — re-publishing queued work multiplied the backlog.
   */
  pipelineIdle(): Promise<boolean>;
  /** Finishes runs whose last tasks settled concurrently (see `completeIdleRuns`); returns how many. */
  completeIdle(): Promise<number>;
  logger: Logger;
  now?: () => number;
}

/** One pass of the leader's duties: due schedules and lost messages. Non-leaders do nothing. */
export function createSchedulerTick(deps: TickDeps): () => Promise<void> {
  const now = deps.now ?? Date.now;
  return async () => {
    if (!deps.isLeader()) return;
    for (const s of deps.sources) {
      if (s.fullSyncEveryMinutes === 0) continue;
      const last = await deps.lastRun(s.id);
      if (last?.status === "running") continue;
      const due = !last || now() - new Date(last.startedAt).getTime() >= s.fullSyncEveryMinutes * 60_000;
      if (due) {
        const r = await deps.startRun(s.id);
        if (!r.ok) deps.logger.error({ sourceId: s.id, error: r.error }, "scheduled run could not start");
      }
    }
    const finished = await deps.completeIdle();
    if (finished > 0) deps.logger.info({ finished }, "finished idle runs");
    if (!(await deps.pipelineIdle())) return;
    const republished = await deps.republishStalled();
    if (republished > 0) deps.logger.warn({ republished }, "re-published stalled tasks");
  };
}
