import type { PageRequest, PageResult, Resource, ResultBatch } from "@grantline/contracts";
import { batchFor, child, list, optStr, param, str } from "./page-helpers.ts";

/*
 * Access keys hang off each IAM user: ListAccessKeys lists a user's keys (at most two) and the fetcher reads each
 * key's last use (GetAccessKeyLastUsed) into the same page (libs/aws list-access-keys.ts), so the keys are written
 * by the ListAccessKeys page. A key the page has no last use for (denied, deleted since the list, or a page from a
 * fetcher older than the composite) gets its own GetAccessKeyLastUsed page, which writes it. Either way a key is
 * written once per run, as organizations.ts does for accounts. Keys live in scope `iamKeysScope(account)`, which
 * is never swept by a task (a user's page closing the scope would sweep the other users' keys): they are swept by
 * the source-wide sweep at the end of a successful run. Being nested under `iamScope(account)`, a denied GAAD
 * (role that cannot be assumed) keeps them too: `keepScope` matches by prefix.
 */

/** An access key's row: its metadata from the list, its last use from GetAccessKeyLastUsed. */
function keyResource(
  key: { id: string; userArn: string; userName: string; status: string | null; createDate: string | null },
  lastUsed: Record<string, unknown>,
): Resource {
  const date = optStr(lastUsed, "LastUsedDate");
  const service = optStr(lastUsed, "ServiceName");
  const region = optStr(lastUsed, "Region");
  return {
    type: "access_key",
    id: key.id,
    parentType: "iam_user",
    parentId: key.userArn,
    name: `${key.userName}|${key.id}`,
    attrs: {
      status: key.status,
      createDate: key.createDate,
      lastUsedDate: date ?? "never",
      lastUsedService: service === "N/A" ? null : service,
      lastUsedRegion: region === "N/A" ? null : region,
    },
  };
}

/**
 * Writes each listed key that came with its last use; queues a GetAccessKeyLastUsed page for any other (see the
 * top of this file).
 */
export function mapListAccessKeys(res: PageResult): ResultBatch {
  const UserArn = param(res.request, "UserArn");
  const UserName = param(res.request, "UserName");
  const listed = list(res.page, "AccessKeyMetadata");
  const resources: Resource[] = [];
  const children: PageRequest[] = [];
  for (const k of listed) {
    const key = {
      id: str(k, "AccessKeyId"),
      userArn: UserArn,
      userName: optStr(k, "UserName") ?? UserName,
      status: optStr(k, "Status"),
      createDate: optStr(k, "CreateDate"),
    };
    const lastUsed = k.AccessKeyLastUsed;
    if (typeof lastUsed === "object" && lastUsed !== null) {
      resources.push(keyResource(key, lastUsed as Record<string, unknown>));
      continue;
    }
    children.push(
      child(
        res.request,
        "iam",
        "GetAccessKeyLastUsed",
        {
          AccessKeyId: key.id,
          UserName: key.userName,
          UserArn,
          Status: key.status,
          CreateDate: key.createDate,
        },
        res.request.scope,
      ),
    );
  }
  const batch = batchFor(res, { resources, children });
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
  const key = {
    id: param(res.request, "AccessKeyId"),
    userArn: param(res.request, "UserArn"),
    userName: param(res.request, "UserName"),
    status: optStr(res.request.params, "Status"),
    createDate: optStr(res.request.params, "CreateDate"),
  };
  const lastUsed = (res.page.AccessKeyLastUsed ?? {}) as Record<string, unknown>;
  return {
    ...batchFor(res, { resources: [keyResource(key, lastUsed)] }),
    // Never closes its scope: the account's other keys share it (see the top of this file).
    scopeComplete: false,
  };
}
