import { classifyAwsError } from "./classify-aws-error.ts";

/**
 * A list page whose items each need one more call, made by the fetcher inside the page instead of as a task per
 * item: every task crosses every hop of the pipeline, so a task for one item's detail cost more than the call
 * (docs/benchmarks.md). Bounded by the list's page size: IAM allows a user two access keys, and an Organizations
 * page lists at most 20 accounts.
 */
export interface ListDetails {
  /** The list call (the page's own operation). */
  list: string;
  /** The member of its answer that holds the items. */
  member: string;
  /** The call made for each item, and its input. */
  detail: string;
  input(item: Record<string, unknown>): Record<string, unknown> | null;
  /** The member of the detail's answer attached to the item, under the same name. */
  attach: string;
}

/** The composites of this kind, by `OperationSpec.composite`. */
export const LIST_DETAILS = {
  // Each key's last use (its own task before: docs/sync-model.md "Access keys").
  ListAccessKeys: {
    list: "ListAccessKeys",
    member: "AccessKeyMetadata",
    detail: "GetAccessKeyLastUsed",
    input: (k) => (typeof k.AccessKeyId === "string" ? { AccessKeyId: k.AccessKeyId } : null),
    attach: "AccessKeyLastUsed",
  },
  // Each account's parent (an account has one: a single page of at most 20).
  ListAccounts: {
    list: "ListAccounts",
    member: "Accounts",
    detail: "ListParents",
    input: (a) => (typeof a.Id === "string" ? { ChildId: a.Id, MaxResults: 20 } : null),
    attach: "Parents",
  },
} as const satisfies Record<string, ListDetails>;

/** One budgeted call of the request being served; resolves to the JSON page (`toJsonPage`). */
export type DetailCall = (
  operation: string,
  input: Record<string, unknown>,
) => Promise<Record<string, unknown>>;

/**
 * The list page, each item with the detail call's answer attached. An item whose detail could not be read —
 * denied, gone since the list, or answered in part (a NextToken) — is left without it: the mapper queues that item's own task, which records the
 * denial or the vanished object as it always has. Anything else (a throttle, an outage, expired credentials)
 * fails the page as one of its calls would, and the page is retried.
 */
export async function listWithDetails(
  spec: ListDetails,
  input: Record<string, unknown>,
  call: DetailCall,
): Promise<{ page: Record<string, unknown>; awsCalls: number }> {
  const page = await call(spec.list, input);
  const items = Array.isArray(page[spec.member]) ? (page[spec.member] as unknown[]) : [];
  let awsCalls = 1;
  const detailed = await Promise.all(
    items.map(async (i) => {
      const item = (typeof i === "object" && i !== null ? i : {}) as Record<string, unknown>;
      const detailInput = spec.input(item);
      if (!detailInput) return item;
      awsCalls += 1;
      try {
        const answer = await call(spec.detail, detailInput);
        // AWS may answer a List* call with a partial (even empty) page and a NextToken: only a whole answer is
        // attached; the item's own task reads the rest as a chain.
        if (typeof answer.NextToken === "string" && answer.NextToken !== "") return item;
        const value = answer[spec.attach];
        return typeof value === "object" && value !== null ? { ...item, [spec.attach]: value } : item;
      } catch (err) {
        const c = classifyAwsError(err, `${spec.detail} ${JSON.stringify(detailInput)}`);
        if (c.kind === "denied" || c.kind === "not-found") return item;
        throw err;
      }
    }),
  );
  return { page: { ...page, [spec.member]: detailed }, awsCalls };
}
