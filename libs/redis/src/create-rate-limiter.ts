import { setTimeout as sleep } from "node:timers/promises";
import type { Redis } from "ioredis";

export interface RateLimits {
  /** Sustained grants per second before adaptation. */
  ratePerSec: number;
  /** Grants allowed at once from idle; at most `burst + rate × t` grants happen in any span `t`. */
  burst: number;
}

export interface AcquireResult {
  allowed: boolean;
  /** When not allowed: how long until a grant can succeed. 0 when allowed. */
  retryAfterMs: number;
}

export interface RateLimiterOptions {
  /** Prepended (after the client's keyPrefix) to every limiter key. @default "rl:" */
  prefix?: string;
  /** Multiplier applied by `penalize`. @default 0.8 */
  penaltyFactor?: number;
  /** Lowest multiplier `penalize` reaches. @default 0.1 */
  minMultiplier?: number;
  /** Added to the multiplier by `reward`, up to 1. @default 0.02 */
  rewardStep?: number;
  /**
   * Penalties closer together than this count once: a throttling burst fails many in-flight calls at the same
   * moment, and each of them penalizing would collapse the rate for one overload.
   * @default 1000
   */
  penaltyCooldownMs?: number;
  /** The multiplier resets to 1 this long after the last penalty, so a stale slow-down does not outlive the cause. @default 600 */
  penaltyTtlSeconds?: number;
}

export interface RateLimiter {
  /** Takes one grant for `key` if available now; never waits. */
  tryAcquire(key: string, limits: RateLimits): Promise<AcquireResult>;
  /**
   * Waits until a grant for `key` is taken; rejects with `signal.reason` when aborted. A process's waiters of one
   * key line up in order, and only the first asks Redis.
   */
  acquire(key: string, limits: RateLimits, signal?: AbortSignal): Promise<void>;
  /** Lowers the effective rate of `key` (AWS throttled despite the limiter); resolves to the new multiplier. */
  penalize(key: string): Promise<number>;
  /** Raises the effective rate of `key` a little after a success; resolves to the new multiplier. */
  reward(key: string): Promise<number>;
  /** The current multiplier of `key` (1 when not penalized). */
  multiplier(key: string): Promise<number>;
  /**
   * False while the connection is down or closed: a caller that can do without the shared limiter (an
   * in-process fallback) should not queue behind a reconnect. True while connecting at start, when commands
   * wait in the offline queue for a connection that is about to exist.
   */
  available(): boolean;
}

// GCRA: one "theoretical arrival time" per key. Times come from the server's TIME so every process shares one
// clock, and check-and-update is one script so concurrent callers cannot both take the last grant. One call takes
// up to ARGV[3] grants — as many as the limits allow now — and says how long until the next one is allowed.
// Times are stored in milliseconds with 3 decimals; Lua's default number formatting would drop precision.
const GCRA = `
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local mult = tonumber(redis.call("HGET", KEYS[2], "m") or "1")
local interval = 1000 / (rate * mult)
local tat = tonumber(redis.call("GET", KEYS[1]) or "0")
if tat < now then tat = now end
local granted = 0
while granted < want and now >= tat + interval - interval * burst do
  tat = tat + interval
  granted = granted + 1
end
if granted > 0 then
  redis.call("SET", KEYS[1], string.format("%.3f", tat), "PX", math.ceil(tat - now) + 1)
end
return {granted, math.max(0, math.ceil(tat + interval - interval * burst - now)), tostring(mult)}
`;

const PENALIZE = `
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local factor, floor, cooldown, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local m = tonumber(redis.call("HGET", KEYS[1], "m") or "1")
local last = tonumber(redis.call("HGET", KEYS[1], "p") or "0")
if now - last >= cooldown then
  m = math.max(floor, m * factor)
  redis.call("HSET", KEYS[1], "m", string.format("%.6f", m), "p", string.format("%.3f", now))
  redis.call("PEXPIRE", KEYS[1], ttl)
end
return tostring(m)
`;

const REWARD = `
local v = redis.call("HGET", KEYS[1], "m")
if not v then return "1" end
local m = tonumber(v) + tonumber(ARGV[1])
if m >= 1 then
  redis.call("DEL", KEYS[1])
  return "1"
end
redis.call("HSET", KEYS[1], "m", string.format("%.6f", m))
return tostring(m)
`;

interface LimiterCommands {
  grantlineGcraN(
    tatKey: string,
    adaptKey: string,
    rate: number,
    burst: number,
    want: number,
  ): Promise<[number, number, string]>;
  grantlinePenalize(
    adaptKey: string,
    factor: number,
    floor: number,
    cooldownMs: number,
    ttlMs: number,
  ): Promise<string>;
  grantlineReward(adaptKey: string, step: number): Promise<string>;
}

/**
 * A distributed GCRA rate limiter with adaptive slow-down, shared by every process using the same Redis.
 * The effective rate of a key is `ratePerSec × multiplier`; `penalize` lowers the multiplier multiplicatively
 * and `reward` raises it additively (AIMD), so the limiter settles just under what the remote API accepts.
 *
 * @example
 * const limiter = createRateLimiter(redis);
 * const key = `aws:${accountId}:iam`;
 * await limiter.acquire(key, { ratePerSec: 10, burst: 5 }, signal);
 * try {
 *   await iam.send(cmd);
 *   await limiter.reward(key);
 * } catch (err) {
 *   if (isThrottling(err)) await limiter.penalize(key);
 *   throw err;
 * }
 */
export function createRateLimiter(redis: Redis, opts: RateLimiterOptions = {}): RateLimiter {
  const prefix = opts.prefix ?? "rl:";
  const factor = opts.penaltyFactor ?? 0.8;
  const floor = opts.minMultiplier ?? 0.1;
  const step = opts.rewardStep ?? 0.02;
  const cooldownMs = opts.penaltyCooldownMs ?? 1000;
  const ttlMs = (opts.penaltyTtlSeconds ?? 600) * 1000;
  // defineCommand sends EVALSHA and falls back to EVAL once per connection, and applies the client's keyPrefix.
  redis.defineCommand("grantlineGcraN", { numberOfKeys: 2, lua: GCRA });
  redis.defineCommand("grantlinePenalize", { numberOfKeys: 1, lua: PENALIZE });
  redis.defineCommand("grantlineReward", { numberOfKeys: 1, lua: REWARD });
  const cmd = redis as unknown as LimiterCommands;

  // The hash tag keeps both keys of one scope in one slot, as a Redis Cluster script requires.
  const tatKey = (key: string) => `${prefix}{${key}}`;
  const adaptKey = (key: string) => `${prefix}{${key}}:adapt`;

  function checkLimits(limits: RateLimits): void {
    if (!(limits.ratePerSec > 0) || !(limits.burst >= 1)) {
      throw new RangeError(`rate limits need ratePerSec > 0 and burst >= 1, got ${JSON.stringify(limits)}`);
    }
  }

  /** Up to `want` grants taken now, and the time until the next one is allowed. */
  async function take(key: string, limits: RateLimits, want: number): Promise<[number, number]> {
    const [granted, retryAfterMs] = await cmd.grantlineGcraN(
      tatKey(key),
      adaptKey(key),
      limits.ratePerSec,
      limits.burst,
      want,
    );
    return [granted, retryAfterMs];
  }

  async function tryAcquire(key: string, limits: RateLimits): Promise<AcquireResult> {
    checkLimits(limits);
    const [granted, retryAfterMs] = await take(key, limits, 1);
    return granted === 1 ? { allowed: true, retryAfterMs: 0 } : { allowed: false, retryAfterMs };
  }

  // The waiters of a key in this process, in order, served by one loop per key that takes as many grants as
  // there are waiters (up to what the limits allow) in one script call. Every waiter polling for itself woke
  // together at the next grant's time and all but one went back to sleep — ~12 script calls per grant in the
  // medium benchmark, each a round trip the fetcher paid CPU for — and one waiter at a time in line made a round
  // trip per grant, which on a loaded machine fell behind the budget.
  interface Waiter {
    grant(): void;
    fail(err: unknown): void;
  }
  const lines = new Map<string, Waiter[]>();

  /** Serves `line` until it is empty; never rejects (a failure is every waiting caller's). */
  async function serve(key: string, limits: RateLimits, line: Waiter[]): Promise<void> {
    try {
      // Callers that ask in the same tick (a page's handlers, a Promise.all) join the line before the first
      // call: without this turn the first call asked for its starter alone and the burst took a second one.
      await Promise.resolve();
      while (line.length > 0) {
        const [granted, retryAfterMs] = await take(key, limits, line.length);
        // A waiter that gave up while the call was out has left the line: its grant goes to the next, or unused.
        for (const w of line.splice(0, granted)) w.grant();
        // The script's wait is until the next grant, also after granting some: asking again sooner only hears
        // "not yet" (it did, once per grant: half the script calls of a budget-bound run, issue 17).
        if (line.length > 0 && retryAfterMs > 0) await sleep(retryAfterMs);
      }
    } catch (err) {
      for (const w of line.splice(0)) w.fail(err);
    } finally {
      lines.delete(key);
    }
  }

  return {
    tryAcquire,
    acquire(key, limits, signal) {
      checkLimits(limits);
      signal?.throwIfAborted();
      return new Promise<void>((resolve, reject) => {
        const waiting = lines.get(key);
        const line = waiting ?? [];
        const done = (): void => signal?.removeEventListener("abort", onAbort);
        const waiter: Waiter = {
          grant: () => {
            done();
            resolve();
          },
          fail: (err) => {
            done();
            reject(err as Error);
          },
        };
        function onAbort(): void {
          const i = line.indexOf(waiter);
          if (i >= 0) line.splice(i, 1);
          reject(signal?.reason as Error);
        }
        signal?.addEventListener("abort", onAbort, { once: true });
        line.push(waiter);
        if (!waiting) {
          lines.set(key, line);
          void serve(key, limits, line);
        }
      });
    },
    async penalize(key) {
      return Number(await cmd.grantlinePenalize(adaptKey(key), factor, floor, cooldownMs, ttlMs));
    },
    async reward(key) {
      return Number(await cmd.grantlineReward(adaptKey(key), step));
    },
    async multiplier(key) {
      const m = await redis.hget(adaptKey(key), "m");
      return m === null ? 1 : Number(m);
    },
    available() {
      return redis.status === "ready" || redis.status === "connecting" || redis.status === "connect";
    },
  };
}
