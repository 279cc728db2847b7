import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/** How a stage finished with a JetStream message. */
/**
 * How a message ended. `term-unrecorded`: terminated although its dead letter could not be published (after
 * every delivery was spent) — the one outcome that loses a record, so it has its own label to alert on.
 */
export type MessageOutcome = "ack" | "nak" | "term" | "term-unrecorded";

export interface CreateMetricsOptions {
  /** Set as the `service` label on every series. */
  service: string;
  /** @default a new Registry */
  register?: Registry;
}

export interface Metrics {
  readonly service: string;
  readonly registry: Registry;
  /** `grantline_messages_total{stage,outcome}` */
  readonly messagesTotal: Counter<"stage" | "outcome">;
  /** `grantline_message_duration_seconds{stage,outcome}` */
  readonly messageDuration: Histogram<"stage" | "outcome">;
  /** Counts one handled message and observes how long it took. */
  recordMessage(stage: string, outcome: MessageOutcome, durationSeconds: number): void;
  /** Starts timing one message; call the returned function with its outcome when done. */
  startMessage(stage: string): (outcome: MessageOutcome) => void;
  /** A counter on the same registry; asking again for the same name returns the same counter. */
  counter<L extends string = string>(name: string, help: string, labelNames?: readonly L[]): Counter<L>;
  /** A gauge on the same registry, memoized by name. */
  gauge<L extends string = string>(name: string, help: string, labelNames?: readonly L[]): Gauge<L>;
  /**
   * A histogram on the same registry, memoized by name.
   * @param buckets @default prom-client's default buckets
   */
  histogram<L extends string = string>(
    name: string,
    help: string,
    labelNames?: readonly L[],
    buckets?: readonly number[],
  ): Histogram<L>;
  /** The Prometheus text exposition of every metric. */
  text(): Promise<string>;
}

// Fetches from AWS can take tens of seconds under throttling; the default buckets stop at 10 s.
const MESSAGE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

type Kind = "counter" | "gauge" | "histogram";
type AnyMetric = Counter<string> | Gauge<string> | Histogram<string>;

/**
 * How often the event-loop lag histogram samples (prom-client's default is 10 ms). Each sample wakes the process:
 * at 10 ms an idle service spent ~6.5 ms of CPU a second on it, at 50 ms ~0.7 (Node 22, measured for issue 17);
 * a medium sync's services used ~2 % less CPU (busy processes are awake anyway). A stall longer than 50 ms
 * always delays a sample, so every stall that matters still shows in the p99.
 */
const EVENT_LOOP_SAMPLE_MS = 50;

/**
 * Creates the service's metrics: Node/process default metrics, the shared per-stage message counter and
 * duration histogram, and memoized factories for service-specific metrics on the same registry.
 *
 * @example
 * const metrics = createMetrics({ service: "fetcher" });
 * const done = metrics.startMessage("fetch");
 * // ...handle the message...
 * done("ack");
 * metrics.counter("grantline_aws_throttles_total", "AWS throttling responses", ["api"]).inc({ api: "iam" });
 */
export function createMetrics(opts: CreateMetricsOptions): Metrics {
  const registry = opts.register ?? new Registry();
  registry.setDefaultLabels({ service: opts.service });
  // Collecting twice into one registry throws; a caller-supplied registry may already have them.
  if (!registry.getSingleMetric("process_cpu_user_seconds_total"))
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });

  const made = new Map<string, { kind: Kind; labels: string; metric: AnyMetric }>();

  function memo<M extends AnyMetric>(
    kind: Kind,
    name: string,
    labelNames: readonly string[],
    create: () => M,
  ): M {
    const labels = [...labelNames].sort().join(",");
    const known = made.get(name);
    if (known) {
      // Same name with another type or labels is a bug that would otherwise surface only as odd dashboards.
      if (known.kind !== kind || known.labels !== labels) {
        throw new Error(
          `metric ${name} already registered as ${known.kind}{${known.labels}}, not ${kind}{${labels}}`,
        );
      }
      return known.metric as M;
    }
    // Another createMetrics on a shared registry may have made it already; prom-client would throw on re-creation.
    const existing = registry.getSingleMetric(name) as AnyMetric | undefined;
    const metric = existing && kindOf(existing) === kind ? (existing as M) : create();
    made.set(name, { kind, labels, metric });
    return metric;
  }

  function counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return memo(
      "counter",
      name,
      labelNames,
      () => new Counter<L>({ name, help, labelNames, registers: [registry] }),
    );
  }
  function gauge<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return memo(
      "gauge",
      name,
      labelNames,
      () => new Gauge<L>({ name, help, labelNames, registers: [registry] }),
    );
  }
  function histogram<L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[] = [],
    buckets?: readonly number[],
  ): Histogram<L> {
    return memo(
      "histogram",
      name,
      labelNames,
      () =>
        new Histogram<L>({
          name,
          help,
          labelNames,
          registers: [registry],
          ...(buckets ? { buckets: [...buckets] } : {}),
        }),
    );
  }

  const messagesTotal = counter("grantline_messages_total", "Messages handled, by stage and outcome", [
    "stage",
    "outcome",
  ]);
  const messageDuration = histogram(
    "grantline_message_duration_seconds",
    "Time to handle one message, by stage and outcome",
    ["stage", "outcome"],
    MESSAGE_BUCKETS,
  );
  function recordMessage(stage: string, outcome: MessageOutcome, durationSeconds: number): void {
    messagesTotal.inc({ stage, outcome });
    messageDuration.observe({ stage, outcome }, durationSeconds);
  }

  const metrics: Metrics = {
    service: opts.service,
    registry,
    messagesTotal,
    messageDuration,
    counter,
    gauge,
    histogram,
    recordMessage,
    startMessage(stage) {
      const started = process.hrtime.bigint();
      return (outcome) => recordMessage(stage, outcome, Number(process.hrtime.bigint() - started) / 1e9);
    },
    text: () => registry.metrics(),
  };
  return metrics;
}

function kindOf(metric: AnyMetric): Kind {
  if (metric instanceof Counter) return "counter";
  if (metric instanceof Gauge) return "gauge";
  return "histogram";
}
