import { ProvisioningState, type Subjects } from "@grantline/contracts";
import {
  cancelRun,
  enqueueRefreshes,
  listGrantRequests,
  provisioningState,
  requestGrant,
  requestRevoke,
  resolveRefreshTarget,
  runSummaries,
  startRefreshRun,
  startRun,
  type Db,
} from "@grantline/db";
import type { RefreshStore, RunStore } from "./control-handlers.ts";
import type { ProvisioningStore } from "./provisioning-handlers.ts";

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
  iam: (sourceId: string) => { onlyAttachedPolicies: boolean; crossAccount: boolean } | undefined,
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
        iamCrossAccount: iam(sourceId)?.crossAccount,
      }),
  };
}

/** Provisioning requests in Postgres: validated against the synced rows, audited, idempotent by request id. */
export function createPgProvisioningStore(db: Db, subjects: Subjects): ProvisioningStore {
  return {
    grant: (sourceId, request, requester) => requestGrant(db, subjects, { sourceId, request, requester }),
    revoke: (sourceId, request, requester) => requestRevoke(db, subjects, { sourceId, request, requester }),
    list: (r) => listGrantRequests(db, r),
    async state(id) {
      const r = await provisioningState(db, id);
      return r && { state: ProvisioningState.parse(r.state), detail: r.detail };
    },
  };
}
