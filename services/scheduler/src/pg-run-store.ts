import type { Subjects } from "@grantline/contracts";
import {
  cancelRun,
  enqueueRefreshes,
  resolveRefreshTarget,
  runSummaries,
  startRefreshRun,
  startRun,
  type Db,
} from "@grantline/db";
import type { RefreshStore, RunStore } from "./control-handlers.ts";

/** The control handlers' runs, kept in Postgres (libs/db). */
export function createPgRunStore(db: Db, subjects: Subjects): RunStore {
  return {
    start: (sourceId, runId, roots) => startRun(db, { sourceId, runId, roots, subjects }),
    summaries: (f) => runSummaries(db, f),
    cancel: (runId, signal) => cancelRun(db, subjects, runId, { signal }),
  };
}

/** The control handlers' and the refresh tick's targeted refreshes, kept in Postgres (libs/db). */
export function createPgRefreshStore(
  db: Db,
  subjects: Subjects,
  iam: (sourceId: string) => { onlyAttachedPolicies: boolean } | undefined,
): RefreshStore {
  return {
    resolve: (sourceId, target) => resolveRefreshTarget(db, sourceId, target),
    queue: (sourceId, intents, requestedBy) =>
      db.transaction().execute((tx) =>
        enqueueRefreshes(
          tx,
          sourceId,
          intents.map((intent) => ({ intent, requestedBy })),
        ),
      ),
    start: (sourceId, runId, fullRunRoots) =>
      startRefreshRun(db, {
        sourceId,
        runId,
        subjects,
        fullRunRoots,
        iamOnlyAttachedPolicies: iam(sourceId)?.onlyAttachedPolicies,
      }),
  };
}
