import { ProvisioningCall } from "@grantline/contracts";
import type { z } from "zod";

/**
 * One access to grant or revoke in AWS: a provisioning call's `change` (the ids AWS wants, resolved from the synced
 * rows) and the `sourceId` whose credentials act. Picked from the contracts schema rather than declared again, so
 * the fetcher hands a `ProvisioningCall` over as it arrives and the two shapes cannot drift.
 */
export const AccessChange = ProvisioningCall.pick({ sourceId: true, change: true });
export type AccessChange = z.infer<typeof AccessChange>;
