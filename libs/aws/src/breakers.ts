import { EventEmitter } from "node:events";
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
  /**
   * The rolling window the failure share is measured over (10 buckets). A closed circuit unused for a whole
   * window has nothing left in it and is dropped. @default 10000
   */
  windowMs?: number;
}

export interface Breakers<T> {
  /** Runs `run` through the circuit of `key`; rejects with `CircuitOpenError` while it is open. */
  fire(key: BreakerKey, run: () => Promise<T>, signal: AbortSignal): Promise<T>;
  /** Circuits held now: those used within the last window, and every one not closed. */
  size(): number;
  /** Stops every circuit's timers. */
  shutdown(): void;
}

const BUCKETS = 10;

/**
 * One opossum circuit breaker per (source, service, account), created on first use and dropped once it is closed
 * and unused for a whole window (its rolling counts are empty by then, so a new one starts where it left off).
 * The circuits share one bucket-rotation timer, and opossum's per-second stats snapshots and latency percentiles
 * are off (nothing reads them): left to itself, each circuit ran two timers a second for the life of the process —
 * with the per-account circuits of a 1,000-account organization (IAM, STS and CloudTrail in each), an idle fetcher
 * spent ~4 % of a core on them (2,000 circuits: 41 ms of CPU a second; docs/benchmarks.md).
 */
export function createBreakers<T>(o: BreakersOptions): Breakers<T> {
  type Run = () => Promise<T>;
  interface Entry {
    breaker: CircuitBreaker<[Run, AbortSignal], T>;
    inFlight: number;
    lastUsed: number;
  }
  const breakers = new Map<string, Entry>();
  const aborted = new WeakSet<object>();
  // opossum refuses with a plain Error and announces it on "reject" first; remembering that object is how a
  // refusal is told from a failure of the call itself, without matching its code string.
  const refused = new WeakSet<object>();
  const windowMs = o.windowMs ?? 10_000;
  const rotation = new EventEmitter().setMaxListeners(0);
  let ticker: NodeJS.Timeout | null = null;

  function tick(): void {
    rotation.emit("rotate");
    const idleSince = performance.now() - windowMs;
    for (const [name, e] of breakers) {
      if (e.inFlight === 0 && e.lastUsed <= idleSince && e.breaker.closed) {
        e.breaker.shutdown();
        breakers.delete(name);
      }
    }
    if (breakers.size === 0) stopTicker();
  }

  function stopTicker(): void {
    if (ticker) clearInterval(ticker);
    ticker = null;
  }

  function breakerFor(key: BreakerKey): Entry {
    const name = `${key.sourceId}/${key.service}/${key.account}`;
    const known = breakers.get(name);
    if (known) return known;
    const b = new CircuitBreaker(
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
        rollingCountTimeout: windowMs,
        rollingCountBuckets: BUCKETS,
        volumeThreshold: 10,
        rotateBucketController: rotation,
        enableSnapshots: false,
        rollingPercentilesEnabled: false,
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
    const entry: Entry = { breaker: b, inFlight: 0, lastUsed: performance.now() };
    breakers.set(name, entry);
    if (!ticker) {
      ticker = setInterval(tick, Math.floor(windowMs / BUCKETS));
      ticker.unref();
    }
    return entry;
  }

  return {
    async fire(key, run, signal) {
      const e = breakerFor(key);
      e.inFlight++;
      try {
        return await e.breaker.fire(run, signal);
      } catch (err) {
        if (typeof err === "object" && err !== null && refused.has(err)) {
          throw new CircuitOpenError(key, {
            cause: err,
            retryAfterMs: o.resetMs,
            ...(o.giveUpAfterMs !== undefined ? { giveUpAfterMs: o.giveUpAfterMs } : {}),
          });
        }
        throw err;
      } finally {
        e.inFlight--;
        e.lastUsed = performance.now();
      }
    },
    size: () => breakers.size,
    shutdown() {
      stopTicker();
      for (const e of breakers.values()) e.breaker.shutdown();
      breakers.clear();
    },
  };
}
