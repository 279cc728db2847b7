import type { Redis } from "ioredis";

/** What Redis answers a client whose credentials or ACL are wrong; retrying never fixes these. */
const REFUSED = /^(WRONGPASS|NOAUTH|NOPERM)\b/;

/** Wrong Redis credentials or a user without the commands or keys grantline needs. */
export class RedisAccessError extends Error {
  override name = "RedisAccessError";
}

/**
 * Checks at start-up that the client may do what the fetcher does: read a key under its prefix and run a script
 * (the rate limiter's). Wrong credentials or a missing ACL rule reject with one line naming the cause, so the
 * service refuses to start instead of failing its first page. Redis being unreachable does not: the fetcher runs
 * degraded (caches miss) until it is back, and its readiness says so.
 */
export async function checkRedisAccess(redis: Redis): Promise<void> {
  try {
    await redis.get("access-check");
    await redis.eval("return redis.call('TIME')[1]", 0);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (REFUSED.test(message))
      throw new RedisAccessError(
        `redis refused the fetcher's user: ${message} (REDIS_USERNAME/REDIS_PASSWORD, docs/deploying.md#credentials)`,
        { cause: err },
      );
  }
}
