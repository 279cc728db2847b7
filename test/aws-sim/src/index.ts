export { startAwsSim } from "./sim.ts";
export type { AwsSim, AwsSimOptions } from "./sim.ts";
export { mulberry32 } from "./ids.ts";
export { generateOrg, PRESETS, SYNC_USER, ACCESS_ROLE, AUDIT_ROLE, EXTERNAL_ID } from "./generate-org.ts";
export type { Preset } from "./generate-org.ts";
export { OrgDocument } from "./org-document.ts";
export type {
  AccountDoc,
  AssignmentDoc,
  IamGroupDoc,
  IamPolicyDoc,
  IamRoleDoc,
  IamUserDoc,
  IdentityCenterDoc,
  IdentityStoreGroupDoc,
  IdentityStoreUserDoc,
  OrgPolicyDoc,
  OrgPolicyType,
  PermissionSetBoundary,
  PermissionSetDoc,
} from "./org-document.ts";
export { DEFAULT_RATE_LIMITS } from "./rate-limiter.ts";
export type { RateLimitConfig } from "./rate-limiter.ts";
export type { FaultConfig, FaultUpdate } from "./faults.ts";
export type { SimCounters, OperationCounters, SimTimeline, TimelinePoint } from "./counters.ts";
export type { SimMutations } from "./mutations.ts";
export type { InstanceProvisioning, ProvisioningCounters } from "./store/provisioning-counters.ts";
export { AWS_MANAGED_POLICIES } from "./aws-managed-policies.ts";
export type { CallOptions } from "./mutations.ts";
export { TrailDelay, parseTrailDelay, trailDelaySampler, maxTrailDelayMs } from "./trail-delay.ts";
export type { TrailEvent } from "./cloud-trail-log.ts";
export { HIDDEN, SCIM_SOURCE } from "./scim-events.ts";
