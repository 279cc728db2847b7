import { z } from "zod";
import { ConfigError } from "./config-error.ts";
import { CommonEnv, ConsumerEnv, DatabaseEnv, NatsAuthEnv, RedisEnv, SourcesEnv } from "./env-schemas.ts";
import { loadSourcesFile, type SourcesFile } from "./sources-file.ts";

export type Env = Record<string, string | undefined>;

const PROBE_PORTS = { scheduler: 9464, fetcher: 9465, mapper: 9466, writer: 9467 } as const;
// The fetcher mostly waits (on AWS budgets and latency); its figure is per AWS service (one consumer each), and
// 32 calls at AWS's ~50 ms latency is ~600 calls/s per replica, far above any one service's budget.
const IN_FLIGHT = { fetcher: 32, mapper: 32, writer: 16 } as const;
// Page requests are small; a page result is at most a few MB of AWS JSON; a batch of 30,000 grants (9 MB)
// exhausted the writer's 192 MB heap (the images' limit) before it could be dead-lettered.
const MAX_PAYLOAD = { fetcher: 1024 ** 2, mapper: 32 * 1024 ** 2, writer: 8 * 1024 ** 2 } as const;

function parseEnv<S extends z.ZodType>(schema: S, env: Env): z.infer<S> {
  // Empty strings mean "unset": compose files and Kubernetes often pass `FOO=` for optional values.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const r = schema.safeParse(cleaned);
  if (!r.success) throw ConfigError.fromZod("", r.error);
  return r.data;
}

function withProbePort<C extends { PROBE_PORT?: number | undefined }>(
  service: keyof typeof PROBE_PORTS,
  c: C,
): C & { PROBE_PORT: number } {
  return { ...c, PROBE_PORT: c.PROBE_PORT ?? PROBE_PORTS[service] };
}

function withDefaults<
  C extends {
    PROBE_PORT?: number | undefined;
    MAX_IN_FLIGHT?: number | undefined;
    MAX_PAYLOAD_BYTES?: number | undefined;
  },
>(
  service: keyof typeof IN_FLIGHT,
  c: C,
): C & { PROBE_PORT: number; MAX_IN_FLIGHT: number; MAX_PAYLOAD_BYTES: number } {
  return {
    ...withProbePort(service, c),
    MAX_IN_FLIGHT: c.MAX_IN_FLIGHT ?? IN_FLIGHT[service],
    MAX_PAYLOAD_BYTES: c.MAX_PAYLOAD_BYTES ?? MAX_PAYLOAD[service],
  };
}

// No ConsumerEnv: the scheduler consumes no stage, only the fetcher's provisioning answers (a handful of small
// messages, fixed settings), so MAX_IN_FLIGHT and friends would be settings that do nothing.
export const SchedulerEnv = CommonEnv.extend(DatabaseEnv.shape)
  .extend(SourcesEnv.shape)
  .extend({
    // A pending task with no progress for this long is assumed lost (message dropped, stream purged) and re-published.
    STALL_TIMEOUT_MS: z.coerce.number().int().min(1000).default(120_000),
    // How often the leader checks schedules, stalled tasks and finished runs.
    TICK_MS: z.coerce.number().int().min(100).default(5_000),
    // How often the leader starts refresh runs for queued changes and opens due feed windows: the change → event
    // path waits for this tick twice, so it is shorter than TICK_MS.
    FEED_TICK_MS: z.coerce.number().int().min(100).default(1_000),
    // An execution whose answer has not come this long after it was handed to the fetcher is handed over again.
    // Longer than the longest execution (slot wait, 2 min of conflict retries, 15 min of status polling).
    PROVISIONING_STALL_MS: z.coerce.number().int().min(1000).default(1_200_000),
    // Executions of one provisioning request before it fails for want of an answer.
    PROVISIONING_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(3),
    // Targeted re-reads that may finish without showing a change AWS reported made before the request fails.
    PROVISIONING_CONFIRM_READS: z.coerce.number().int().min(1).max(20).default(3),
  });
export type SchedulerConfig = ReturnType<typeof loadSchedulerConfig>;

/** Scheduler configuration from `env`; throws `ConfigError` naming the first bad field. */
export function loadSchedulerConfig(env: Env) {
  const c = withProbePort("scheduler", parseEnv(SchedulerEnv, env));
  const sources: SourcesFile = loadSourcesFile(c.SOURCES_FILE);
  return { ...c, sources };
}

export const FetcherEnv = CommonEnv.extend(ConsumerEnv.shape)
  .extend(RedisEnv.shape)
  .extend(SourcesEnv.shape)
  .extend({
    // Trip a (service, account) circuit after this share of failures in its rolling window.
    BREAKER_ERROR_PERCENT: z.coerce.number().int().min(1).max(100).default(50),
    // How long an open circuit stays open before a trial call.
    BREAKER_RESET_MS: z.coerce.number().int().min(100).default(30_000),
    // Seconds a cached permission set stays valid; repeated runs and all replicas skip DescribePermissionSet.
    // A feed that sees a set change drops its entry, so with feeds on this bounds only changes a feed misses.
    PERMISSION_SET_CACHE_TTL_S: z.coerce.number().int().min(1).default(3600),
    // Per-call AWS timeout; the message's AbortSignal also cancels.
    AWS_CALL_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
    // How long a page retries while AWS does not answer (unreachable endpoint, 5xx, open circuit) before it is
    // dead-lettered and its run fails with the reason, instead of after every delivery (~25 minutes).
    AWS_UNAVAILABLE_GIVE_UP_MS: z.coerce.number().int().min(1000).default(300_000),
    // Whether a permission set's accounts page reads each pair's assignments, and a groups page each group's
    // members, instead of a task per pair and per group (docs/sync-model.md): a fifth less CPU on medium. Such a
    // page holds its fetcher slot while the shared budget serves its items, so the requests behind it are held
    // and kept alive; "false" is the task-per-item shape of earlier releases (docs/benchmarks.md).
    LIST_PAGES_READ_ITEMS: z
      .enum(["true", "false"])
      .default("true")
      .transform((v) => v === "true"),
    // Account assignment operations outstanding at once per Identity Center instance, over every replica (AWS
    // refuses beyond its cap: 15 on current quota pages, 10 on older ones; the lower leaves room for other tools).
    PROVISIONING_OUTSTANDING_CAP: z.coerce.number().int().min(1).max(15).default(10),
    // How long an assignment operation's status is polled before the execution is retried.
    PROVISIONING_STATUS_TIMEOUT_MS: z.coerce.number().int().min(1000).default(900_000),
    // How long ConflictException ("a previous operation is still propagating") is retried per call.
    PROVISIONING_CONFLICT_TIMEOUT_MS: z.coerce.number().int().min(1000).default(120_000),
  });
export type FetcherConfig = ReturnType<typeof loadFetcherConfig>;

export function loadFetcherConfig(env: Env) {
  const c = withDefaults("fetcher", parseEnv(FetcherEnv, env));
  return { ...c, sources: loadSourcesFile(c.SOURCES_FILE) };
}

export const MapperEnv = CommonEnv.extend(ConsumerEnv.shape).extend({
  // Rows per batch: a page that maps to more is published as parts, so no batch exhausts the writer's memory.
  MAX_BATCH_ROWS: z.coerce.number().int().min(100).max(1_000_000).default(5000),
});
export type MapperConfig = ReturnType<typeof loadMapperConfig>;

export function loadMapperConfig(env: Env) {
  return withDefaults("mapper", parseEnv(MapperEnv, env));
}

export const WriterEnv = CommonEnv.extend(ConsumerEnv.shape)
  .extend(DatabaseEnv.shape)
  .extend({
    // Outbox rows published per round; larger rounds amortize the commit.
    OUTBOX_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
    // Fallback poll of the outbox when no local commit woke the publisher (another replica's rows, restarts).
    OUTBOX_POLL_MS: z.coerce.number().int().min(50).default(1_000),
    // Group commit: batches of one run per transaction at most (1: a transaction per batch, as before)…
    GROUP_COMMIT_MAX: z.coerce.number().int().min(1).max(1_000).default(8),
    // …how long a group's first batch waits for others, ms (batches arrive tens of ms apart at the floor)…
    GROUP_COMMIT_WAIT_MS: z.coerce.number().int().min(0).max(5_000).default(100),
    // …and batch transactions at once per replica.
    GROUP_COMMIT_TRANSACTIONS: z.coerce.number().int().min(1).max(100).default(4),
  });
export type WriterConfig = ReturnType<typeof loadWriterConfig>;

export function loadWriterConfig(env: Env) {
  return withDefaults("writer", parseEnv(WriterEnv, env));
}

const CliEnv = CommonEnv.pick({ NATS_URL: true, GL_SUBJECT_PREFIX: true, LOG_LEVEL: true })
  .extend(NatsAuthEnv.shape)
  .extend(DatabaseEnv.shape);
export type CliConfig = ReturnType<typeof loadCliConfig>;

/** The `grantline` CLI: it talks to the scheduler over NATS and reads Postgres directly for queries. */
export function loadCliConfig(env: Env) {
  return parseEnv(CliEnv, env);
}
