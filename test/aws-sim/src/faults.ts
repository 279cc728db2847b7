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
  /** How long Create/DeleteAccountAssignment stay IN_PROGRESS. */
  assignmentDelayMs: number;
  /** Force STS credentials to this lifetime (seconds); null = as requested. */
  sessionDurationOverrideSeconds: number | null;
}
export type FaultUpdate = Partial<Omit<FaultConfig, "rateLimits">> & {
  rateLimits?: boolean | Partial<RateLimitConfig>;
  /** Shorthand for `cloudTrailDelay: { kind: "fixed", ms }`. */
  cloudTrailDelayMs?: number;
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
    assignmentDelayMs: 0,
    sessionDurationOverrideSeconds: null,
  };
}
export function applyFaults(cur: FaultConfig, f: FaultUpdate): FaultConfig {
  const { rateLimits, cloudTrailDelayMs, ...rest } = f;
  const next: FaultConfig = { ...cur, ...rest, rateLimits: { ...cur.rateLimits } };
  if (cloudTrailDelayMs !== undefined) next.cloudTrailDelay = { kind: "fixed", ms: cloudTrailDelayMs };
  next.cloudTrailDelay = TrailDelay.parse(next.cloudTrailDelay);
  if (typeof rateLimits === "boolean") next.rateLimits.enabled = rateLimits;
  else if (rateLimits) next.rateLimits = { ...next.rateLimits, enabled: true, ...rateLimits };
  if (next.latency && (next.latency.minMs < 0 || next.latency.maxMs < next.latency.minMs))
    throw new Error("latency: need 0 <= minMs <= maxMs");
  if (next.errorRate < 0 || next.errorRate > 1) throw new Error("errorRate must be within 0..1");
  return next;
}
