import type { Logger } from "@grantline/log";
import type { RefreshStarter } from "./control-handlers.ts";

export interface RefreshTickDeps {
  isLeader(): boolean;
  /** Configured sources with refreshes waiting in `refresh_queue`, oldest first. */
  waitingSources(): Promise<string[]>;
  startRefresh: RefreshStarter;
  logger: Logger;
}

/**
 * The leader's refresh duty: each source with refreshes waiting gets a refresh run taking all of them, unless a
 * full or refresh run of it is active (the waiting ones are taken when it ends). One run per source at a time
 * keeps sweeps from racing; batching every waiting refresh into it keeps a burst of changes to one run.
 */
export function createRefreshTick(deps: RefreshTickDeps): () => Promise<void> {
  return async () => {
    if (!deps.isLeader()) return;
    for (const sourceId of await deps.waitingSources()) {
      try {
        await deps.startRefresh(sourceId);
      } catch (err) {
        deps.logger.error({ err, sourceId }, "refresh run could not start");
      }
    }
  };
}
