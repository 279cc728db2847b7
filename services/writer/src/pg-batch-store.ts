import type { Subjects } from "@grantline/contracts";
import { applyBatch, failTask, warnTask, type Db } from "@grantline/db";
import type { BatchStore } from "./write-handler.ts";

/** The writer's batches and dead letters, kept in Postgres (libs/db). */
export function createPgBatchStore(db: Db, subjects: Subjects): BatchStore {
  return {
    apply: (b) => applyBatch(db, subjects, b),
    failTask: (l) => failTask(db, subjects, l),
    warnTask: (l) => warnTask(db, l),
  };
}
