import type { Logger } from "@grantline/log";

export interface ShutdownOptions {
  logger: Logger;
  /** Steps run in order on the first SIGTERM/SIGINT: stop intake and finish work first, close clients last. */
  steps: Array<{ name: string; run: () => Promise<unknown> }>;
  /** Hard limit for all steps; past it the process exits 1. Keep below the orchestrator's grace period. */
  timeoutMs: number;
}

/**
 * Graceful shutdown. The first signal runs the steps and exits 0; a second signal, or the timeout, exits 1 at
 * once — an operator pressing Ctrl-C twice means it.
 */
export function installShutdown(o: ShutdownOptions): void {
  let started = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (started) {
      o.logger.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    started = true;
    o.logger.info({ signal }, "shutting down");
    const took: Record<string, number> = {};
    let current: string | null = null;
    const timer = setTimeout(() => {
      // Name the step that hung: a timed-out shutdown is otherwise a guess.
      o.logger.error({ timeoutMs: o.timeoutMs, step: current, steps: took }, "shutdown timed out");
      process.exit(1);
    }, o.timeoutMs);
    timer.unref();
    void (async () => {
      const started = performance.now();
      for (const step of o.steps) {
        current = step.name;
        const t = performance.now();
        try {
          await step.run();
        } catch (err) {
          o.logger.error({ err, step: step.name }, "shutdown step failed");
        }
        took[step.name] = Math.round(performance.now() - t);
      }
      // Per-step times: a slow stop (against the orchestrator's grace period) names its culprit.
      o.logger.info({ ms: Math.round(performance.now() - started), steps: took }, "shutdown complete");
      process.exit(0);
    })();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
