import type { ConfirmSweep, StalledProvisioning } from "@grantline/db";
import type { Logger } from "@grantline/log";

export interface ProvisioningTickDeps {
  isLeader(): boolean;
  /** Hands accepted requests' AWS changes to the fetcher (libs/db startProvisioningCalls); returns how many. */
  start(): Promise<number>;
  /** Hands over again executions whose answer never came, or fails them (republishStalledProvisioning). */
  recover(): Promise<StalledProvisioning>;
  /** Confirms AWS-confirmed changes the synced rows now show (confirmProvisioning). */
  confirm(): Promise<ConfirmSweep>;
  kickOutbox(): void;
  logger: Logger;
}

/**
 * The leader's provisioning duty, every feed tick: start what was accepted, recover what went quiet, confirm
 * what the re-reads show. Only the leader runs it, so one replica publishes each execution; a hand-over is safe
 * because every step is a state transition under row locks in Postgres.
 */
export function createProvisioningTick(deps: ProvisioningTickDeps): () => Promise<void> {
  return async () => {
    if (!deps.isLeader()) return;
    const started = await deps.start();
    const stalled = await deps.recover();
    const sweep = await deps.confirm();
    if (started + stalled.republished + stalled.failed + sweep.confirmed + sweep.failed > 0)
      deps.kickOutbox();
    if (started > 0) deps.logger.info({ started }, "provisioning executions handed to the fetcher");
    if (stalled.republished + stalled.failed > 0)
      deps.logger.warn(stalled, "provisioning executions without an answer handed over again or failed");
    if (sweep.confirmed + sweep.failed + sweep.reread > 0)
      deps.logger.info(sweep, "provisioning confirmations");
  };
}
