import { setMaxListeners } from "node:events";
import { afterAll, describe, expect, it } from "vitest";
import { testInfra, uniqueName, waitFor } from "@grantline/testing";
import { createRateLimiter } from "./create-rate-limiter.ts";
import { createRedis } from "./create-redis.ts";

const keyPrefix = `${uniqueName("rltest")}:`;
const clients = Array.from({ length: 4 }, (_, i) =>
  createRedis({ url: testInfra().redisUrl, keyPrefix, name: `rl-test-${i}` }),
);
const [redis] = clients as [ReturnType<typeof createRedis>];
afterAll(async () => {
  const keys = await redis.keys(`${keyPrefix}*`);
  if (keys.length) await redis.del(...keys.map((k) => k.slice(keyPrefix.length)));
  await Promise.all(clients.map((c) => c.quit()));
});

describe("createRateLimiter", () => {
  it("grants a burst, then refuses with the time until the next grant", async () => {
    const limiter = createRateLimiter(redis);
    const key = uniqueName("k");
    // One token a second: four calls fit well inside that even on a loaded CI machine.
    const limits = { ratePerSec: 1, burst: 3 };
    const results = [];
    for (let i = 0; i < 4; i++) results.push(await limiter.tryAcquire(key, limits));
    expect(results.map((r) => r.allowed)).toEqual([true, true, true, false]);
    expect(results[3]?.retryAfterMs).toBeGreaterThan(500);
    expect(results[3]?.retryAfterMs).toBeLessThanOrEqual(1000);
  });

  it("keeps concurrent acquirers in several clients within rate × time + burst, and close to it", async () => {
    const key = uniqueName("shared");
    const limits = { ratePerSec: 40, burst: 10 };
    const windowMs = 1500;
    const limiters = clients.map((c) => createRateLimiter(c));
    const stop = new AbortController();
    // Twelve waiters on one shutdown signal is the intended use, not a listener leak.
    setMaxListeners(20, stop.signal);
    let grants = 0;
    const started = performance.now();
    setTimeout(() => stop.abort(new Error("window over")), windowMs);
    const workers = limiters.flatMap((l) =>
      Array.from({ length: 3 }, async () => {
        for (;;) {
          try {
            await l.acquire(key, limits, stop.signal);
          } catch (err) {
            if (stop.signal.aborted) return;
            throw err;
          }
          if (stop.signal.aborted) return;
          grants++;
        }
      }),
    );
    await Promise.all(workers);
    const elapsedSec = (performance.now() - started) / 1000;
    // One grant of slack: the limiter runs on Redis's wall clock, `elapsedSec` on this process's monotonic one, and
    // a wall clock being slewed runs up to 0.05 % fast.
    const bound = limits.burst + limits.ratePerSec * elapsedSec + 1;
    expect(grants).toBeLessThanOrEqual(bound);
    expect(grants).toBeGreaterThanOrEqual(0.85 * (limits.burst + (limits.ratePerSec * windowMs) / 1000));
  });

  it("rejects a waiting acquire with the abort reason", async () => {
    const limiter = createRateLimiter(redis);
    const key = uniqueName("k");
    const limits = { ratePerSec: 0.1, burst: 1 };
    await limiter.acquire(key, limits);
    const ac = new AbortController();
    const waiting = limiter.acquire(key, limits, ac.signal);
    const reason = new Error("shutting down");
    ac.abort(reason);
    await expect(waiting).rejects.toBe(reason);
  });

  it("serves a process's waiters on a key in order, several grants a script call", async () => {
    const client = createRedis({ url: testInfra().redisUrl, keyPrefix, name: "rl-test-count" });
    try {
      const limiter = createRateLimiter(client);
      // The limiter calls the script through the client object: counting here counts Redis round trips.
      const c = client as unknown as { grantlineGcraN: (...a: unknown[]) => Promise<unknown> };
      const gcra = c.grantlineGcraN.bind(client);
      let scriptCalls = 0;
      const firstAnswer: unknown[] = [];
      c.grantlineGcraN = async (...a) => {
        scriptCalls++;
        const answer = await gcra(...a);
        if (scriptCalls === 1) firstAnswer.push(answer);
        return answer;
      };
      const key = uniqueName("line");
      const order: number[] = [];
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          limiter.acquire(key, { ratePerSec: 50, burst: 4 }).then(() => order.push(i)),
        ),
      );
      expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      // Callers of one tick share the first call: it takes the whole burst, not its starter's grant alone.
      expect((firstAnswer[0] as unknown[])[0]).toBe(4);
      // The burst in one call, then one call per grant after each 20 ms wait: 7, and two spares for a timer that
      // wakes before Redis's clock says the grant is due (its TIME is wall clock, Node's timers monotonic).
      // Asking again right after a grant (13 calls) or each waiter polling (~55) fail.
      expect(scriptCalls).toBeLessThanOrEqual(9);
    } finally {
      await client.quit();
    }
  });

  it("drops an aborted waiter from the line and serves the rest in order", async () => {
    const limiter = createRateLimiter(redis);
    const key = uniqueName("k");
    const limits = { ratePerSec: 20, burst: 1 };
    await limiter.acquire(key, limits);
    const order: string[] = [];
    // The third waiter is in line behind the aborted one: it is served next, after the first.
    const ac = new AbortController();
    const first = limiter.acquire(key, limits).then(() => order.push("first"));
    const aborted = limiter.acquire(key, limits, ac.signal);
    const third = limiter.acquire(key, limits).then(() => order.push("third"));
    const reason = new Error("gave up");
    ac.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    await Promise.all([first, third]);
    expect(order).toEqual(["first", "third"]);
  });

  it("says it is unavailable while its connection is down, so a caller can fall back at once", async () => {
    expect(createRateLimiter(redis).available()).toBe(true);
    const dead = createRedis({ url: "redis://127.0.0.1:1", maxRetriesPerRequest: 0, name: "rl-dead" });
    try {
      const limiter = createRateLimiter(dead);
      await waitFor(() => !limiter.available(), { message: "the refused connection is noticed" });
    } finally {
      dead.disconnect();
    }
  });

  it("penalize slows the key down and reward speeds it back up", async () => {
    const limiter = createRateLimiter(redis, { penaltyCooldownMs: 0 });
    const limits = { ratePerSec: 10, burst: 1 };
    // The interval between two grants: the wait tryAcquire reports plus the time that already passed since the
    // grant (on a loaded machine that time is not negligible, and the reported wait shrinks by it).
    const intervalAfter = async (key: string) => {
      await limiter.acquire(key, limits);
      const granted = performance.now();
      const r = await limiter.tryAcquire(key, limits);
      expect(r.allowed).toBe(false);
      return { interval: r.retryAfterMs + (performance.now() - granted), wait: r.retryAfterMs };
    };

    expect((await intervalAfter(uniqueName("k"))).wait).toBeLessThanOrEqual(100);

    const slow = uniqueName("k");
    expect(await limiter.penalize(slow)).toBeCloseTo(0.8);
    const penalized = await intervalAfter(slow);
    expect(penalized.interval).toBeGreaterThan(110);
    expect(penalized.wait).toBeLessThanOrEqual(125);

    for (let i = 0; i < 30; i++) await limiter.penalize(slow);
    expect(await limiter.multiplier(slow)).toBeCloseTo(0.1);
    expect(await limiter.reward(slow)).toBeCloseTo(0.12);
    expect(await limiter.multiplier(slow)).toBeCloseTo(0.12);
    for (let i = 0; i < 50; i++) await limiter.reward(slow);
    expect(await limiter.multiplier(slow)).toBe(1);
  });

  it("counts penalties within the cooldown once", async () => {
    const limiter = createRateLimiter(redis, { penaltyCooldownMs: 60_000 });
    const key = uniqueName("k");
    await Promise.all(Array.from({ length: 5 }, () => limiter.penalize(key)));
    expect(await limiter.multiplier(key)).toBeCloseTo(0.8);
  });

  it("rejects nonsensical limits", async () => {
    const limiter = createRateLimiter(redis);
    await expect(limiter.tryAcquire("k", { ratePerSec: 0, burst: 1 })).rejects.toThrow(RangeError);
  });
});
