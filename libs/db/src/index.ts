/**
 * Postgres for grantline, and the only package that talks to it: kysely over pg, migrations kept in the repo,
 * and the queries the services and the CLI run — runs, tasks (the cursors), batch application with
 * mark-and-sweep, finishing a run, the outbox, the scheduler's leader lock, and access reads.
 *
 * @example
 * const db = createDb({ url: config.DATABASE_URL });
 * await migrateToLatest(db);
 * const result = await applyBatch(db, subjects, batch); // idempotent per task; finishes the run after its last task
 * publisher.kick();
 * const who = await accessToAccount(db, "123456789012", { timeoutMs: 10_000 }); // { rows, hiddenInactive }
 */
export { createDb, dbOptions } from "./create-db.ts";
export type { Db, CreateDbOptions, DatabaseSettings } from "./create-db.ts";
export type { Database } from "./database.ts";
export { migrateToLatest, ensureDatabase } from "./migrate.ts";
export { DB_ROLES } from "./grant-roles.ts";
export { DatabaseAccessError, openServiceDb } from "./open-service-db.ts";
export type { OpenServiceDbOptions } from "./open-service-db.ts";
export { postgresReadiness } from "./postgres-readiness.ts";
export { leadershipBounds, startLeadership } from "./leadership.ts";
export type { Leadership, LeadershipOptions } from "./leadership.ts";
export { startOutboxPublisher } from "./outbox-publisher.ts";
export { expandOutboxRow, outboxMessages } from "./compact-events.ts";
export type { PublishableRow } from "./compact-events.ts";
export type { OutboxPublisher, OutboxPublisherOptions, OutboxSink } from "./outbox-publisher.ts";
export { assignmentCounts, runSummaries, startRun } from "./runs.ts";
export type { StartRunInput } from "./runs.ts";
export { republishStalledTasks } from "./stalled-tasks.ts";
export { cancelRun } from "./cancel-run.ts";
export type { CancelRunResult } from "./cancel-run.ts";
export { applyBatch, applyBatches, groupKey } from "./apply-batch.ts";
export type { ApplyResult } from "./apply-batch.ts";
export { failTask, warnTask } from "./fail-task.ts";
export { recordControlAudit } from "./control-audit.ts";
export type { ControlAuditRecord } from "./control-audit.ts";
export { completeIdleRuns } from "./complete-run.ts";
export { deriveOwed, sourcesOwingDerivation } from "./derive-owed.ts";
export {
  accessOfPrincipal,
  accessToAccount,
  AccessQueryTimeout,
  DEFAULT_ACCESS_TIMEOUT_MS,
  explainAccess,
  matchPrincipals,
  roleAssumers,
} from "./access-queries.ts";
export type {
  AccessOptions,
  AccessPath,
  AccessResult,
  AccountAccess,
  PathGrant,
  PrincipalAccess,
  PrincipalMatch,
} from "./access-queries.ts";
export { syncedCounts } from "./synced-counts.ts";
export type { SyncedCounts } from "./synced-counts.ts";
export { createLoadAnalyzer, loadedEnough, refreshPlannerStatistics } from "./refresh-planner-statistics.ts";
export type { LoadAnalyzer, LoadAnalyzerOptions } from "./refresh-planner-statistics.ts";
export { grantReadFromAws, isDerivedGrant } from "./derived-grants.ts";
export { refreshGrantChains } from "./grant-chains.ts";
export { enqueueRefreshes } from "./refresh-queue.ts";
export { isUnstorableDataError, storableBatch } from "./storable-batch.ts";
export type { QueuedRefresh } from "./refresh-queue.ts";
export {
  applyFeedPage,
  ensureFeedCursors,
  feedStatuses,
  openFeedWindows,
  startDueWindows,
  syncedFeedAccounts,
} from "./feed-cursors.ts";
export type { FeedStatusRow, StartWindowsInput, StartWindowsResult } from "./feed-cursors.ts";
export { ensureFeedRun, pruneFeedTasks } from "./feed-runs.ts";
export { planRefresh, sourcesWithWaitingRefreshes, startRefreshRun } from "./refresh-runs.ts";
export type { PlanOptions, RefreshPlan, RefreshRunStart, StartRefreshRunInput } from "./refresh-runs.ts";
export { resolveRefreshTarget } from "./refresh-target.ts";
export type { RefreshTarget } from "./refresh-target.ts";
export { requestGrant, requestRevoke } from "./provisioning/request-provisioning.ts";
export type { ProvisioningInput } from "./provisioning/request-provisioning.ts";
export { expireDueGrants } from "./provisioning/expire-grants.ts";
export type { ExpirySweep } from "./provisioning/expire-grants.ts";
export { pendingProvisioning, recordProvisioningOutcome } from "./provisioning/pending-provisioning.ts";
export type { ProvisioningOutcome } from "./provisioning/pending-provisioning.ts";
export { listGrantRequests } from "./provisioning/list-grant-requests.ts";
export {
  callIdOf,
  confirmingRefresh,
  confirmProvisioning,
  provisioningState,
  recordProvisioningDone,
  republishStalledProvisioning,
  startProvisioningCalls,
} from "./provisioning/execute-provisioning.ts";
export type { ConfirmSweep, PublishExec, StalledProvisioning } from "./provisioning/execute-provisioning.ts";
