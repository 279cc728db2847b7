import {
  feedIdOf,
  pageRequest,
  WRITE_EVENTS,
  type FeedSelector,
  type FeedId,
  type PageRequest,
} from "@grantline/contracts";

/**
 * One feed of a source: CloudTrail events of one event source — or, the management account's combined feed,
 * every write event — recorded in one account and Region.
 */
export interface FeedSpec {
  feedId: FeedId;
  accountId: string;
  region: string;
  eventSource: FeedSelector;
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
  /**
   * The management account's feeds (the sources file's `feeds.managementFeeds`): `combined` reads every write
   * event of each of its Regions in one feed; `per-source` one feed per event source.
   */
  managementFeeds: "combined" | "per-source";
}

/**
 * The feeds of a source, in feed id order (the round robin's order): Identity Center, Identity Store (API and
 * SCIM) and Organizations in the management account — one combined feed per Region, or one per event source —
 * and IAM in every synced account (the management account's in its combined us-east-1 feed).
 *
 * Combined is the default because the CloudTrail quota is per account and Region: five feeds of the management
 * account polled in turn each wait five times as long for the same share of it, and most changes to access are
 * recorded there. Its cost is paging through other services' write events too (a busy management account, e.g.
 * with Control Tower, may prefer `per-source`).
 */
export function sourceFeeds(i: SourceFeedsInput): FeedSpec[] {
  const feeds: FeedSpec[] = [];
  const add = (accountId: string, region: string, eventSource: FeedSelector) =>
    feeds.push({ feedId: feedIdOf(accountId, region, eventSource), accountId, region, eventSource });
  const m = i.managementAccountId;
  const combined = m !== null && i.managementFeeds === "combined";
  if (m && combined) {
    add(m, i.identityCenterRegion, WRITE_EVENTS);
    add(m, GLOBAL_EVENTS_REGION, WRITE_EVENTS);
  } else if (m) {
    add(m, i.identityCenterRegion, "sso.amazonaws.com");
    add(m, i.identityCenterRegion, "identitystore.amazonaws.com");
    add(m, i.identityCenterRegion, "identitystore-scim.amazonaws.com");
    add(m, GLOBAL_EVENTS_REGION, "organizations.amazonaws.com");
  }
  for (const a of new Set(i.iamAccountIds))
    if (!(combined && a === m)) add(a, GLOBAL_EVENTS_REGION, "iam.amazonaws.com");
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
      LookupAttributes: [lookupAttribute(r.feed.eventSource)],
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

/** The LookupEvents attribute of a feed (CloudTrail allows one): its event source, or every write event. */
function lookupAttribute(s: FeedSelector): { AttributeKey: string; AttributeValue: string } {
  return s === WRITE_EVENTS
    ? { AttributeKey: "ReadOnly", AttributeValue: "false" }
    : { AttributeKey: "EventSource", AttributeValue: s };
}
