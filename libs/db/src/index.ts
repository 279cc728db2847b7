/**
 * Postgres for grantline: kysely over pg, migrations kept in the repo, and the repositories the writer and
 * scheduler use — runs, tasks (the cursors), batch application with mark-and-sweep, and the outbox.
 *
 * @example
 * const db = createDb({ url: config.DATABASE_URL });
 * await migrateToLatest(db);
 * const result = await applyBatch(db, subjects, batch); // idempotent per task
 * publisher.kick();
 */
export { createDb } from "./create-db.ts";
export type { Db, CreateDbOptions } from "./create-db.ts";
export type { Database } from "./database.ts";
export { migrateToLatest, ensureDatabase } from "./migrate.ts";
export { startOutboxPublisher } from "./outbox-publisher.ts";
export type { OutboxPublisher, OutboxPublisherOptions, OutboxSink } from "./outbox-publisher.ts";
export {
  assignmentCounts,
  startRun,
  completeRunIfDone,
  completeIdleRuns,
  failTask,
  republishStalledTasks,
  runSummaries,
} from "./run-store.ts";
export type { StartRunInput } from "./run-store.ts";
export { cancelRun } from "./cancel-run.ts";
export type { CancelRunResult } from "./cancel-run.ts";
export { applyBatch } from "./apply-batch.ts";
export type { ApplyResult } from "./apply-batch.ts";
export { sql } from "kysely";
