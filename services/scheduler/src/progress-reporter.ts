import type { RunSummary } from "@grantline/contracts";

export interface ProgressGauge {
  set(labels: { source: string; state: string }, value: number): void;
}

/**
 * Publishes the latest run of each source as metrics (tasks by state, AWS calls, throttles, rows), so a
 * dashboard shows progress without querying Postgres.
 */
export function createProgressReporter(deps: {
  latestRuns(): Promise<RunSummary[]>;
  tasks: ProgressGauge;
  counters: ProgressGauge;
}) {
  return async (): Promise<void> => {
    const latest = new Map<string, RunSummary>();
    for (const r of await deps.latestRuns()) if (!latest.has(r.sourceId)) latest.set(r.sourceId, r);
    for (const [source, r] of latest) {
      deps.tasks.set({ source, state: "done" }, r.tasksDone);
      deps.tasks.set({ source, state: "pending" }, r.tasksPending);
      deps.tasks.set({ source, state: "failed" }, r.tasksFailed);
      for (const k of ["awsCalls", "throttled", "rows"])
        deps.counters.set({ source, state: k }, r.stats[k] ?? 0);
      deps.counters.set({ source, state: "running" }, r.status === "running" ? 1 : 0);
    }
  };
}
