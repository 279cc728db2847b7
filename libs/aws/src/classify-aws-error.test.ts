import { describe, expect, it } from "vitest";
import { AWS_UNAVAILABLE_GIVE_UP_MS } from "./classify-aws-error.ts";
import { ResourceNotFoundException, ThrottlingException } from "@aws-sdk/client-identitystore";
import { NoSuchEntityException } from "@aws-sdk/client-iam";
import { TooManyRequestsException } from "@aws-sdk/client-organizations";
import { PermanentError, RetryableError } from "@grantline/contracts";
import { awsErrorCode, classifyAwsError, deniedHint } from "./classify-aws-error.ts";

const sdkError = (name: string, status: number, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(`${name} happened`), {
    name,
    $metadata: { httpStatusCode: status },
    ...extra,
  });

describe("classifyAwsError", () => {
  it.each([
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "RequestThrottledException",
  ])("treats %s as throttling with a 1–5 s redelivery delay", (code) => {
    const c = classifyAwsError(sdkError(code, 400), "iam ListUsers");
    expect(c.kind).toBe("throttled");
    if (c.kind !== "throttled") return;
    expect(c.error).toBeInstanceOf(RetryableError);
    expect(c.error.retryAfterMs).toBeGreaterThanOrEqual(1000);
    expect(c.error.retryAfterMs).toBeLessThanOrEqual(5000);
    expect(c.error.message).toContain("iam ListUsers");
  });

  it("recognizes the SDK's own exception classes and the $retryable.throttling flag", () => {
    const throttle = new ThrottlingException({ message: "Rate exceeded", $metadata: {} });
    expect(classifyAwsError(throttle, "x").kind).toBe("throttled");
    const orgs = new TooManyRequestsException({ message: "slow down", $metadata: {} });
    expect(classifyAwsError(orgs, "x").kind).toBe("throttled");
    const flagged = sdkError("SomethingNew", 400, { $retryable: { throttling: true } });
    expect(classifyAwsError(flagged, "x").kind).toBe("throttled");
    expect(classifyAwsError(sdkError("Whatever", 429), "x").kind).toBe("throttled");
  });

  it.each([
    ["InternalFailure", 500],
    ["ServiceUnavailable", 503],
    ["InternalServerException", 500],
    ["ServiceFailure", 500],
  ])("treats %s (%i) as retryable", (code, status) => {
    const c = classifyAwsError(sdkError(code, status, { $fault: "server" }), "sso-admin ListInstances");
    expect(c.kind).toBe("retryable");
    if (c.kind === "retryable") expect(c.error.message).toMatch(/AWS server error/);
  });

  it("treats network errors, timeouts and aborts as retryable", () => {
    const reset = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    expect(classifyAwsError(reset, "x")).toMatchObject({ kind: "retryable", code: "ECONNRESET" });
    const timeout = new DOMException("The operation was aborted due to timeout", "TimeoutError");
    expect(classifyAwsError(timeout, "x")).toMatchObject({ kind: "retryable", code: "TimeoutError" });
    const abort = new DOMException("aborted", "AbortError");
    expect(classifyAwsError(abort, "x").kind).toBe("retryable");
  });

  it("gives an unreachable endpoint or failing AWS a bound, and throttling none", () => {
    const bound = (err: unknown) => {
      const c = classifyAwsError(err, "organizations ListAccounts", undefined, 7000);
      return c.kind === "retryable" || c.kind === "throttled" ? c.error.giveUpAfterMs : "not retried";
    };
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" });
    expect(bound(refused)).toBe(7000);
    expect(classifyAwsError(refused, "organizations ListAccounts").kind === "retryable").toBe(true);
    const c = classifyAwsError(refused, "organizations ListAccounts");
    if (c.kind === "retryable") {
      expect(c.error.message).toMatch(/^AWS endpoint unreachable: organizations ListAccounts: ECONNREFUSED/);
      expect(c.error.giveUpAfterMs).toBe(AWS_UNAVAILABLE_GIVE_UP_MS);
    }
    expect(bound(Object.assign(new Error("getaddrinfo ENOTFOUND x"), { code: "ENOTFOUND" }))).toBe(7000);
    expect(bound(sdkError("ServiceUnavailable", 503))).toBe(7000);
    expect(bound(sdkError("ThrottlingException", 400))).toBeUndefined();
    expect(bound(new DOMException("aborted", "AbortError"))).toBeUndefined();
  });

  it.each(["AccessDenied", "AccessDeniedException"])(
    "turns %s into a skipped page with a warning",
    (code) => {
      const c = classifyAwsError(sdkError(code, 403), "identitystore ListUsers");
      expect(c).toMatchObject({ kind: "denied", skipped: "AccessDenied" });
      if (c.kind === "denied") expect(c.warning).toMatch(/identitystore ListUsers: access denied/);
    },
  );

  it("names the fix in a denial of the Organizations policy calls (management account or delegated admin)", () => {
    const hint = deniedHint("organizations", "ListPolicies");
    expect(hint).toMatch(/management account or a delegated administrator/);
    const c = classifyAwsError(sdkError("AccessDeniedException", 400), "organizations ListPolicies", hint);
    expect(c).toMatchObject({ kind: "denied", skipped: "AccessDenied" });
    if (c.kind === "denied") {
      expect(c.warning).toMatch(
        /^organizations ListPolicies: access denied: AccessDeniedException happened — /,
      );
      expect(c.warning).toContain("management account");
    }
    expect(deniedHint("organizations", "ListAccounts")).toBeUndefined();
  });

  it.each([
    ["ValidationException", "sso-admin ListPermissionSets"],
    ["ValidationError", "sts AssumeRole"],
    ["InvalidInputException", "organizations ListPolicies"],
  ])("fails %s permanently with AWS's message: an invalid request is not a vanished object", (code, what) => {
    const err = Object.assign(new Error("1 validation error detected: Value at 'maxResults' failed"), {
      name: code,
      $metadata: { httpStatusCode: 400 },
    });
    const c = classifyAwsError(err, what);
    expect(c.kind).toBe("invalid");
    if (c.kind !== "invalid") return;
    expect(c.error).toBeInstanceOf(PermanentError);
    expect(c.error).not.toBeInstanceOf(RetryableError);
    expect(c.error.reason).toBe("aws-invalid-request");
    expect(c.error.message).toBe(`AWS rejected the request: ${what}: ${code}: ${err.message}`);
    expect(c.error.cause).toBe(err);
  });

  it("turns a vanished scope (NoSuchEntity, ResourceNotFound, PolicyNotFound) into a NotFound skip", () => {
    const gone = new NoSuchEntityException({ message: "The role x cannot be found.", $metadata: {} });
    expect(classifyAwsError(gone, "iam GetRole")).toMatchObject({ kind: "not-found", skipped: "NotFound" });
    const rnf = new ResourceNotFoundException({
      message: "no group",
      $metadata: {},
      ResourceType: "GROUP",
      ResourceId: "g",
      RequestId: "r",
    });
    expect(classifyAwsError(rnf, "x").kind).toBe("not-found");
    expect(classifyAwsError(sdkError("PolicyNotFoundException", 400), "x").kind).toBe("not-found");
  });

  it("asks for fresh credentials on ExpiredToken, and retries", () => {
    for (const code of ["ExpiredToken", "ExpiredTokenException"]) {
      const c = classifyAwsError(sdkError(code, 400), "x");
      expect(c.kind).toBe("expired");
      if (c.kind === "expired") expect(c.error).toBeInstanceOf(RetryableError);
    }
  });

  it("never loses work: anything unknown is retryable", () => {
    for (const err of [sdkError("BrandNewError", 400), new Error("boom"), "a string", null, undefined, 42]) {
      const c = classifyAwsError(err, "x");
      expect(c.kind).toBe("retryable");
      if (c.kind === "retryable") expect(c.error).toBeInstanceOf(RetryableError);
    }
  });
});

describe("awsErrorCode", () => {
  it("reads the code from name, Code or a Node error code", () => {
    expect(awsErrorCode(sdkError("Throttling", 400))).toBe("Throttling");
    expect(awsErrorCode({ Code: "SlowDown" })).toBe("SlowDown");
    expect(awsErrorCode(Object.assign(new Error("x"), { code: "ETIMEDOUT" }))).toBe("ETIMEDOUT");
    expect(awsErrorCode(new Error("plain"))).toBe("Unknown");
  });
});
