import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { RetryableError } from "@grantline/contracts";
import type { Logger } from "@grantline/log";

/**
 * The one Redis call the semaphore makes: ioredis's `eval` (it applies the client's key prefix to the script's
 * keys). Declared here, as `RateLimiter` is, so that AWS code does not depend on a Redis client.
 */
export interface SemaphoreRedis {
  eval(script: string, numkeys: number, ...args: (string | number)[]): Promise<unknown>;
}

/** A held slot. It is renewed in the background until released, so only a holder that died lets it expire. */
export interface SlotLease {
  release(): Promise<void>;
}

export interface AssignmentSemaphore {
  /** Waits for one of `cap` slots of `key`; rejects with `signal.reason` when aborted. */
  acquire(key: string, cap: number, signal: AbortSignal): Promise<SlotLease>;
}

export interface RedisSemaphoreOptions {
  /** Prepended to every key (after the client's own prefix). @default "aws:sem:" */
  prefix?: string;
  /** How long a slot outlives its holder's last renewal. @default 60000 */
  leaseMs?: number;
  /** Wait between attempts while every slot is taken (jittered ×1–2). @default 200 */
  retryMs?: number;
  logger: Logger;
}

/**
 * The holders of one key as a JSON object `{ holderId: leaseExpiryMs }` in a plain string: GET/SET/DEL/TIME are
 * all the fetcher's Redis ACL grants to scripts (libs/redis redis-acl.ts), and a cap is a handful of holders.
 * Redis's clock (TIME), not the replicas', dates the leases. ARGV: op (acquire | release), holder, cap, leaseMs.
 * `acquire` of a holder already present renews it (or re-takes a slot that expired while it was away).
 */
const SEMAPHORE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local raw = redis.call('GET', KEYS[1])
local held = {}
if raw then held = cjson.decode(raw) end
local live, n, last = {}, 0, now
for id, exp in pairs(held) do
  if exp > now then live[id] = exp; n = n + 1 end
end
local holder, cap, lease = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local granted = 0
if ARGV[1] == 'acquire' then
  if live[holder] or n < cap then
    if not live[holder] then n = n + 1 end
    live[holder] = now + lease
    granted = 1
  end
elseif live[holder] then
  live[holder] = nil
  n = n - 1
end
if n == 0 then
  redis.call('DEL', KEYS[1])
else
  for _, exp in pairs(live) do if exp > last then last = exp end end
  redis.call('SET', KEYS[1], cjson.encode(live), 'PX', last - now)
end
return {granted, n}
`;

/**
 * A counting semaphore in Redis shared by every fetcher replica: at most `cap` holders of a key at once. Slots
 * are leases renewed every third of `leaseMs` while held, so a crashed replica's slots free themselves.
 *
 * @example
 * const sem = createRedisSemaphore(redis, { logger });
 * const lease = await sem.acquire(`${sourceId}:${instanceArn}`, 10, signal);
 * try { await createAndWait(); } finally { await lease.release(); }
 */
export function createRedisSemaphore(redis: SemaphoreRedis, o: RedisSemaphoreOptions): AssignmentSemaphore {
  const prefix = o.prefix ?? "aws:sem:";
  const leaseMs = o.leaseMs ?? 60_000;
  const retryMs = o.retryMs ?? 200;

  async function run(op: "acquire" | "release", key: string, holder: string, cap: number): Promise<boolean> {
    const out = (await redis.eval(SEMAPHORE, 1, `${prefix}${key}`, op, holder, cap, leaseMs)) as [
      number,
      number,
    ];
    return out[0] === 1;
  }

  return {
    async acquire(key, cap, signal) {
      const holder = randomUUID();
      for (;;) {
        signal.throwIfAborted();
        let granted: boolean;
        try {
          granted = await run("acquire", key, holder, cap);
        } catch (err) {
          // No Redis, no cap: waiting is safe, going ahead without the slot is not.
          throw new RetryableError(`assignment semaphore ${key}: redis unavailable`, {
            cause: err,
            retryAfterMs: 1000,
          });
        }
        if (granted) break;
        await sleep(retryMs * (1 + Math.random()), undefined, { signal }).catch(() => {});
      }
      const renew = setInterval(() => {
        run("acquire", key, holder, cap).then(
          (ok) => {
            if (!ok) o.logger.warn({ key }, "assignment semaphore: lease lost and every slot taken");
          },
          (err: unknown) => o.logger.warn({ err, key }, "assignment semaphore: lease renewal failed"),
        );
      }, leaseMs / 3);
      renew.unref();
      return {
        async release() {
          clearInterval(renew);
          // A release that fails leaves the slot to expire with its lease.
          await run("release", key, holder, cap).catch((err: unknown) =>
            o.logger.warn({ err, key }, "assignment semaphore: release failed; the lease will expire"),
          );
        },
      };
    },
  };
}
