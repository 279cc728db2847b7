import type { z } from "zod";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createAdminApi } from "./admin-api.ts";
import { Counters } from "./counters.ts";
import type { SimCounters, SimTimeline } from "./counters.ts";
import { applyFaults, defaultFaults } from "./faults.ts";
import type { FaultConfig, FaultUpdate } from "./faults.ts";
import { generateOrg } from "./generate-org.ts";
import type { Preset } from "./generate-org.ts";
import { createMutations } from "./mutations.ts";
import type { SimMutations } from "./mutations.ts";
import { OrgDocument } from "./org-document.ts";
import { RateLimiter } from "./rate-limiter.ts";
import type { RateLimitConfig } from "./rate-limiter.ts";
import { createHandler } from "./server.ts";
import { Store } from "./store.ts";
import type { TrailDelay } from "./trail-delay.ts";
import type { TrailEvent } from "./cloud-trail-log.ts";
import type { ProvisioningCounters } from "./store/provisioning-counters.ts";

export interface AwsSimOptions {
  org?: z.input<typeof OrgDocument>;
  preset?: Preset;
  seed?: number;
  host?: string;
  port?: number;
  rateLimits?: boolean | Partial<RateLimitConfig>;
  latency?: { minMs: number; maxMs: number } | null;
  errorRate?: number;
  /** Fixed CloudTrail delivery delay (shorthand for `cloudTrailDelay: { kind: "fixed", ms }`). */
  cloudTrailDelayMs?: number;
  /** CloudTrail delivery delay distribution (default fixed 0: events visible at once). */
  cloudTrailDelay?: TrailDelay;
  /** Seed of the delivery-delay sampler (default: `seed`, else 1). */
  cloudTrailDelaySeed?: number;
  /** Record read-only calls in CloudTrail (default true). */
  cloudTrailReadEvents?: boolean;
  /** Read-only events kept (all accounts together), oldest dropped first (default 20000). */
  cloudTrailMaxReadEvents?: number;
  /** Region of the Identity Center instance: sso / identitystore events are recorded there (default us-east-1). */
  identityCenterRegion?: string;
  sessionDurationOverrideSeconds?: number;
  /** Fixed time Create/DeleteAccountAssignment stay IN_PROGRESS (default 0: done by the next request). */
  assignmentDelayMs?: number;
  /** Distribution of that time, drawn per operation (overrides `assignmentDelayMs`). */
  assignmentDelay?: TrailDelay;
  /** Seed of the assignment delay sampler (default: `seed`, else 1). */
  assignmentDelaySeed?: number;
  /** Outstanding assignment operations allowed per instance before ThrottlingException (default 15, as AWS). */
  assignmentOutstandingCap?: number;
}
export interface AwsSim {
  url: string;
  region: string;
  managementCredentials: { accessKeyId: string; secretAccessKey: string };
  /** Identity Center instance and store of the loaded org (undefined without Identity Center). */
  instanceArn: string | undefined;
  identityStoreId: string | undefined;
  managementAccountId: string;
  /** Region of the Identity Center instance (its sso / identitystore CloudTrail events are recorded there). */
  identityCenterRegion: string;
  exportOrg(): OrgDocument;
  /** Every CloudTrail event recorded for an account (default: management), visible or not, oldest first. */
  trail(accountId?: string): TrailEvent[];
  counters(): SimCounters;
  resetCounters(): void;
  /** Account assignment operations per Identity Center instance: outstanding, peak, conflicts, refusals. */
  provisioning(): ProvisioningCounters;
  resetProvisioning(): void;
  timeline(): SimTimeline;
  faults(): FaultConfig;
  setFaults(f: FaultUpdate): void;
  mutate: SimMutations;
  close(): Promise<void>;
}

export async function startAwsSim(opts: AwsSimOptions = {}): Promise<AwsSim> {
  const doc = opts.org ? OrgDocument.parse(opts.org) : generateOrg(opts.preset ?? "tiny", opts.seed ?? 1);
  const store = new Store(doc);
  const region = "us-east-1";
  const counters = new Counters();
  let faults = applyFaults(defaultFaults(), {
    rateLimits: opts.rateLimits ?? false,
    latency: opts.latency ?? null,
    errorRate: opts.errorRate ?? 0,
    cloudTrailDelay: opts.cloudTrailDelay ?? { kind: "fixed", ms: opts.cloudTrailDelayMs ?? 0 },
    cloudTrailDelaySeed: opts.cloudTrailDelaySeed ?? opts.seed ?? 1,
    cloudTrailReadEvents: opts.cloudTrailReadEvents ?? true,
    assignmentDelay: opts.assignmentDelay ?? { kind: "fixed", ms: opts.assignmentDelayMs ?? 0 },
    assignmentDelaySeed: opts.assignmentDelaySeed ?? opts.seed ?? 1,
    assignmentOutstandingCap: opts.assignmentOutstandingCap ?? 15,
    sessionDurationOverrideSeconds: opts.sessionDurationOverrideSeconds ?? null,
  });
  const limiter = new RateLimiter(faults.rateLimits);
  store.trail.identityCenterRegion = opts.identityCenterRegion ?? region;
  if (opts.cloudTrailMaxReadEvents !== undefined) store.trail.maxReadEvents = opts.cloudTrailMaxReadEvents;
  let trailDelay = "";
  let assignmentDelay = "";
  const sync = (): void => {
    limiter.config = faults.rateLimits;
    // Re-seed only when the distribution or seed changes, so unrelated fault updates keep the delay sequence.
    const d = JSON.stringify([faults.cloudTrailDelay, faults.cloudTrailDelaySeed]);
    if (d !== trailDelay) store.trail.setDelay(faults.cloudTrailDelay, faults.cloudTrailDelaySeed);
    trailDelay = d;
    store.trail.recordReads = faults.cloudTrailReadEvents;
    const a = JSON.stringify([faults.assignmentDelay, faults.assignmentDelaySeed]);
    if (a !== assignmentDelay) store.ssoAdmin.setDelay(faults.assignmentDelay, faults.assignmentDelaySeed);
    assignmentDelay = a;
    store.ssoAdmin.outstandingCap = faults.assignmentOutstandingCap;
  };
  sync();
  const setFaults = (f: FaultUpdate): void => {
    const before = JSON.stringify(faults.rateLimits);
    faults = applyFaults(faults, f);
    if (JSON.stringify(faults.rateLimits) !== before) limiter.reset();
    sync();
  };
  const mutate = createMutations(store);
  let url = "";
  const info = (): Record<string, unknown> => ({
    url,
    region,
    managementCredentials: store.managementCredentials,
    managementAccountId: store.org.managementAccountId,
    organizationId: store.org.id,
    instanceArn: store.ic?.instanceArn,
    identityStoreId: store.ic?.identityStoreId,
    identityCenterRegion: store.trail.identityCenterRegion,
  });
  const admin = createAdminApi({
    store,
    counters,
    mutations: mutate,
    getFaults: () => faults,
    setFaults,
    info,
  });
  const server = createServer(
    createHandler({ store, counters, limiter, faults: () => faults, region, admin }),
  );
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  url = `http://${host}:${addr.port}`;
  return {
    url,
    region,
    managementCredentials: { ...store.managementCredentials },
    instanceArn: store.ic?.instanceArn,
    identityStoreId: store.ic?.identityStoreId,
    managementAccountId: store.org.managementAccountId,
    identityCenterRegion: store.trail.identityCenterRegion,
    exportOrg: () => store.exportOrg(),
    trail: (accountId = store.org.managementAccountId) => structuredClone(store.trail.all(accountId)),
    counters: () => counters.snapshot(),
    resetCounters: () => counters.reset(),
    provisioning: () => store.ssoAdmin.provisioningCounters(),
    resetProvisioning: () => store.ssoAdmin.resetProvisioningCounters(),
    timeline: () => counters.timelineSnapshot(),
    faults: () => structuredClone(faults),
    setFaults,
    mutate,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => (e ? reject(e) : resolve()));
      }),
  };
}
