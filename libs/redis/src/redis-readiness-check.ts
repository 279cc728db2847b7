import type { Redis } from "ioredis";

/**
 * A readiness check for `startProbeServer` from `@grantline/observability`: ready when Redis answers PING.
 *
 * @example
 * await startProbeServer({ port, metrics, logger, readiness: [redisReadinessCheck(redis)] });
 */
export function redisReadinessCheck(
  redis: Redis,
  name = "redis",
): { name: string; check: () => Promise<void> } {
  return {
    name,
    async check() {
      await redis.ping();
    },
  };
}
