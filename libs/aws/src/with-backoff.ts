import { setTimeout as sleep } from "node:timers/promises";

/** Bounded exponential backoff: delays grow from `initialMs` by `factor` up to `maxMs`, for `totalMs` at most. */
export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
  totalMs: number;
}

/**
 * Runs `attempt` until it returns something other than `undefined`, waiting a growing, jittered (±25 %) delay
 * between attempts; `undefined` once `totalMs` has passed. Rejects with `signal.reason` when aborted.
 */
export async function withBackoff<T>(
  b: Backoff,
  signal: AbortSignal,
  attempt: () => Promise<T | undefined>,
): Promise<T | undefined> {
  const end = performance.now() + b.totalMs;
  let delay = b.initialMs;
  for (;;) {
    signal.throwIfAborted();
    const v = await attempt();
    if (v !== undefined) return v;
    const left = end - performance.now();
    if (left <= 0) return undefined;
    const wait = Math.min(left, delay * (0.75 + Math.random() * 0.5));
    // An aborted wait rejects with a generic AbortError; the check at the top rethrows the caller's reason.
    await sleep(wait, undefined, { signal }).catch(() => {});
    delay = Math.min(b.maxMs, delay * b.factor);
  }
}
