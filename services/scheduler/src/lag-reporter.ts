import { pipelineConsumers, type Subjects } from "@grantline/contracts";

export interface ConsumerInfoSource {
  consumerPending(
    stream: string,
    durable: string,
  ): Promise<{ pending: number; ackPending: number; redelivered: number }>;
  streamMessages(stream: string): Promise<number>;
}

/** The JetStream manager's info calls the reporter reads (structurally `JetStreamManager`). */
export interface JetStreamInfo {
  consumers: {
    info(
      stream: string,
      durable: string,
    ): Promise<{ num_pending: number; num_ack_pending: number; num_redelivered: number }>;
  };
  streams: { info(stream: string): Promise<{ state: { messages: number } }> };
}

/** Reads consumer and stream state from JetStream. */
export function jetStreamInfo(jsm: JetStreamInfo): ConsumerInfoSource {
  return {
    consumerPending: async (stream, durable) => {
      const c = await jsm.consumers.info(stream, durable);
      return { pending: c.num_pending, ackPending: c.num_ack_pending, redelivered: c.num_redelivered };
    },
    streamMessages: async (stream) => (await jsm.streams.info(stream)).state.messages,
  };
}

export interface LagGauge {
  set(labels: Record<string, string>, value: number): void;
}

/** The two gauges `createLagReporter` sets, registered on `metrics` (`Metrics` of `@grantline/observability`). */
export function lagGauges(metrics: {
  gauge(name: string, help: string, labelNames: readonly string[]): LagGauge;
}): { lag: LagGauge; deadLetters: LagGauge } {
  return {
    lag: metrics.gauge(
      "grantline_consumer_messages",
      "JetStream consumer state per pipeline consumer (pending, ack_pending, redelivered)",
      ["consumer", "kind"],
    ),
    deadLetters: metrics.gauge("grantline_dead_letters", "Messages in the dead-letter stream", []),
  };
}

/**
 * Exports JetStream consumer lag and dead-letter depth, the numbers autoscaling (KEDA) and the "lag growing" /
 * "DLQ growing" alerts read. A consumer not created yet is simply skipped.
 */
export function createLagReporter(deps: {
  subjects: Subjects;
  info: ConsumerInfoSource;
  lag: LagGauge;
  deadLetters: LagGauge;
}) {
  const { streams } = deps.subjects;
  const consumers: Array<[string, string]> = [
    ...pipelineConsumers(deps.subjects).map(({ stream, durable }): [string, string] => [stream, durable]),
    [streams.deadLetters, "writer-dlq"],
  ];
  return async (): Promise<void> => {
    for (const [stream, durable] of consumers) {
      try {
        const c = await deps.info.consumerPending(stream, durable);
        deps.lag.set({ consumer: durable, kind: "pending" }, c.pending);
        deps.lag.set({ consumer: durable, kind: "ack_pending" }, c.ackPending);
        deps.lag.set({ consumer: durable, kind: "redelivered" }, c.redelivered);
      } catch {
        // Not created yet (its service has not started): nothing to report.
      }
    }
    deps.deadLetters.set({}, await deps.info.streamMessages(streams.deadLetters).catch(() => 0));
  };
}
