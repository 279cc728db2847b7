import type { Logger } from "@grantline/log";

export interface DeriverDeps {
  isLeader(): boolean;
  /** Sources whose derivations refresh runs left owed. */
  owing(): Promise<string[]>;
  /** Derives one source's owed work; null when another call did it first. */
  derive(sourceId: string): Promise<{ runId: string; events: object; chains: number } | null>;
  kickOutbox(): void;
  logger: Logger;
}

export interface Deriver {
  /** A tick step: starts a round in the background when the leader owes derivations and none is running. */
  step(): Promise<void>;
  /** Waits for the round running, if any. */
  stop(): Promise<void>;
}

/**
 * The leader's deriver (libs/db `deriveOwed`). A round derives every owing source, and goes again while a
 * refresh run ended during it left more owed. It runs beside the tick, not in it: on a large source a round
 * takes tens of seconds, and the tick's refresh runs and feed windows must not wait for it.
 */
export function createDeriver(deps: DeriverDeps): Deriver {
  let running: Promise<void> | null = null;
  let stopping = false;
  async function round(): Promise<void> {
    for (let owing = await deps.owing(); owing.length > 0 && !stopping; owing = await deps.owing()) {
      if (!deps.isLeader()) return;
      for (const sourceId of owing) {
        const started = Date.now();
        const done = await deps.derive(sourceId);
        if (!done) continue;
        deps.kickOutbox();
        deps.logger.info(
          { sourceId, runId: done.runId, ...done.events, chains: done.chains, ms: Date.now() - started },
          "derived grants and chains after refresh runs",
        );
      }
    }
  }
  return {
    step() {
      if (running || stopping || !deps.isLeader()) return Promise.resolve();
      running = round()
        .catch((err: unknown) => deps.logger.error({ err }, "derivation round failed; the next tick retries"))
        .finally(() => {
          running = null;
        });
      return Promise.resolve();
    },
    async stop() {
      stopping = true;
      await running;
    },
  };
}
