/**
 * Redis for grantline: a client with sane retry and logging defaults, a distributed adaptive GCRA rate
 * limiter and a JSON cache that degrades to misses when Redis is unavailable.
 *
 * @example
 * import { createJsonCache, createRateLimiter, createRedis } from "@grantline/redis";
 *
 * const redis = createRedis({ url: config.redisUrl, keyPrefix: "gl:", logger, name: "fetcher" });
 * const limiter = createRateLimiter(redis);
 * await limiter.acquire(`aws:${accountId}:iam`, { ratePerSec: 10, burst: 5 }, signal);
 * const cache = createJsonCache(redis, { ttlSeconds: 300, logger });
 * const hits = await cache.getMany(["a", "b"]);
 * await closeRedis(redis); // on shutdown: never hangs on a lost connection
 */
export { createRedis } from "./create-redis.ts";
export { closeRedis } from "./close-redis.ts";
export type { CreateRedisOptions } from "./create-redis.ts";
export { createRateLimiter } from "./create-rate-limiter.ts";
export type { AcquireResult, RateLimiter, RateLimiterOptions, RateLimits } from "./create-rate-limiter.ts";
export { createJsonCache } from "./create-json-cache.ts";
export type { JsonCache, JsonCacheOptions } from "./create-json-cache.ts";
export { redisReadinessCheck } from "./redis-readiness-check.ts";
export { checkRedisAccess, RedisAccessError } from "./check-redis-access.ts";
export { FETCHER_REDIS_COMMANDS, redisAcl, renderUsersAcl } from "./redis-acl.ts";
export type { RedisAclOptions } from "./redis-acl.ts";
export type { RedisLogger } from "./redis-logger.ts";
export type { Redis } from "ioredis";
