import type { FetcherConfig } from "@grantline/config";
import type { Logger } from "@grantline/log";
import { checkRedisAccess, createRedis } from "@grantline/redis";

/**
 * The fetcher's Redis (budgets, permission-set cache) as its ACL user, checked before any message is taken: wrong
 * credentials or a missing command permission stop the service with one line, not at the first page.
 */
export async function createFetcherRedis(config: FetcherConfig, logger: Logger) {
  const redis = createRedis({
    url: config.REDIS_URL,
    keyPrefix: config.REDIS_KEY_PREFIX,
    logger,
    name: "grantline-fetcher",
    username: config.REDIS_USERNAME,
    password: config.REDIS_PASSWORD,
    passwordFile: config.REDIS_PASSWORD_FILE,
    tls: {
      caFile: config.REDIS_TLS_CA_FILE,
      certFile: config.REDIS_TLS_CERT_FILE,
      keyFile: config.REDIS_TLS_KEY_FILE,
    },
  });
  await checkRedisAccess(redis);
  return redis;
}
