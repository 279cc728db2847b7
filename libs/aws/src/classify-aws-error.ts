import { PermanentError, RetryableError } from "@grantline/contracts";

/** AWS error codes that mean "slow down" across IAM/STS (awsQuery), JSON protocols and S3-style services. */
const THROTTLING_CODES = new Set([
  "Throttling",
  "ThrottlingException",
  "ThrottledException",
  "RequestThrottledException",
  "TooManyRequestsException",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "BandwidthLimitExceeded",
  "LimitExceededException",
  "RequestThrottled",
  "SlowDown",
  "EC2ThrottledException",
  "PriorRequestNotComplete",
]);
const DENIED_CODES = new Set(["AccessDenied", "AccessDeniedException", "UnauthorizedOperation"]);
const NOT_FOUND_CODES = new Set([
  "NoSuchEntity",
  "NoSuchEntityException",
  "ResourceNotFoundException",
  "AccountNotFoundException",
  "ParentNotFoundException",
  "ChildNotFoundException",
  "OrganizationalUnitNotFoundException",
  "RootNotFoundException",
  "PolicyNotFoundException",
  "TargetNotFoundException",
]);
/**
 * The request itself is wrong (JSON protocols' ValidationException, IAM/STS's ValidationError, Organizations'
 * InvalidInputException): the same request fails the same way on every retry, and it says nothing about whether
 * the object exists, so it is neither retried nor skipped as "gone".
 */
const INVALID_CODES = new Set(["ValidationException", "ValidationError", "InvalidInputException"]);
const EXPIRED_CODES = new Set([
  "ExpiredToken",
  "ExpiredTokenException",
  "RequestExpired",
  "InvalidClientTokenId",
  "UnrecognizedClientException",
]);

/**
 * What a denial of these calls usually means, added to the warning so the run's warnings say what to fix rather
 * than only that something was refused.
 */
const DENIED_HINTS: Readonly<Record<string, string>> = {
  "organizations ListPolicies":
    "SCPs and RCPs can only be read from the organization's management account or a delegated administrator for Organizations; they are not synced (everything else is)",
  "organizations DescribePolicy":
    "SCPs and RCPs can only be read from the organization's management account or a delegated administrator for Organizations",
  "organizations ListTargetsForPolicy":
    "SCPs and RCPs can only be read from the organization's management account or a delegated administrator for Organizations",
};

/** The hint a denial of `service operation` carries in its warning, if it has one. */
export function deniedHint(service: string, operation: string): string | undefined {
  return DENIED_HINTS[`${service} ${operation}`];
}

/** Network failures that mean no AWS endpoint answered at all (DNS, refused, reset, timed out). */
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "ECONNRESET",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "TimeoutError",
  "RequestTimeout",
  "RequestTimeoutException",
]);

/**
 * How long a page keeps retrying while AWS does not answer (unreachable endpoint, 5xx, open circuit) before it
 * is dead-lettered with the reason — and its run fails saying why — instead of after every delivery (~25 min).
 * The fetcher's `AWS_UNAVAILABLE_GIVE_UP_MS`.
 */
export const AWS_UNAVAILABLE_GIVE_UP_MS = 5 * 60_000;

/** How long to wait before redelivering a throttled page: spread over 1–5 s so replicas do not return in lockstep. */
function throttleDelayMs(): number {
  return 1000 + Math.floor(Math.random() * 4000);
}

/**
 * What an AWS failure means for a page:
 * - `throttled` / `retryable` / `expired`: throw `error` (a `RetryableError`); `expired` also asks the caller to drop
 *   its cached credentials first.
 * - `denied` / `not-found`: not a failure — the page is recorded as skipped with `warning`.
 * - `invalid`: AWS rejected the request as malformed; throw `error` (a `PermanentError` carrying AWS's message),
 *   which fails the task instead of retrying it or passing it off as a vanished object.
 */
export type AwsErrorClass =
  | { kind: "throttled"; code: string; error: RetryableError }
  | { kind: "retryable"; code: string; error: RetryableError }
  | { kind: "expired"; code: string; error: RetryableError }
  | { kind: "denied"; code: string; skipped: "AccessDenied"; warning: string }
  | { kind: "not-found"; code: string; skipped: "NotFound"; warning: string }
  | { kind: "invalid"; code: string; error: PermanentError };

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $retryable?: { throttling?: boolean } | undefined;
  $metadata?: { httpStatusCode?: number } | undefined;
}

/** The AWS error code of `err` (SDK exceptions carry it as `name`; Node network errors as `code`). */
export function awsErrorCode(err: unknown): string {
  if (typeof err !== "object" || err === null) return "Unknown";
  const e = err as ErrorLike;
  if (typeof e.Code === "string" && e.Code) return e.Code;
  if (typeof e.name === "string" && e.name && e.name !== "Error") return e.name;
  if (typeof e.code === "string" && e.code) return e.code;
  return "Unknown";
}

/**
 * Classifies an error from one AWS call. The only permanent failure is a request AWS calls invalid; anything not
 * recognized is retryable, because losing work is worse than retrying it up to the consumer's delivery cap.
 *
 * @param what Names the call in messages, e.g. `"iam ListUsers (account 123456789012)"`.
 * @param hint Added to a denial's warning (see `deniedHint`).
 * @example
 * const c = classifyAwsError(err, "identitystore ListUsers");
 * if (c.kind === "denied" || c.kind === "not-found") return { page: {}, warnings: [c.warning], skipped: c.skipped };
 * throw c.error;
 */
export function classifyAwsError(
  err: unknown,
  what: string,
  hint?: string,
  giveUpAfterMs?: number,
): AwsErrorClass {
  const code = awsErrorCode(err);
  const e = (typeof err === "object" && err !== null ? err : {}) as ErrorLike;
  const message = typeof e.message === "string" ? e.message : String(err);
  const status = e.$metadata?.httpStatusCode;
  const detail = `${what}: ${code}: ${message}`;

  if (THROTTLING_CODES.has(code) || e.$retryable?.throttling === true || status === 429) {
    return {
      kind: "throttled",
      code,
      error: new RetryableError(`throttled: ${detail}`, { cause: err, retryAfterMs: throttleDelayMs() }),
    };
  }
  if (EXPIRED_CODES.has(code)) {
    return {
      kind: "expired",
      code,
      error: new RetryableError(`credentials rejected, refreshing: ${detail}`, {
        cause: err,
        retryAfterMs: 500,
      }),
    };
  }
  if (DENIED_CODES.has(code)) {
    return {
      kind: "denied",
      code,
      skipped: "AccessDenied",
      warning: `${what}: access denied: ${message}${hint ? ` — ${hint}` : ""}`,
    };
  }
  if (INVALID_CODES.has(code)) {
    return {
      kind: "invalid",
      code,
      error: new PermanentError("aws-invalid-request", `AWS rejected the request: ${detail}`, { cause: err }),
    };
  }
  if (NOT_FOUND_CODES.has(code)) {
    return {
      kind: "not-found",
      code,
      skipped: "NotFound",
      warning: `${what}: not found (it vanished since it was listed): ${code}: ${message}`,
    };
  }
  // 5xx, InternalFailure, ServiceUnavailable, network errors, timeouts, aborts and anything unknown.
  const serverSide = (status !== undefined && status >= 500) || e.$fault === "server";
  const unreachable =
    status === undefined && (UNREACHABLE_CODES.has(code) || /socket hang up/i.test(message));
  return {
    kind: "retryable",
    code,
    error: new RetryableError(
      `${unreachable ? "AWS endpoint unreachable" : serverSide ? "AWS server error" : "AWS call failed"}: ${detail}`,
      {
        cause: err,
        retryAfterMs: serverSide ? 1000 : undefined,
        // AWS not answering (or answering only errors) fails the page after a bound, not after every delivery.
        giveUpAfterMs: unreachable || serverSide ? (giveUpAfterMs ?? AWS_UNAVAILABLE_GIVE_UP_MS) : undefined,
      },
    ),
  };
}
