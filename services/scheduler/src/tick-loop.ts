import type { Logger } from "@grantline/log";

export interface TickLoop {
  /** Stops scheduling ticks and waits for the one running. */
  stop(): Promise<void>;
}

/**
 * Runs `steps` in order every `everyMs`. Ticks never overlap: a tick that overruns its interval delays the
 * next instead of running beside it (two ticks could both see a stalled task and re-publish it twice). A
 * failing step is logged and ends that tick; the next tick runs as usual.
 */
export function startTickLoop(o: {
  everyMs: number;
  steps: Array<() => Promise<void>>;
  logger: Logger;
}): TickLoop {
  let ticking = Promise.resolve();
  const timer = setInterval(() => {
    ticking = ticking
      .then(async () => {
        for (const step of o.steps) await step();
      })
      .catch((err: unknown) => o.logger.error({ err }, "scheduler tick failed"));
  }, o.everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await ticking;
    },
  };
}
