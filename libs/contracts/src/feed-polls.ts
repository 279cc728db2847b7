import { z } from "zod";
import { PermanentError } from "./errors.ts";
import type { PageRequest } from "./messages.ts";
import { pageRequest } from "./task-id.ts";

/**
 * Several feeds' first polls in one page request (`cloudtrail.PollFeeds`): the params of each feed's own
 * `cloudtrail.LookupEvents` request, with the account it reads. A quiet feed's poll then costs one AWS call and
 * a share of one task, one message per stage and one writer transaction, instead of all of them: at a thousand
 * accounts, the pipeline's per-message cost, not AWS, was what limited how often feeds could be polled.
 */
export const FeedPolls = z.object({
  Polls: z
    .array(z.object({ AccountId: z.string().regex(/^\d{12}$/), Params: z.record(z.string(), z.unknown()) }))
    .min(1),
});
export type FeedPolls = z.infer<typeof FeedPolls>;

/** The request that polls `polls` (single-feed first pages, as `feedPollRequest` makes them) together. */
export function feedPollsRequest(polls: readonly PageRequest[]): PageRequest {
  const first = polls[0];
  if (!first) throw new Error("feedPollsRequest: no polls");
  return pageRequest({
    runId: first.runId,
    sourceId: first.sourceId,
    service: "cloudtrail",
    operation: "PollFeeds",
    params: {
      Polls: polls.map((p) => {
        if (p.accountId === null) throw new Error(`feedPollsRequest: poll ${p.taskId} names no account`);
        return { AccountId: p.accountId, Params: p.params };
      }),
    },
    pageToken: null,
    accountId: null,
    scope: null,
    pageIndex: 0,
  });
}

/**
 * The single-feed requests a `cloudtrail.PollFeeds` request stands for, in order: exactly the requests the feeds
 * would have had alone (same params, so the same task ids), so a window with more pages continues as a
 * `cloudtrail.LookupEvents` chain and the fetcher serves each with that account's budget and credentials.
 */
export function expandFeedPolls(group: PageRequest): PageRequest[] {
  const p = FeedPolls.safeParse(group.params);
  if (!p.success) throw new PermanentError("bad-request", `cloudtrail.PollFeeds: ${p.error.message}`);
  return p.data.Polls.map((poll) =>
    pageRequest({
      runId: group.runId,
      sourceId: group.sourceId,
      service: "cloudtrail",
      operation: "LookupEvents",
      params: poll.Params,
      pageToken: null,
      accountId: poll.AccountId,
      scope: null,
      pageIndex: 0,
    }),
  );
}

/** What the fetcher returns for one feed of a `cloudtrail.PollFeeds` request, in the request's order. */
export const FeedPollOutcome = z.object({
  FeedId: z.string(),
  /** The LookupEvents page (its NextToken, if any, continues the window as a chain of its own). */
  Page: z.record(z.string(), z.unknown()).optional(),
  /** Denied or gone (the page a single request would have skipped), or failed: the window is read again later. */
  Skipped: z.string().optional(),
  Failed: z.string().optional(),
  Warnings: z.array(z.string()).default([]),
});
export type FeedPollOutcome = z.infer<typeof FeedPollOutcome>;
