/** Requests per second per quota scope (see README for the scopes). */
export interface RateLimitConfig {
  enabled: boolean;
  /** Multiplies every rate (0.1 = a tenth of AWS's limits). */
  scale: number;
  /** IAM Identity Center admin APIs: shared by all operations, per instance. */
  ssoAdmin: number;
  /** Identity Store: per operation per store. */
  identityStore: number;
  /** IAM: per account per operation. */
  iam: number;
  /** Organizations: per operation (org-wide). */
  organizations: number;
  /** STS: per calling account, all operations. */
  sts: number;
  /** CloudTrail LookupEvents: per account. */
  cloudtrail: number;
}
export const DEFAULT_RATE_LIMITS: RateLimitConfig = {
  enabled: false,
  scale: 1,
  ssoAdmin: 20,
  identityStore: 20,
  iam: 20,
  organizations: 10,
  sts: 50,
  cloudtrail: 2,
};
export type QuotaFamily = Exclude<keyof RateLimitConfig, "enabled" | "scale">;

interface Bucket {
  tokens: number;
  last: number;
}

/** Token buckets keyed by scope; capacity = one second of rate (burst), refilled continuously. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  constructor(public config: RateLimitConfig) {}

  /** true = allowed (a token was taken), false = throttle. */
  take(family: QuotaFamily, scope: string, now = performance.now()): boolean {
    if (!this.config.enabled) return true;
    const rate = Math.max(0.001, this.config[family] * this.config.scale);
    const cap = Math.max(1, rate);
    let b = this.buckets.get(scope);
    if (!b) this.buckets.set(scope, (b = { tokens: cap, last: now }));
    b.tokens = Math.min(cap, b.tokens + ((now - b.last) / 1000) * rate);
    b.last = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
  reset(): void {
    this.buckets.clear();
  }
}
