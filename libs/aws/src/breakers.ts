import CircuitBreaker from "opossum";
import { RetryableError } from "@grantline/contracts";
import type { Logger } from "@grantline/log";
import type { BudgetService } from "./budgets.ts";
import { notifyListener } from "./notify-listener.ts";

/** What one circuit guards: a service of a source in one account (`"self"`: the source's own). */
export interface BreakerKey {
  sourceId: string;
  service: BudgetService;
  account: string;
}

/** A circuit breaker opened or closed. */
export interface AwsBreakerEvent extends BreakerKey {
  open: boolean;
}

/**
 * Thrown instead of calling AWS while the circuit of (source, service, account) is open: AWS failed there
 * repeatedly, so the page waits out the reset rather than adding load. Retryable, never permanent: the circuit
 * closes again once a trial call succeeds.
 */
export class CircuitOpenError extends RetryableError {
  readonly breaker: BreakerKey;
  constructor(breaker: BreakerKey, opts: ErrorOptions & { retryAfterMs: number; giveUpAfterMs?: number }) {
    const where = breaker.account === "self" ? "" : ` in account ${breaker.account}`;
    super(`circuit open for ${breaker.service} of source ${breaker.sourceId}${where}`, opts);
    this.name = "CircuitOpenError";
    this.breaker = breaker;
  }
}

export interface BreakersOptions {
  /**
   * A circuit opens once more than this percentage of its calls failed within a 10 s window of at least 10 calls
   * (exactly this percentage does not open it). Only retryable failures count.
   */
  errorPercent: number;
  /** How long an open circuit refuses calls before letting one trial call through. */
  resetMs: number;
  /** A page refused by an open circuit gives up this long after it was first published (`RetryableError`). */
  giveUpAfterMs?: number;
  logger: Logger;
  onBreaker?: (e: AwsBreakerEvent) => void;
}

export interface Breakers<T> {
  /** Runs `run` through the circuit of `key`; rejects with `CircuitOpenError` while it is open. */
  fire(key: BreakerKey, run: () => Promise<T>, signal: AbortSignal): Promise<T>;
  /** Stops every circuit's timers. */
  shutdown(): void;
}

/** One opossum circuit breaker per (source, service, account), created on first use. */
export function createBreakers<T>(o: BreakersOptions): Breakers<T> {
  type Run = () => Promise<T>;
  const breakers = new Map<string, CircuitBreaker<[Run, AbortSignal], T>>();
  const aborted = new WeakSet<object>();
  // opossum refuses with a plain Error and announces it on "reject" first; remembering that object is how a
  // refusal is told from a failure of the call itself, without matching its code string.
  const refused = new WeakSet<object>();

  function breakerFor(key: BreakerKey): CircuitBreaker<[Run, AbortSignal], T> {
    const name = `${key.sourceId}/${key.service}/${key.account}`;
    let b = breakers.get(name);
    if (b) return b;
    b = new CircuitBreaker(
      async (run: Run, signal: AbortSignal) => {
        try {
          return await run();
        } catch (err) {
          if (signal.aborted && typeof err === "object" && err !== null) aborted.add(err);
          throw err;
        }
      },
      {
        timeout: false,
        errorThresholdPercentage: o.errorPercent,
        resetTimeout: o.resetMs,
        rollingCountTimeout: 10_000,
        volumeThreshold: 10,
        // Only failures AWS may recover from count; a shutdown abort is not AWS's fault.
        errorFilter: (err: unknown) => !(err instanceof RetryableError) || aborted.has(err),
      },
    );
    b.on("reject", (err) => refused.add(err));
    b.on("open", () => {
      o.logger.warn({ breaker: name }, "aws circuit opened");
      if (o.onBreaker) notifyListener(o.logger, o.onBreaker, { ...key, open: true });
    });
    b.on("close", () => {
      o.logger.info({ breaker: name }, "aws circuit closed");
      if (o.onBreaker) notifyListener(o.logger, o.onBreaker, { ...key, open: false });
    });
    breakers.set(name, b);
    return b;
  }

  return {
    async fire(key, run, signal) {
      try {
        return await breakerFor(key).fire(run, signal);
      } catch (err) {
        if (typeof err === "object" && err !== null && refused.has(err)) {
          throw new CircuitOpenError(key, {
            cause: err,
            retryAfterMs: o.resetMs,
            ...(o.giveUpAfterMs !== undefined ? { giveUpAfterMs: o.giveUpAfterMs } : {}),
          });
        }
        throw err;
      }
    },
    shutdown() {
      for (const b of breakers.values()) b.shutdown();
      breakers.clear();
    },
  };
}
