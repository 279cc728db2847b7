import type { Redis } from "ioredis";
import type { RedisLogger } from "./redis-logger.ts";

export interface JsonCacheOptions {
  /** Lifetime of every entry written by `setMany`. */
  ttlSeconds: number;
  /** Prepended (after the client's keyPrefix) to every cache key. @default "cache:" */
  prefix?: string;
  logger?: RedisLogger;
  /**
   * How long a cache call may take before it counts as a miss; a cache must never be slower than the source.
   * @default 500
   */
  timeoutMs?: number;
}

export interface JsonCache {
  /** Values found for `keys`; missing, unparsable or unreachable entries are simply absent. */
  getMany(keys: readonly string[]): Promise<Map<string, unknown>>;
  /** Stores JSON of each value with the configured TTL; `undefined` values are skipped. */
  setMany(entries: Iterable<readonly [string, unknown]>): Promise<void>;
  /** Removes `keys`, so the next read misses and the source is read again; dropped when Redis is unavailable. */
  deleteMany(keys: readonly string[]): Promise<void>;
}

/**
 * A JSON cache over Redis that degrades instead of failing: when Redis is down or slow, reads miss and writes
 * are dropped, with one warning per outage rather than one per call.
 *
 * @example
 * const cache = createJsonCache(redis, { ttlSeconds: 300, logger });
 * const hits = await cache.getMany(roleArns);
 * const fresh = await fetchMissing(roleArns.filter((a) => !hits.has(a)));
 * await cache.setMany(fresh);
 */
export function createJsonCache(redis: Redis, opts: JsonCacheOptions): JsonCache {
  const prefix = opts.prefix ?? "cache:";
  const timeoutMs = opts.timeoutMs ?? 500;
  let degraded = false;

  function failed(op: string, err: unknown): void {
    if (degraded) return;
    degraded = true;
    opts.logger?.warn({ err, op }, "redis cache unavailable; continuing without it");
  }
  function succeeded(): void {
    if (!degraded) return;
    degraded = false;
    opts.logger?.info({}, "redis cache available again");
  }

  async function guarded<T>(op: string, run: () => Promise<T>): Promise<T | undefined> {
    // While reconnecting, queuing commands would only delay callers by the timeout each time.
    if (redis.status === "reconnecting" || redis.status === "end" || redis.status === "close") {
      failed(op, new Error(`redis connection is ${redis.status}`));
      return undefined;
    }
    const work = run();
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await Promise.race([
        work,
        new Promise<never>((_, reject) => {
          // Timers run before I/O in an event-loop turn: after a busy stretch longer than the timeout (a loaded
          // fetcher), a reply already on the socket would lose to the timer. Deferring the rejection to the
          // turn's check phase lets it be read first; only a Redis that has not answered counts as slow. Seen
          // in the bench: a second sync on a busy machine re-described 3 of 10 cached permission sets.
          timer = setTimeout(
            () => void setImmediate(() => reject(new Error(`redis ${op} timed out after ${timeoutMs} ms`))),
            timeoutMs,
          );
        }),
      ]);
      succeeded();
      return result;
    } catch (err) {
      // The abandoned command may still reject later; that must not become an unhandled rejection.
      work.catch(() => {});
      failed(op, err);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    async getMany(keys) {
      const found = new Map<string, unknown>();
      if (keys.length === 0) return found;
      const values = await guarded("getMany", () => redis.mget(keys.map((k) => prefix + k)));
      values?.forEach((raw, i) => {
        const key = keys[i];
        if (raw === null || key === undefined) return;
        try {
          found.set(key, JSON.parse(raw));
        } catch {
          // A value another writer corrupted is as good as absent; the source will refill it.
        }
      });
      return found;
    },
    async setMany(entries) {
      const pipeline = redis.pipeline();
      let n = 0;
      for (const [key, value] of entries) {
        const json = JSON.stringify(value);
        if (json === undefined) continue;
        pipeline.set(prefix + key, json, "EX", opts.ttlSeconds);
        n++;
      }
      if (n === 0) return;
      const results = await guarded("setMany", () => pipeline.exec());
      const err = results?.find(([e]) => e)?.[0];
      if (err) failed("setMany", err);
    },
    async deleteMany(keys) {
      if (keys.length === 0) return;
      await guarded("deleteMany", () => redis.del(...keys.map((k) => prefix + k)));
    },
  };
}
