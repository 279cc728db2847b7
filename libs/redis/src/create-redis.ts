import { readFileSync } from "node:fs";
import { Redis } from "ioredis";
import type { RedisLogger } from "./redis-logger.ts";

export interface CreateRedisOptions {
  /** `redis://[:password@]host:port[/db]` or `rediss://…` for TLS. */
  url: string;
  /** Prepended to every key, including keys of Lua scripts. @default "" */
  keyPrefix?: string;
  logger?: RedisLogger;
  /** Shown in `CLIENT LIST` and in log lines. @default "grantline" */
  name?: string;
  /**
   * How many reconnects a command waits through before it rejects; keeps callers from hanging through an outage.
   * @default 3
   */
  maxRetriesPerRequest?: number;
  /** Upper bound of the reconnect backoff. @default 5000 */
  maxReconnectDelayMs?: number;
  /** ACL user and password; override any in `url`. The password may come from a file (a mounted secret). */
  username?: string | undefined;
  password?: string | undefined;
  passwordFile?: string | undefined;
  /**
   * TLS: PEM files of the server's CA and of a client certificate and key. Any of them turns TLS on, as
   * `rediss://` does (which alone verifies the server against the system's CAs).
   */
  tls?: { caFile?: string | undefined; certFile?: string | undefined; keyFile?: string | undefined };
}

/** Read at start and again before every reconnect, so a rotated password file is used without a restart. */
function readSecret(path: string): string {
  return readFileSync(path, "utf8").trim();
}

function tlsOptions(o: CreateRedisOptions): { ca?: string; cert?: string; key?: string } | undefined {
  const t = o.tls;
  if (!t?.caFile && !t?.certFile && !t?.keyFile) return undefined;
  return {
    ...(t.caFile ? { ca: readFileSync(t.caFile, "utf8") } : {}),
    ...(t.certFile ? { cert: readFileSync(t.certFile, "utf8") } : {}),
    ...(t.keyFile ? { key: readFileSync(t.keyFile, "utf8") } : {}),
  };
}

/**
 * Creates an ioredis client with grantline's defaults: bounded per-command retries, exponential reconnect
 * backoff with jitter and a cap, the offline queue enabled so commands issued while (re)connecting are sent
 * once connected, and connection problems logged once per state change instead of once per retry.
 *
 * @example
 * const redis = createRedis({ url: config.redisUrl, keyPrefix: "gl:", logger, name: "fetcher" });
 * await redis.set("k", "v");
 * await closeRedis(redis);
 */
export function createRedis(opts: CreateRedisOptions): Redis {
  const name = opts.name ?? "grantline";
  const cap = opts.maxReconnectDelayMs ?? 5000;
  const password = opts.passwordFile ? readSecret(opts.passwordFile) : opts.password;
  const tls = tlsOptions(opts);
  const redis = new Redis(opts.url, {
    ...(opts.username ? { username: opts.username } : {}),
    ...(password ? { password } : {}),
    ...(tls ? { tls } : {}),
    keyPrefix: opts.keyPrefix ?? "",
    connectionName: name,
    maxRetriesPerRequest: opts.maxRetriesPerRequest ?? 3,
    enableOfflineQueue: true,
    // Equal jitter: services restarted together must not reconnect in lockstep.
    retryStrategy: (times) => {
      // ioredis authenticates each new connection with `options.password`; a refused AUTH drops the connection and
      // comes back here. A mounted Secret is updated in place, so the next connection uses the rotated password.
      if (opts.passwordFile) {
        try {
          // An empty file means no password, as at start.
          redis.options.password = readSecret(opts.passwordFile) || undefined;
        } catch (err) {
          opts.logger?.warn(
            { err, file: opts.passwordFile },
            "redis password file unreadable; keeping the last one",
          );
        }
      }
      const base = Math.min(cap, 100 * 2 ** Math.min(times - 1, 16));
      return Math.round(base / 2 + (Math.random() * base) / 2);
    },
  });
  // Without a listener ioredis prints every failed reconnect to the console; with one, we choose what to say.
  let state: "connecting" | "up" | "down" = "connecting";
  const where = { redis: name, host: redis.options.host, port: redis.options.port };
  redis.on("ready", () => {
    if (state === "down") opts.logger?.info(where, "redis connection restored");
    else opts.logger?.debug(where, "redis connected");
    state = "up";
  });
  redis.on("error", (err: Error) => {
    if (state === "down") return;
    state = "down";
    opts.logger?.warn({ ...where, err }, "redis unavailable; reconnecting");
  });
  redis.on("end", () => {
    opts.logger?.debug(where, "redis connection closed");
  });
  return redis;
}
