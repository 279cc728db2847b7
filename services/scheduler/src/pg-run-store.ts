import type { Subjects } from "@grantline/contracts";
import { cancelRun, runSummaries, startRun, type Db } from "@grantline/db";
import type { RunStore } from "./control-handlers.ts";

/** The control handlers' runs, kept in Postgres (libs/db). */
export function createPgRunStore(db: Db, subjects: Subjects): RunStore {
  return {
    start: (sourceId, runId, roots) => startRun(db, { sourceId, runId, roots, subjects }),
    summaries: (f) => runSummaries(db, f),
    cancel: (runId, signal) => cancelRun(db, subjects, runId, { signal }),
  };
}
