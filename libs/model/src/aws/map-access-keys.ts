import type { PageResult, ResultBatch } from "@grantline/contracts";
import { batchFor, child, list, optStr, param, str } from "./page-helpers.ts";

/*
 * Access keys hang off each IAM user: ListAccessKeys → one GetAccessKeyLastUsed per key, which writes the key
 * (once per run, as organizations.ts does for accounts). Keys live in scope `iamKeysScope(account)`, which is never
 * swept by a task (each key is its own single-page task, so closing the scope there would sweep the user's other
 * keys): they are swept by the source-wide sweep at the end of a successful run. Being nested under
 * `iamScope(account)`, a denied GAAD (role that cannot be assumed) keeps them too: `keepScope` matches by prefix.
 */

/**
 * Keys are not written here: each key is written once, by its GetAccessKeyLastUsed task, which carries the
 * key's fields (writing it twice per run would report a spurious update every run).
 */
export function mapListAccessKeys(res: PageResult): ResultBatch {
  const UserArn = param(res.request, "UserArn");
  const UserName = param(res.request, "UserName");
  const batch = batchFor(res, {
    children: list(res.page, "AccessKeyMetadata").map((k) =>
      child(
        res.request,
        "iam",
        "GetAccessKeyLastUsed",
        {
          AccessKeyId: str(k, "AccessKeyId"),
          UserName: optStr(k, "UserName") ?? UserName,
          UserArn,
          Status: optStr(k, "Status"),
          CreateDate: optStr(k, "CreateDate"),
        },
        res.request.scope,
      ),
    ),
  });
  // The keys scope is shared by the account's users: never closed by a task (see the top of this file).
  if (res.request.params.sweepKeys !== true || batch.children.some((c) => c.operation === "ListAccessKeys"))
    return { ...batch, scopeComplete: false };
  // A targeted keys refresh (`iam-user-keys`) closes with this user's keys but the listed ones instead.
  const except = list(res.page, "AccessKeyMetadata").map((k) => str(k, "AccessKeyId"));
  return {
    ...batch,
    scopeComplete: false,
    objectSweeps: [
      { kind: "children", parentType: "iam_user", parentId: UserArn, type: "access_key", except },
    ],
  };
}

export function mapGetAccessKeyLastUsed(res: PageResult): ResultBatch {
  const id = param(res.request, "AccessKeyId");
  const userArn = param(res.request, "UserArn");
  const userName = param(res.request, "UserName");
  const lu = (res.page.AccessKeyLastUsed ?? {}) as Record<string, unknown>;
  const date = optStr(lu, "LastUsedDate");
  const service = optStr(lu, "ServiceName");
  const region = optStr(lu, "Region");
  return {
    ...batchFor(res, {
      resources: [
        {
          type: "access_key",
          id,
          parentType: "iam_user",
          parentId: userArn,
          name: `${userName}|${id}`,
          attrs: {
            status: optStr(res.request.params, "Status"),
            createDate: optStr(res.request.params, "CreateDate"),
            lastUsedDate: date ?? "never",
            lastUsedService: service === "N/A" ? null : service,
            lastUsedRegion: region === "N/A" ? null : region,
          },
        },
      ],
    }),
    // Never closes its scope: the account's other keys share it (see the top of this file).
    scopeComplete: false,
  };
}
