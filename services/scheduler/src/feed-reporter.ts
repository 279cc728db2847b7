import type { FeedStatus } from "@grantline/contracts";

export interface FeedGauge {
  set(labels: Record<string, string>, value: number): void;
}

/** The gauges `createFeedReporter` sets, registered on `metrics` (`Metrics` of `@grantline/observability`). */
export function feedGauges(metrics: {
  gauge(name: string, help: string, labelNames: readonly string[]): FeedGauge;
}): { age: FeedGauge; events: FeedGauge; lag: FeedGauge } {
  return {
    age: metrics.gauge(
      "grantline_feed_cursor_age_seconds",
      "How far behind now each feed's committed cursor is",
      ["source", "feed"],
    ),
    events: metrics.gauge(
      "grantline_feed_events",
      "Events each feed has seen, by outcome (seen, translated, ignored, unknown)",
      ["source", "feed", "outcome"],
    ),
    lag: metrics.gauge(
      "grantline_feed_lag_seconds",
      "Event time to refresh queued (queued) and to refresh done (refreshed), latest per feed",
      ["source", "feed", "stage"],
    ),
  };
}

/** Publishes every feed's cursor age, event counts and lags, for the dashboard and the "feed stuck" alert. */
export function createFeedReporter(deps: {
  feeds(): Promise<FeedStatus[]>;
  age: FeedGauge;
  events: FeedGauge;
  lag: FeedGauge;
}) {
  return async (): Promise<void> => {
    for (const f of await deps.feeds()) {
      const l = { source: f.sourceId, feed: f.feedId };
      deps.age.set(l, f.cursorAgeMs / 1000);
      deps.events.set({ ...l, outcome: "seen" }, f.eventsSeen);
      deps.events.set({ ...l, outcome: "translated" }, f.eventsTranslated);
      deps.events.set({ ...l, outcome: "ignored" }, f.eventsIgnored);
      deps.events.set({ ...l, outcome: "unknown" }, f.eventsUnknown);
      if (f.queueLagMs !== null) deps.lag.set({ ...l, stage: "queued" }, f.queueLagMs / 1000);
      if (f.refreshLagMs !== null) deps.lag.set({ ...l, stage: "refreshed" }, f.refreshLagMs / 1000);
    }
  };
}
