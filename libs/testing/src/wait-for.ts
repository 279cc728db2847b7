import { setTimeout as sleep } from "node:timers/promises";

export interface WaitForOptions {
  /** @default 20000 */
  timeoutMs?: number;
  /** @default 50 */
  intervalMs?: number;
  /** Said in the error when the condition never held. */
  message?: string;
}

/**
 * Polls `condition` until it returns a truthy value and returns that value; throws after `timeoutMs`
 * with the last error the condition threw, so a failing wait says why.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  opts: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  let last: unknown;
  for (;;) {
    try {
      const v = await condition();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : "";
      throw new Error(`waitFor timed out${opts.message ? ` (${opts.message})` : ""}${why}`);
    }
    await sleep(opts.intervalMs ?? 50);
  }
}
