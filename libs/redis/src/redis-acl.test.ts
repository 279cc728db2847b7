import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testInfra, uniqueName, waitFor } from "@grantline/testing";
import { checkRedisAccess, RedisAccessError } from "./check-redis-access.ts";
import { closeRedis } from "./close-redis.ts";
import { createJsonCache } from "./create-json-cache.ts";
import { createRateLimiter } from "./create-rate-limiter.ts";
import { createRedis } from "./create-redis.ts";
import { redisAcl, renderUsersAcl } from "./redis-acl.ts";
import type { Redis } from "ioredis";

const usersAcl = new URL("../../../deploy/redis/users.acl", import.meta.url);
const prefix = `${uniqueName("acltest")}:`;
const other = `${uniqueName("aclother")}:`;
const user = uniqueName("gl_fetcher_");
const password = randomBytes(16).toString("hex");
let admin: Redis;

beforeAll(async () => {
  admin = createRedis({ url: testInfra().redisUrl });
  // The ACL line's arguments after `user <name>` are ACL SETUSER's.
  const [, , ...rules] = redisAcl(prefix, { user, password: `>${password}` }).split(" ");
  await admin.call("ACL", "SETUSER", user, ...rules);
  await admin.set(`${other}secret`, "another deployment's");
});
afterAll(async () => {
  await admin.call("ACL", "DELUSER", user);
  const keys = [...(await admin.keys(`${prefix}*`)), ...(await admin.keys(`${other}*`))];
  if (keys.length) await admin.del(...keys);
  await closeRedis(admin);
});

function asFetcher(keyPrefix: string): Redis {
  const url = new URL(testInfra().redisUrl);
  url.username = user;
  url.password = password;
  return createRedis({ url: url.toString(), keyPrefix, name: "grantline-fetcher", maxRetriesPerRequest: 0 });
}

describe("the fetcher's Redis ACL user", () => {
  it("does the fetcher's job under its prefix: budgets (Lua scripts), the permission-set cache, PING", async () => {
    const redis = asFetcher(prefix);
    try {
      const limiter = createRateLimiter(redis, { prefix: "aws:rl:" });
      await limiter.acquire("acme:iam", { ratePerSec: 100, burst: 5 });
      expect(await limiter.penalize("acme:iam")).toBeLessThan(1);
      expect(await limiter.reward("acme:iam")).toBeGreaterThan(0);
      expect(await limiter.multiplier("acme:iam")).toBeLessThan(1);
      const failures: unknown[] = [];
      const logger = {
        warn: (o: unknown) => void failures.push(o),
        info: () => undefined,
        debug: () => undefined,
      };
      const cache = createJsonCache(redis, { prefix: "aws:ps:", ttlSeconds: 60, logger });
      await cache.setMany([["arn:ps", { name: "ReadOnly" }]]);
      expect(await cache.getMany(["arn:ps"])).toEqual(new Map([["arn:ps", { name: "ReadOnly" }]]));
      expect(failures).toEqual([]);
      expect(await redis.ping()).toBe("PONG");
    } finally {
      await closeRedis(redis);
    }
  });

  it("cannot read or write another prefix's keys, nor run what it does not need", async () => {
    const redis = asFetcher(other);
    try {
      await expect(redis.get("secret")).rejects.toThrow(/NOPERM/);
      await expect(redis.set("secret", "forged")).rejects.toThrow(/NOPERM/);
      await expect(redis.call("KEYS", "*")).rejects.toThrow(/NOPERM/);
      await expect(redis.call("FLUSHALL")).rejects.toThrow(/NOPERM/);
      await expect(redis.call("CONFIG", "GET", "*")).rejects.toThrow(/NOPERM/);
      expect(await admin.get(`${other}secret`)).toBe("another deployment's");
    } finally {
      await closeRedis(redis);
    }
  });

  it("the start-up check passes with the right password, and refuses a wrong one or a user without the rules", async () => {
    const ok = asFetcher(prefix);
    const url = new URL(testInfra().redisUrl);
    url.username = user;
    url.password = "wrong";
    const wrong = createRedis({ url: url.toString(), keyPrefix: prefix, maxRetriesPerRequest: 0 });
    // A user whose ACL lacks the scripts (as if deployed from an older users.acl).
    const [, , ...rules] = redisAcl(prefix, {
      user: `${user}_old`,
      password: `>${password}`,
      commands: ["get", "set", "mget", "ping", "info", "client|setname"],
    }).split(" ");
    await admin.call("ACL", "SETUSER", `${user}_old`, ...rules);
    url.username = `${user}_old`;
    url.password = password;
    const old = createRedis({ url: url.toString(), keyPrefix: prefix, maxRetriesPerRequest: 0 });
    try {
      await expect(checkRedisAccess(ok)).resolves.toBeUndefined();
      await expect(checkRedisAccess(wrong)).rejects.toThrow(RedisAccessError);
      await expect(checkRedisAccess(old)).rejects.toThrow(/NOPERM.*'eval'/);
    } finally {
      await admin.call("ACL", "DELUSER", `${user}_old`);
      await Promise.all([closeRedis(ok), closeRedis(old)]);
      wrong.disconnect();
    }
  });

  it("follows a rotated password file from its next connection on, without a restart", async () => {
    const rotating = `${user}_rot`;
    const [, , ...rules] = redisAcl(prefix, { user: rotating, password: `>${password}` }).split(" ");
    await admin.call("ACL", "SETUSER", rotating, ...rules);
    const dir = mkdtempSync(join(tmpdir(), "gl-redis-secret-"));
    const file = join(dir, "password");
    writeFileSync(file, `${password}\n`);
    const client = createRedis({
      url: testInfra().redisUrl,
      keyPrefix: prefix,
      username: rotating,
      passwordFile: file,
      maxRetriesPerRequest: 0,
      maxReconnectDelayMs: 200,
    });
    try {
      expect(await client.ping()).toBe("PONG");
      // Rotated: Redis knows only the new password, the mounted secret holds it, and the connection drops (a
      // Redis restart, a failover). The old password would be refused on every reconnect from now on.
      const next = randomBytes(16).toString("hex");
      await admin.call("ACL", "SETUSER", rotating, "resetpass", `>${next}`);
      writeFileSync(file, `${next}\n`);
      await admin.call("CLIENT", "KILL", "USER", rotating);
      await waitFor(async () => (await client.ping().catch(() => null)) === "PONG", { timeoutMs: 10_000 });
      expect(await client.set("after-rotation", "1")).toBe("OK");
    } finally {
      await admin.call("ACL", "DELUSER", rotating);
      client.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("deploy/redis/users.acl is rendered from the code", () => {
    const expected = renderUsersAcl("gl:");
    if (process.env.UPDATE_REDIS_ACL) writeFileSync(usersAcl, expected);
    expect(readFileSync(usersAcl, "utf8"), "run with UPDATE_REDIS_ACL=1 to re-render").toBe(expected);
  });
});
