import type { RunSummary, SyncReply } from "@grantline/contracts";
import type { SourceConfig } from "@grantline/config";
import type { Logger } from "@grantline/log";

export interface TickDeps {
  sources: SourceConfig[];
  isLeader(): boolean;
  lastRun(sourceId: string): Promise<RunSummary | undefined>;
  startRun(sourceId: string): Promise<SyncReply>;
  /** Re-publishes the stalled tasks (no progress for the stall timeout) of these services; returns how many. */
  republishStalled(services: readonly string[]): Promise<number>;
  /**
   * The services none of whose messages wait undelivered in a queue: only there is a stalled task's message
   * known to be lost rather than queued behind a backlog — re-publishing queued work multiplied the backlog.
   * Messages in flight do not count, so one that keeps being retried holds back no one's recovery.
   */
  recoverableServices(): Promise<readonly string[]>;
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
    const services = await deps.recoverableServices();
    if (services.length === 0) return;
    const republished = await deps.republishStalled(services);
    if (republished > 0) deps.logger.warn({ republished }, "re-published stalled tasks");
  };
}
