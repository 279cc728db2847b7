import { existsSync } from "node:fs";
import { z } from "zod";

const port = z.coerce.number().int().min(0).max(65535);
const positiveMs = z.coerce.number().int().positive();
const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL starting with ${protocols.map((p) => `${p}//`).join(" or ")}`,
  );

// OTLP over HTTP in protobuf (the OpenTelemetry default, port 4318) or JSON; gRPC is not built in.
const otlpProtocol = z.enum(["http/protobuf", "http/json"], {
  error: 'must be "http/protobuf" or "http/json" (OTLP over gRPC is not supported: use port 4318)',
});

// What nats.js accepts as a server: nats://, tls://, or a bare host[:port]. Anything else (an http:// URL, a
// typo) would make the client retry forever against nothing, so it is refused here with the variable's name.
const NATS_SERVER =
  /^(?:(?:nats|tls):\/\/)?(?:[^\s:/@]+(?::[^\s@/]*)?@)?(?:\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::\d{1,5})?\/?$/i;
const natsServers = z
  .string()
  .min(1)
  .superRefine((v, ctx) => {
    for (const server of v.split(",").map((x) => x.trim())) {
      if (!NATS_SERVER.test(server))
        ctx.addIssue({
          code: "custom",
          message: `"${server.replace(/\/\/[^@/]*@/, "//***@")}" is not a NATS server URL (expected nats://host:4222, tls://host:4222 or host:port, comma-separated)`,
        });
    }
  });

// A file that must exist at start: a missing secret or certificate stops the service with the variable's name.
const file = z.string().refine((p) => existsSync(p), "no such file");

/**
 * NATS credentials and TLS (docs/deploying.md). None set: anonymous, for a server without authorization (the
 * local default). The combinations are checked when connecting (`natsAuth` of `@grantline/nats`).
 */
export const NatsAuthEnv = z.object({
  // User/password: the user is also the identity of control requests (the CLI's) and names the inbox.
  NATS_USER: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, "letters, digits, '-' and '_' (it is a subject token of control requests)")
    .optional(),
  NATS_PASSWORD: z.string().optional(),
  // A file holding the password (a compose or Kubernetes secret); re-read at every reconnect, so rotation works.
  NATS_PASSWORD_FILE: file.optional(),
  // A JWT .creds file (operator/JWT mode: multi-tenant clusters, accounts managed with nsc).
  NATS_CREDS_FILE: file.optional(),
  NATS_NKEY_SEED_FILE: file.optional(),
  // TLS: the CA that signed the server's certificate, and a client certificate for servers that verify clients.
  NATS_TLS_CA_FILE: file.optional(),
  NATS_TLS_CERT_FILE: file.optional(),
  NATS_TLS_KEY_FILE: file.optional(),
});

/** Variables every service reads. */
export const CommonEnv = NatsAuthEnv.extend({
  // Comma-separated NATS servers; the client reconnects forever, so a NATS restart never stops a service.
  NATS_URL: natsServers.default("nats://127.0.0.1:4222"),
  // Prefix of every subject and stream: lets several deployments (or test runs) share one NATS account.
  GL_SUBJECT_PREFIX: z
    .string()
    .regex(/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/i, "letters, digits, '-', '_' and dots")
    .default("gl"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  // /healthz, /readyz and /metrics. 0 picks a free port (tests).
  PROBE_PORT: port.optional(),
  // Interface of the probe server: loopback by default (the CLI, the demo, a laptop); Kubernetes sets the pod IP
  // (downward API) so kubelet and Prometheus reach it and nothing else on the node does; compose sets 0.0.0.0
  // inside the container's own network namespace.
  PROBE_HOST: z.string().default("127.0.0.1"),
  // How long a SIGTERM may take to finish in-flight messages before the process gives up on them (they are
  // redelivered). Keep below the orchestrator's termination grace period (Kubernetes default 30 s).
  SHUTDOWN_GRACE_MS: positiveMs.default(20_000),
  // Replicas of every stream grantline creates: 3 on a production NATS cluster (R3), 1 on a single server.
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  // Bytes each of the three hop streams may hold before publishers are pushed back. JetStream reserves this
  // from the server's storage when the stream is created (a stream is refused once the reservations exceed
  // the server's max_file_store), so a deployment that shares a small server (tests, laptops) sets it lower.
  NATS_HOP_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024 ** 2)
    .default(1024 ** 3),
  // Tracing uses OpenTelemetry's standard variables. Trace ids are on log lines and in NATS headers always;
  // spans leave the process only when an exporter is chosen — OTEL_TRACES_EXPORTER, or an OTLP endpoint set
  // (then "otlp" is implied) — so tracing costs nothing outside the process by default.
  OTEL_SDK_DISABLED: z.enum(["true", "false", "TRUE", "FALSE", "True", "False"]).optional(),
  OTEL_TRACES_EXPORTER: z.enum(["otlp", "console", "none"]).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(["http:", "https:"]).optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url(["http:", "https:"]).optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
  // Names the service in traces; defaults to grantline-<service>.
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
});
export type CommonEnv = z.infer<typeof CommonEnv>;

/** Variables of the services that consume a pipeline stage (fetcher, mapper, writer; not the scheduler). */
export const ConsumerEnv = z.object({
  // Messages handled concurrently by one replica (the fetcher: per AWS service). Also bounds memory: at most
  // this many payloads are held.
  MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(1000).optional(),
  // A message delivered more often than this is dead-lettered instead of looping forever on a bug.
  MAX_DELIVER: z.coerce.number().int().min(2).max(1000).default(30),
  // ack_wait of the stage's consumer: longer than the worst time a handler takes (working() extends it).
  ACK_WAIT_MS: positiveMs.default(30_000),
  // Largest payload (inline or by blob reference) the stage accepts; a larger one is dead-lettered before it is
  // fetched or parsed, so one oversized message cannot exhaust the heap and crash-loop the service.
  MAX_PAYLOAD_BYTES: z.coerce
    .number()
    .int()
    .min(64 * 1024)
    .optional(),
});

export const DatabaseEnv = z.object({
  // Postgres; the writer and scheduler own it. A password in it never reaches the logs (redacted).
  DATABASE_URL: url(["postgres:", "postgresql:"]).default("postgres://postgres@127.0.0.1:5432/grantline"),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  // Statements a connection runs repeatedly are prepared on it (parsed and planned once), up to this many per
  // connection. 0 behind a pooler in transaction mode (PgBouncer before 1.21), which cannot keep them.
  DATABASE_PREPARED_STATEMENTS: z.coerce.number().int().min(0).max(10_000).default(100),
  // The password of the URL's user, read from a file (a mounted secret) at each new connection, so a rotated
  // password is picked up without a restart.
  DATABASE_PASSWORD_FILE: file.optional(),
  // TLS to Postgres: the CA that signed the server's certificate (the server is then verified), and a client
  // certificate and key for certificate authentication. `sslmode=…` in the URL works too (libpq's names).
  DATABASE_TLS_CA_FILE: file.optional(),
  DATABASE_TLS_CERT_FILE: file.optional(),
  DATABASE_TLS_KEY_FILE: file.optional(),
});

export const RedisEnv = z.object({
  REDIS_URL: url(["redis:", "rediss:"]).default("redis://127.0.0.1:6379"),
  // Namespaces every key (budgets, caches) so grantline can share a Redis; the fetcher's ACL user is limited to it.
  REDIS_KEY_PREFIX: z.string().default("gl:"),
  // The fetcher's Redis ACL user (or in the URL: redis://user:password@host). The file is a mounted secret.
  REDIS_USERNAME: z.string().min(1).optional(),
  REDIS_PASSWORD: z.string().min(1).optional(),
  REDIS_PASSWORD_FILE: file.optional(),
  // TLS to Redis (rediss:// turns it on with the system CAs): the CA of the server, a client certificate and key.
  REDIS_TLS_CA_FILE: file.optional(),
  REDIS_TLS_CERT_FILE: file.optional(),
  REDIS_TLS_KEY_FILE: file.optional(),
});

export const SourcesEnv = z.object({
  // YAML or JSON file describing the AWS organizations to sync (see docs/configuration.md).
  SOURCES_FILE: z.string().min(1).default("./sources.yaml"),
});
