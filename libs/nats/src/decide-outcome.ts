import { PermanentError, RetryableError } from "@grantline/contracts";

export type Outcome = { kind: "ack" } | { kind: "nak"; delayMs: number } | { kind: "term"; reason: string };

export interface RetryPolicy {
  /** Deliveries after which a still-failing message is dead-lettered. @default 30 */
  maxDeliver: number;
  /** First retry delay; doubles per delivery. @default 1000 */
  baseDelayMs: number;
  /** @default 60000 */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxDeliver: 30, baseDelayMs: 1000, maxDelayMs: 60_000 };

/**
 * The one place an error becomes a message outcome. `PermanentError` (schema-invalid payload, a page the mapper
 * cannot read) is terminated and dead-lettered; everything else is retried with backoff — an unknown error is
 * more likely a blip than poison — until `maxDeliver`, after which it is dead-lettered so it cannot loop forever.
 */
export function decideOutcome(
  err: unknown,
  deliveryCount: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  /** How long ago the message was first published; compared with `RetryableError.giveUpAfterMs`. */
  ageMs?: number,
): Outcome {
  if (err === undefined) return { kind: "ack" };
  if (err instanceof PermanentError) return { kind: "term", reason: err.reason };
  if (deliveryCount >= policy.maxDeliver) return { kind: "term", reason: "max-deliveries" };
  if (
    err instanceof RetryableError &&
    err.giveUpAfterMs !== undefined &&
    ageMs !== undefined &&
    ageMs >= err.giveUpAfterMs
  )
    return { kind: "term", reason: "gave-up" };
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, deliveryCount - 1));
  const hinted = err instanceof RetryableError && err.retryAfterMs !== undefined ? err.retryAfterMs : 0;
  // Jitter spreads replicas' retries so a throttled scope is not hit by all of them in the same millisecond.
  const jitter = Math.floor(Math.random() * Math.min(250, backoff / 4));
  return { kind: "nak", delayMs: Math.max(hinted, backoff) + jitter };
}
