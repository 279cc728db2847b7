// Records the pages a full run walks over aws-sim's `tiny` organization — through the fetcher's real AWS
// executor — into libs/model/src/aws/__fixtures__/identity-center-walk.json, for the mappers' unit tests.
// Run: node --import tsx libs/model/scripts/record-identity-center-pages.ts (needs the local Redis).
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { createAwsExecutor } from "@grantline/aws";
import { startAwsSim } from "@grantline/aws-sim";
import { parseSources } from "@grantline/config";
import type { PageRequest, PageResult } from "@grantline/contracts";
import { createLogger } from "@grantline/log";
import { mapPage, rootRequests } from "@grantline/model";
import { createJsonCache, createRateLimiter, createRedis } from "@grantline/redis";

const sim = await startAwsSim({ preset: "tiny", seed: 42 });
const redis = createRedis({
  url: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
  keyPrefix: `record-${randomUUID()}:`,
});
const sources = parseSources({
  sources: [
    { id: "rec", endpoint: sim.url, staticCredentials: sim.managementCredentials, iam: { enabled: false } },
  ],
}).sources;
const logger = createLogger({ service: "record", level: "warn" });
const aws = createAwsExecutor({
  sources,
  rateLimiter: createRateLimiter(redis, { prefix: "aws:rl:" }),
  permissionSetCache: createJsonCache(redis, { prefix: "aws:ps:", ttlSeconds: 3600, logger }),
  logger,
});
const runId = "00000000-0000-4000-8000-000000000001";
const queue: PageRequest[] = rootRequests(sources[0]!, runId);
const pages: PageResult[] = [];
while (queue.length) {
  const request = queue.shift()!;
  const out = await aws.execute(request, { signal: AbortSignal.timeout(30_000), deliveryCount: 1 });
  const result: PageResult = {
    v: 1,
    request,
    page: out.page,
    fetchedAt: "2026-01-01T00:00:00.000Z",
    warnings: out.warnings,
    skipped: out.skipped ?? null,
    stats: { awsCalls: 1, throttled: 0 },
  };
  pages.push(result);
  queue.push(...mapPage(result).children);
}
const file = new URL("../src/aws/__fixtures__/identity-center-walk.json", import.meta.url);
writeFileSync(file, JSON.stringify({ org: sim.exportOrg(), pages }, null, 1) + "\n");
console.log(`recorded ${pages.length} pages`);
await aws.close();
redis.disconnect();
await sim.close();
