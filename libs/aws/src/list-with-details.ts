import { classifyAwsError } from "./classify-aws-error.ts";

/**
 * A list page whose items each need one more call, made by the fetcher inside the page instead of as a task per
 * item: every task crosses every hop of the pipeline, so a task for one item's detail cost more than the call
 * (docs/benchmarks.md). Bounded by the list's page size: IAM allows a user two access keys, an Organizations
 * page lists at most 20 accounts, Identity Center and Identity Store pages at most 100 accounts or groups.
 */
export interface ListDetails {
  /** The list call (the page's own operation). */
  list: string;
  /** The member of its answer that holds the items. */
  member: string;
  /** The call made for each item, and its input (from the item and the list call's input); null = none. */
  detail: string;
  input(item: unknown, listInput: Record<string, unknown>): Record<string, unknown> | null;
  /** The member of the detail's answer kept. */
  attach: string;
  /**
   * Where it is kept: on the item (an object), under `attach`'s name; or, when the items are plain ids, in the
   * page's member `into`, an object keyed by the item.
   */
  into?: string;
}

const field = (item: unknown, name: string): unknown =>
  typeof item === "object" && item !== null ? (item as Record<string, unknown>)[name] : undefined;

/** The composites of this kind, by `OperationSpec.composite`. */
export const LIST_DETAILS = {
  // Each key's last use (its own task before: docs/sync-model.md "Access keys").
  ListAccessKeys: {
    list: "ListAccessKeys",
    member: "AccessKeyMetadata",
    detail: "GetAccessKeyLastUsed",
    input: (k) => {
      const AccessKeyId = field(k, "AccessKeyId");
      return typeof AccessKeyId === "string" ? { AccessKeyId } : null;
    },
    attach: "AccessKeyLastUsed",
  },
  // Each account's parent (an account has one: a single page of at most 20).
  ListAccounts: {
    list: "ListAccounts",
    member: "Accounts",
    detail: "ListParents",
    input: (a) => {
      const ChildId = field(a, "Id");
      return typeof ChildId === "string" ? { ChildId, MaxResults: 20 } : null;
    },
    attach: "Parents",
  },
  // Each group's members (a group's own task before: docs/sync-model.md).
  ListGroups: {
    list: "ListGroups",
    member: "Groups",
    detail: "ListGroupMemberships",
    input: (g, list) => {
      const GroupId = field(g, "GroupId");
      return typeof GroupId === "string"
        ? { IdentityStoreId: list.IdentityStoreId, GroupId, MaxResults: 100 }
        : null;
    },
    attach: "GroupMemberships",
  },
  // Each account's assignments of the permission set (a pair's own task before: docs/sync-model.md).
  ListAccountsForProvisionedPermissionSet: {
    list: "ListAccountsForProvisionedPermissionSet",
    member: "AccountIds",
    detail: "ListAccountAssignments",
    input: (AccountId, list) =>
      typeof AccountId === "string"
        ? {
            InstanceArn: list.InstanceArn,
            PermissionSetArn: list.PermissionSetArn,
            AccountId,
            MaxResults: 100,
          }
        : null,
    attach: "AccountAssignments",
    into: "AccountAssignmentsByAccount",
  },
} as const satisfies Record<string, ListDetails>;

/** Detail calls of one page in flight at once. */
const DETAIL_CONCURRENCY = 8;

/** Whether a spec's composite is one of these. */
export function isListDetails(composite: string | undefined): composite is keyof typeof LIST_DETAILS {
  return composite !== undefined && Object.hasOwn(LIST_DETAILS, composite);
}

/** One budgeted call of the request being served; resolves to the JSON page (`toJsonPage`). */
export type DetailCall = (
  operation: string,
  input: Record<string, unknown>,
) => Promise<Record<string, unknown>>;

/**
 * The list page with each item's detail. An item whose detail could not be read — denied, gone since the list,
 * or answered in part (a NextToken) — is left without it: the mapper queues that item's own task, which records
 * the denial or the vanished object as it always has. Anything else (a throttle the SDK's retries did not get
 * past, an outage, expired credentials) fails the page as one of its calls would, and the page is retried.
 */
export async function listWithDetails(
  spec: ListDetails,
  input: Record<string, unknown>,
  call: DetailCall,
): Promise<{ page: Record<string, unknown>; awsCalls: number }> {
  const page = await call(spec.list, input);
  const items = Array.isArray(page[spec.member]) ? (page[spec.member] as unknown[]) : [];
  let awsCalls = 1;
  const read = async (item: unknown): Promise<unknown> => {
    const detailInput = spec.input(item, input);
    if (!detailInput) return undefined;
    awsCalls += 1;
    try {
      const answer = await call(spec.detail, detailInput);
      // AWS may answer a List* call with a partial (even empty) page and a NextToken: only a whole answer is
      // kept; the item's own task reads the rest as a chain.
      if (typeof answer.NextToken === "string" && answer.NextToken !== "") return undefined;
      const value = answer[spec.attach];
      return typeof value === "object" && value !== null ? value : undefined;
    } catch (err) {
      const c = classifyAwsError(err, `${spec.detail} ${JSON.stringify(detailInput)}`);
      if (c.kind === "denied" || c.kind === "not-found") return undefined;
      throw err;
    }
  };
  // A few calls at a time, in item order: the budget paces them anyway, and a page of a hundred items all waiting
  // for it at once, on each of a replica's pages in flight, held a request apiece (+20 MB per fetcher, large org).
  const answers: unknown[] = [];
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const n = next++;
      try {
        answers[n] = await read(items[n]);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(DETAIL_CONCURRENCY, items.length) }, worker));
  if (spec.into !== undefined) {
    const byItem: Record<string, unknown> = {};
    items.forEach((item, n) => {
      if (typeof item === "string" && answers[n] !== undefined) byItem[item] = answers[n];
    });
    return { page: { ...page, [spec.into]: byItem }, awsCalls };
  }
  const detailed = items.map((i, n) => {
    const item = (typeof i === "object" && i !== null ? i : {}) as Record<string, unknown>;
    return answers[n] === undefined ? item : { ...item, [spec.attach]: answers[n] };
  });
  return { page: { ...page, [spec.member]: detailed }, awsCalls };
}
