import type { Logger } from "@grantline/log";

export interface ExpiryTickDeps {
  isLeader(): boolean;
  /** Fires the expiries due now (libs/db expireDueGrants): each once, however many sweepers run. */
  expire(): Promise<{ expired: number; revokes: number }>;
  kickOutbox(): void;
  logger: Logger;
}

/** The leader's expiry duty: time-bound grants whose time ran out end, and the last holder's end revokes. */
export function createExpiryTick(deps: ExpiryTickDeps): () => Promise<void> {
  return async () => {
    if (!deps.isLeader()) return;
    const r = await deps.expire();
    if (r.expired === 0) return;
    deps.kickOutbox();
    deps.logger.info(r, "time-bound grants expired");
  };
}
