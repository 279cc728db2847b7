import {
  feedIdOf,
  pageRequest,
  type FeedEventSource,
  type FeedId,
  type PageRequest,
} from "@grantline/contracts";

/** One feed of a source: CloudTrail events of one event source, recorded in one account and Region. */
export interface FeedSpec {
  feedId: FeedId;
  accountId: string;
  region: string;
  eventSource: FeedEventSource;
}

/** IAM and Organizations are global services: CloudTrail's event history shows their events in us-east-1 only. */
export const GLOBAL_EVENTS_REGION = "us-east-1";

export interface SourceFeedsInput {
  /** The organization's management account (from the synced `organization`); null before the first sync. */
  managementAccountId: string | null;
  /** Every account whose IAM the source syncs (its `iam_account` rows). */
  iamAccountIds: readonly string[];
  /** The Region of the source's Identity Center instance (the source's `region`). */
  identityCenterRegion: string;
}

/**
 * The feeds of a source, in feed id order (the round robin's order): Identity Center, Identity Store (API and
 * SCIM) and Organizations in the management account; IAM in every synced account.
 */
export function sourceFeeds(i: SourceFeedsInput): FeedSpec[] {
  const feeds: FeedSpec[] = [];
  const add = (accountId: string, region: string, eventSource: FeedEventSource) =>
    feeds.push({ feedId: feedIdOf(accountId, region, eventSource), accountId, region, eventSource });
  if (i.managementAccountId) {
    const m = i.managementAccountId;
    add(m, i.identityCenterRegion, "sso.amazonaws.com");
    add(m, i.identityCenterRegion, "identitystore.amazonaws.com");
    add(m, i.identityCenterRegion, "identitystore-scim.amazonaws.com");
    add(m, GLOBAL_EVENTS_REGION, "organizations.amazonaws.com");
  }
  for (const a of new Set(i.iamAccountIds)) add(a, GLOBAL_EVENTS_REGION, "iam.amazonaws.com");
  const byId = new Map(feeds.map((f) => [f.feedId, f]));
  return [...byId.values()].sort((a, b) => (a.feedId < b.feedId ? -1 : a.feedId > b.feedId ? 1 : 0));
}

/**
 * The first page of a feed's window. Every page of the window carries the same params (the next pages add only
 * CloudTrail's NextToken), so the window's range is fixed and each window's tasks have ids of their own.
 */
export function feedPollRequest(r: {
  runId: string;
  sourceId: string;
  feed: Pick<FeedSpec, "feedId" | "accountId" | "region" | "eventSource">;
  since: Date;
  end: Date;
  /** The synced Identity Center instance and store: what an event naming neither refers to (SCIM events). */
  context?: { identityStoreId: string | null; instanceArn: string | null };
}): PageRequest {
  return pageRequest({
    runId: r.runId,
    sourceId: r.sourceId,
    service: "cloudtrail",
    operation: "LookupEvents",
    params: {
      LookupAttributes: [{ AttributeKey: "EventSource", AttributeValue: r.feed.eventSource }],
      StartTime: r.since.toISOString(),
      EndTime: r.end.toISOString(),
      Region: r.feed.region,
      FeedId: r.feed.feedId,
      ...(r.context ? { Context: r.context } : {}),
    },
    pageToken: null,
    accountId: r.feed.accountId,
    scope: null,
    pageIndex: 0,
  });
}
