import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "@grantline/log";
import { createRedis } from "@grantline/redis";
import type { Redis } from "@grantline/redis";
import { testInfra, uniqueName, waitFor } from "@grantline/testing";
import { createRedisSemaphore } from "./assignment-semaphore.ts";

const keyPrefix = `${uniqueName("sem")}:`;
const logger = createLogger({ service: "aws-test", level: "silent" });
const connections: Redis[] = [];
const connect = (): Redis => {
  const r = createRedis({
    url: testInfra().redisUrl,
    keyPrefix,
    name: "aws-sem-test",
    maxRetriesPerRequest: 0,
  });
  connections.push(r);
  return r;
};
let admin: Redis;
beforeAll(() => {
  admin = connect();
});
afterAll(async () => {
  const keys = await admin.keys(`${keyPrefix}*`);
  if (keys.length) await admin.del(...keys.map((k) => k.slice(keyPrefix.length)));
  for (const r of connections) r.disconnect();
});
const signal = () => new AbortController().signal;
/** The lease expiries (Redis time, ms) of the holders of `key`. */
async function expiries(key: string): Promise<number[]> {
  const raw = await admin.get(`aws:sem:${key}`);
  return raw === null ? [] : Object.values(JSON.parse(raw) as Record<string, number>);
}

describe("createRedisSemaphore", () => {
  it("grants at most `cap` slots across connections; a release lets the next waiter in", async () => {
    const a = createRedisSemaphore(connect(), { logger, leaseMs: 300, retryMs: 20 });
    const b = createRedisSemaphore(connect(), { logger, leaseMs: 300, retryMs: 20 });
    const key = uniqueName("k");
    const l1 = await a.acquire(key, 2, signal());
    const l2 = await b.acquire(key, 2, signal());
    let third = false;
    const waiting = a.acquire(key, 2, signal()).then((l) => {
      third = true;
      return l;
    });
    // The key lives under the client's prefix (the fetcher's Redis ACL only grants keys under it).
    const first = await expiries(key);
    expect(first).toHaveLength(2);
    // Both leases renewed past their first expiry: the waiter has been refused for a whole lease by then.
    await waitFor(async () => Math.min(...(await expiries(key))) > Math.max(...first));
    expect(third).toBe(false);
    await l1.release();
    const l3 = await waiting;
    await l2.release();
    await l3.release();
    expect(await admin.exists(`aws:sem:${key}`)).toBe(0);
  });

  it("frees the slot of a holder that stopped renewing (crashed) once its lease expires", async () => {
    const crashed = connect();
    const key = uniqueName("k");
    await createRedisSemaphore(crashed, { logger, leaseMs: 600 }).acquire(key, 1, signal());
    // The holder's process dies: no release, no renewal.
    crashed.disconnect();
    const started = Date.now();
    const lease = await createRedisSemaphore(connect(), { logger, leaseMs: 600, retryMs: 20 }).acquire(
      key,
      1,
      signal(),
    );
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThan(300);
    expect(waited).toBeLessThan(5000);
    await lease.release();
  });

  it("keeps a slot held longer than its lease (renewed) and rejects an aborted wait with its reason", async () => {
    const sem = createRedisSemaphore(connect(), { logger, leaseMs: 300, retryMs: 20 });
    const key = uniqueName("k");
    const held = await sem.acquire(key, 1, signal());
    const [e0] = await expiries(key);
    const ac = new AbortController();
    const waiting = sem.acquire(key, 1, ac.signal);
    // Renewed to a whole lease beyond its first expiry: held well past the lease it was granted.
    await waitFor(async () => ((await expiries(key))[0] ?? 0) >= e0! + 300);
    ac.abort(new Error("stop waiting"));
    await expect(waiting).rejects.toThrow("stop waiting");
    await held.release();
  });
});
