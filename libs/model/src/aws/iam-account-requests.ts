import type { PageRequest, PageResult, ResultBatch } from "@grantline/contracts";
import { iamAliasScope, iamScope } from "../ids.ts";
import { batchFor, child, list, param, str } from "./page-helpers.ts";

/*
 * IAM, per account, from one GetAccountAuthorizationDetails (GAAD) chain: users, groups, roles, managed and inline
 * policies and every grant between them, in scope `iam:<accountId>` (swept on the chain's last page); access
 * keys hang off each user (map-access-keys.ts); the account's alias names its `iam_account` resource.
 */

export const IAM_GAAD_FILTER = ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"];

/**
 * The account's IAM chain and its alias. The caller's own account (GetCallerIdentity) and every ACTIVE member
 * account (ListParents, cross-account) produce the identical request, so the task id is the same and the
 * writer inserts it once.
 */
export function iamAccountRequests(
  parent: Pick<PageRequest, "runId" | "sourceId" | "accountId">,
  accountId: string,
  onlyAttachedPolicies: boolean,
): PageRequest[] {
  return [
    child(
      parent,
      "iam",
      "GetAccountAuthorizationDetails",
      { Filter: IAM_GAAD_FILTER, onlyAttachedPolicies },
      iamScope(accountId),
      accountId,
    ),
    child(parent, "iam", "ListAccountAliases", {}, iamAliasScope(accountId), accountId),
  ];
}

/** Root task: who we are decides which account the (non-cross-account) IAM sync covers. */
export function mapGetCallerIdentity(res: PageResult): ResultBatch {
  const account = str(res.page, "Account");
  const onlyAttached = res.request.params.onlyAttachedPolicies !== false;
  return batchFor(res, { children: iamAccountRequests(res.request, account, onlyAttached) });
}

/** The account an IAM page was read in. */
export function iamAccountOf(res: PageResult): string {
  const a = res.request.accountId;
  if (a !== null) return a;
  // IAM requests always name the account they are made in; one that does not must carry it as a param.
  return param(res.request, "AccountId");
}

/** The account as IAM sees it: its alias (AWS allows one) names it. Accounts themselves come from Organizations. */
export function mapListAccountAliases(res: PageResult): ResultBatch {
  const accountId = iamAccountOf(res);
  const aliases = list<string>(res.page, "AccountAliases");
  if (res.request.pageIndex > 0) return batchFor(res, {});
  return batchFor(res, {
    resources: [
      {
        type: "iam_account",
        id: accountId,
        parentType: "account",
        parentId: accountId,
        name: aliases[0] ?? accountId,
        attrs: { aliases },
      },
    ],
  });
}
