import { classifyAwsError } from "./classify-aws-error.ts";

/** One budgeted IAM call of the request being served; resolves to the JSON page (`toJsonPage`). */
export type AccessKeyCall = (
  operation: "ListAccessKeys" | "GetAccessKeyLastUsed",
  input: Record<string, unknown>,
) => Promise<Record<string, unknown>>;

/**
 * The composite `iam ListAccessKeys` page: the listed keys, each with its `AccessKeyLastUsed` (GetAccessKeyLastUsed)
 * attached. IAM allows a user two keys, so a page costs at most three calls and one pass through the pipeline,
 * where one page per key cost a message on every hop for one row (docs/benchmarks.md). A key whose last use could
 * not be read — denied, or deleted since the list — is left without it: the mapper queues that key's own
 * GetAccessKeyLastUsed page, which records the denial or the vanished key as it always has. Anything else (a
 * throttle, an outage, expired credentials) fails the page as one of its calls would, and the page is retried.
 */
export async function listAccessKeys(
  input: Record<string, unknown>,
  call: AccessKeyCall,
): Promise<{ page: Record<string, unknown>; awsCalls: number }> {
  const page = await call("ListAccessKeys", input);
  const keys = Array.isArray(page.AccessKeyMetadata) ? (page.AccessKeyMetadata as unknown[]) : [];
  let awsCalls = 1;
  const withLastUse = await Promise.all(
    keys.map(async (k) => {
      const key = (typeof k === "object" && k !== null ? k : {}) as Record<string, unknown>;
      const id = key.AccessKeyId;
      if (typeof id !== "string") return key;
      awsCalls += 1;
      try {
        const used = await call("GetAccessKeyLastUsed", { AccessKeyId: id });
        const lastUsed = used.AccessKeyLastUsed;
        return typeof lastUsed === "object" && lastUsed !== null
          ? { ...key, AccessKeyLastUsed: lastUsed }
          : key;
      } catch (err) {
        const c = classifyAwsError(err, `iam GetAccessKeyLastUsed ${id}`);
        if (c.kind === "denied" || c.kind === "not-found") return key;
        throw err;
      }
    }),
  );
  return { page: { ...page, AccessKeyMetadata: withLastUse }, awsCalls };
}
