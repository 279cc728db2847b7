/** What an e2e or bench reads to check a client's provisioning behaviour (`GET /_sim/provisioning`). */
export interface InstanceProvisioning {
  /** Operations IN_PROGRESS now. */
  outstanding: number;
  /** The most operations IN_PROGRESS at once since the last reset. */
  peakOutstanding: number;
  started: number;
  succeeded: number;
  failed: number;
  /** Create/Delete answered ConflictException (an operation on the same assignment was still in progress). */
  conflicts: number;
  /** Create/Delete refused with ThrottlingException because the outstanding cap was reached. */
  refusedOverCap: number;
}
/** Per Identity Center instance ARN. */
export type ProvisioningCounters = Record<string, InstanceProvisioning>;
export const emptyProvisioning = (): InstanceProvisioning => ({
  outstanding: 0,
  peakOutstanding: 0,
  started: 0,
  succeeded: 0,
  failed: 0,
  conflicts: 0,
  refusedOverCap: 0,
});
