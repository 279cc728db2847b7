import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { createLogger } from "@grantline/log";
import { testInfra, uniqueName } from "@grantline/testing";
import { createJsonCache } from "./create-json-cache.ts";
import { createRedis } from "./create-redis.ts";

const keyPrefix = `${uniqueName("cachetest")}:`;
const redis = createRedis({ url: testInfra().redisUrl, keyPrefix });
afterAll(async () => {
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length) await redis.del(...keys.map((k) => k.slice(keyPrefix.length)));
  await redis.quit();
});

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, logger: createLogger({ service: "test", level: "debug", destination }) };
}

describe("createJsonCache", () => {
  it("round-trips JSON values with a TTL", async () => {
    const cache = createJsonCache(redis, { ttlSeconds: 60 });
    await cache.setMany([
      ["a", { arn: "arn:aws:iam::1:role/a", n: 1 }],
      ["b", [1, 2]],
      ["skip", undefined],
    ]);
    const got = await cache.getMany(["a", "b", "missing", "skip"]);
    expect(Object.fromEntries(got)).toEqual({ a: { arn: "arn:aws:iam::1:role/a", n: 1 }, b: [1, 2] });
    const ttl = await redis.ttl("cache:a");
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    expect(await cache.getMany([])).toEqual(new Map());
  });

  it("treats an unparsable value as a miss", async () => {
    await redis.set("cache:corrupt", "{not json");
    const cache = createJsonCache(redis, { ttlSeconds: 60 });
    expect(await cache.getMany(["corrupt"])).toEqual(new Map());
  });

  it("a reply that came while the event loop was busy past the timeout is a hit: a loaded fetcher is not a slow Redis", async () => {
    const cache = createJsonCache(redis, { ttlSeconds: 60, timeoutMs: 100 });
    await cache.setMany([["busy", { n: 1 }]]);
    const got = cache.getMany(["busy"]);
    // Redis answers within a millisecond; the timer expires during the same blocked stretch.
    const until = Date.now() + 300;
    while (Date.now() < until);
    expect(await got).toEqual(new Map([["busy", { n: 1 }]]));
  });

  it("deletes entries, so the next read misses", async () => {
    const cache = createJsonCache(redis, { ttlSeconds: 60 });
    await cache.setMany([
      ["gone", 1],
      ["kept", 2],
    ]);
    await cache.deleteMany(["gone", "never-set"]);
    expect(Object.fromEntries(await cache.getMany(["gone", "kept"]))).toEqual({ kept: 2 });
    await expect(cache.deleteMany([])).resolves.toBeUndefined();
  });

  it("misses and drops writes without throwing when Redis is unreachable, warning once", async () => {
    const { lines, logger } = capture();
    const down = createRedis({ url: "redis://127.0.0.1:1", logger });
    try {
      const cache = createJsonCache(down, { ttlSeconds: 60, logger, timeoutMs: 200 });
      expect(await cache.getMany(["a"])).toEqual(new Map());
      await expect(cache.setMany([["a", 1]])).resolves.toBeUndefined();
      await expect(cache.deleteMany(["a"])).resolves.toBeUndefined();
      expect(await cache.getMany(["a", "b"])).toEqual(new Map());
      const warnings = lines.filter((l) => l.level === "warn" && String(l.msg).includes("cache"));
      expect(warnings).toHaveLength(1);
    } finally {
      down.disconnect();
    }
  });
});
