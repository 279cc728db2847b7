import type { WriterConfig } from "@grantline/config";
import type { Subjects } from "@grantline/contracts";
import { applyBatch, applyBatches, failTask, groupKey, warnTask, type Db } from "@grantline/db";
import { createGroupCommit } from "./group-commit.ts";
import type { BatchStore } from "./write-handler.ts";

/** The writer's batches and dead letters, kept in Postgres (libs/db); batches through the group commit. */
/** The one metric the store records, as the service's registry makes it (libs/observability `Metrics`). */
export interface GroupMetrics {
  histogram(
    name: string,
    help: string,
    labelNames: readonly "outcome"[],
    buckets: readonly number[],
  ): { observe(labels: { outcome: string }, value: number): void };
}

export function createPgBatchStore(
  db: Db,
  subjects: Subjects,
  settings: Pick<WriterConfig, "GROUP_COMMIT_MAX" | "GROUP_COMMIT_WAIT_MS" | "GROUP_COMMIT_TRANSACTIONS">,
  metrics: GroupMetrics,
): BatchStore {
  const groups = metrics.histogram(
    "grantline_writer_group_batches",
    "Batches per writer transaction (group commit); outcome split: the group failed and its batches were applied one by one",
    ["outcome"],
    [1, 2, 4, 8, 16, 32, 64],
  );
  const grouped = createGroupCommit(
    {
      one: (b) => applyBatch(db, subjects, b),
      many: (bs) => applyBatches(db, subjects, bs),
      key: groupKey,
    },
    {
      maxBatches: settings.GROUP_COMMIT_MAX,
      waitMs: settings.GROUP_COMMIT_WAIT_MS,
      concurrency: settings.GROUP_COMMIT_TRANSACTIONS,
      observe: (n, outcome) => groups.observe({ outcome }, n),
    },
  );
  return {
    apply: (b, lane) => grouped.apply(b, lane),
    failTask: (l) => failTask(db, subjects, l),
    warnTask: (l) => warnTask(db, l),
  };
}
