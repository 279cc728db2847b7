import type { RunSummary } from "@grantline/contracts";

export interface ProgressGauge {
  set(labels: { source: string; state: string }, value: number): void;
}

/** Where the reporter's gauges are registered (`Metrics` of `@grantline/observability`). */
export interface GaugeFactory {
  gauge(name: string, help: string, labelNames: readonly string[]): ProgressGauge;
}

/** The two gauges `createProgressReporter` sets. */
export function progressGauges(metrics: GaugeFactory): { tasks: ProgressGauge; counters: ProgressGauge } {
  return {
    tasks: metrics.gauge("grantline_run_tasks", "Tasks of each source's latest run, by state", [
      "source",
      "state",
    ]),
    counters: metrics.gauge(
      "grantline_run_stats",
      "Counters of each source's latest run (awsCalls, throttled, rows, pages, running)",
      ["source", "state"],
    ),
  };
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
