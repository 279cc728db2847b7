import { DEFAULT_RATE_LIMITS } from "./rate-limiter.ts";
import type { RateLimitConfig } from "./rate-limiter.ts";
import { TrailDelay } from "./trail-delay.ts";

export interface FaultConfig {
  rateLimits: RateLimitConfig;
  /** Injected latency, uniform in [minMs, maxMs]; null = none. */
  latency: { minMs: number; maxMs: number } | null;
  /** Fraction of requests (0..1) answered with an injected 5xx. */
  errorRate: number;
  /** One-shot throttling: throttle the first attempt of every request (true), or only of the listed operations ("iam:ListUsers" or "ListUsers"). */
  throttleFirstAttempt: boolean | string[];
  /** CloudTrail delivery delay of new events, drawn per event from this distribution. */
  cloudTrailDelay: TrailDelay;
  /** Seed of the delay sampler (the same seed and calls give the same delays). */
  cloudTrailDelaySeed: number;
  /** Record read-only calls (List/Get/Describe…) in CloudTrail, as AWS does. */
  cloudTrailReadEvents: boolean;
  /** How long Create/DeleteAccountAssignment stay IN_PROGRESS, drawn per operation from this distribution. */
  assignmentDelay: TrailDelay;
  /** Seed of the assignment delay sampler (the same seed and calls give the same delays). */
  assignmentDelaySeed: number;
  /**
   * Outstanding asynchronous assignment operations allowed per instance; one more is refused with
   * ThrottlingException. AWS: 15, not increasable (aam-quotas.html "Throttle limits").
   */
  assignmentOutstandingCap: number;
  /** Force STS credentials to this lifetime (seconds); null = as requested. */
  sessionDurationOverrideSeconds: number | null;
}
export type FaultUpdate = Partial<Omit<FaultConfig, "rateLimits">> & {
  rateLimits?: boolean | Partial<RateLimitConfig>;
  /** Shorthand for `cloudTrailDelay: { kind: "fixed", ms }`. */
  cloudTrailDelayMs?: number;
  /** Shorthand for `assignmentDelay: { kind: "fixed", ms }`. */
  assignmentDelayMs?: number;
};

export function defaultFaults(): FaultConfig {
  return {
    rateLimits: { ...DEFAULT_RATE_LIMITS },
    latency: null,
    errorRate: 0,
    throttleFirstAttempt: false,
    cloudTrailDelay: { kind: "fixed", ms: 0 },
    cloudTrailDelaySeed: 1,
    cloudTrailReadEvents: true,
    assignmentDelay: { kind: "fixed", ms: 0 },
    assignmentDelaySeed: 1,
    assignmentOutstandingCap: 15,
    sessionDurationOverrideSeconds: null,
  };
}
export function applyFaults(cur: FaultConfig, f: FaultUpdate): FaultConfig {
  const { rateLimits, cloudTrailDelayMs, assignmentDelayMs, ...rest } = f;
  const next: FaultConfig = { ...cur, ...rest, rateLimits: { ...cur.rateLimits } };
  if (cloudTrailDelayMs !== undefined) next.cloudTrailDelay = { kind: "fixed", ms: cloudTrailDelayMs };
  next.cloudTrailDelay = TrailDelay.parse(next.cloudTrailDelay);
  if (assignmentDelayMs !== undefined) next.assignmentDelay = { kind: "fixed", ms: assignmentDelayMs };
  next.assignmentDelay = TrailDelay.parse(next.assignmentDelay);
  if (!Number.isInteger(next.assignmentOutstandingCap) || next.assignmentOutstandingCap < 1)
    throw new Error("assignmentOutstandingCap must be an integer >= 1");
  if (typeof rateLimits === "boolean") next.rateLimits.enabled = rateLimits;
  else if (rateLimits) next.rateLimits = { ...next.rateLimits, enabled: true, ...rateLimits };
  if (next.latency && (next.latency.minMs < 0 || next.latency.maxMs < next.latency.minMs))
    throw new Error("latency: need 0 <= minMs <= maxMs");
  if (next.errorRate < 0 || next.errorRate > 1) throw new Error("errorRate must be within 0..1");
  return next;
}
