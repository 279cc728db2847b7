import { pipelineConsumers, type Subjects } from "@grantline/contracts";

export interface ConsumerInfoSource {
  consumerPending(
    stream: string,
    durable: string,
  ): Promise<{ pending: number; ackPending: number; redelivered: number }>;
  streamMessages(stream: string): Promise<number>;
}

export interface LagGauge {
  set(labels: Record<string, string>, value: number): void;
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
