import { expandFeedPolls, feedPollsRequest, ResultBatch } from "@grantline/contracts";
import { describe, expect, it } from "vitest";
import { pageResult } from "../aws/page-result.fixture.ts";
import { mapPage } from "../map-page.ts";
import { parseChangeRecord } from "./parse-change-record.ts";
import { feedPollRequest, sourceFeeds } from "./source-feeds.ts";

const RUN = "00000000-0000-4000-8000-000000000001";
const MGMT = "111111111111";
const feed = sourceFeeds({
  managementAccountId: MGMT,
  iamAccountIds: [],
  identityCenterRegion: "eu-west-1",
  managementFeeds: "per-source",
})[0]!;
const since = new Date("2026-12-01T11:45:00.000Z");
const end = new Date("2026-12-01T12:00:00.000Z");
const request = feedPollRequest({ runId: RUN, sourceId: "acme", feed, since, end });

function item(id: string, record: Record<string, unknown> | string, readOnly = "false") {
  return {
    EventId: id,
    EventName: "CreateAccountAssignment",
    ReadOnly: readOnly,
    EventTime: "2026-12-01T11:50:00.000Z",
    EventSource: "sso.amazonaws.com",
    CloudTrailEvent: typeof record === "string" ? record : JSON.stringify(record),
  };
}
const record = (over: Record<string, unknown> = {}) => ({
  eventID: "e1",
  eventTime: "2026-12-01T11:50:00Z",
  eventSource: "sso.amazonaws.com",
  eventName: "CreateAccountAssignment",
  readOnly: false,
  awsRegion: "eu-west-1",
  recipientAccountId: MGMT,
  requestParameters: { instanceArn: "arn:aws:sso:::instance/ssoins-1" },
  responseElements: null,
  userIdentity: { type: "IdentityCenterUser", onBehalfOf: { userId: "u-1" } },
  ...over,
});

describe("feeds of a source", () => {
  it("management-account feeds in the Identity Center / global Region, IAM in every synced account, in id order", () => {
    const feeds = sourceFeeds({
      managementAccountId: MGMT,
      iamAccountIds: ["222222222222", MGMT, "222222222222"],
      identityCenterRegion: "eu-west-1",
      managementFeeds: "per-source",
    });
    expect(feeds.map((f) => f.feedId)).toEqual([
      "111111111111/eu-west-1/identitystore-scim.amazonaws.com",
      "111111111111/eu-west-1/identitystore.amazonaws.com",
      "111111111111/eu-west-1/sso.amazonaws.com",
      "111111111111/us-east-1/iam.amazonaws.com",
      "111111111111/us-east-1/organizations.amazonaws.com",
      "222222222222/us-east-1/iam.amazonaws.com",
    ]);
    expect(
      sourceFeeds({
        managementAccountId: null,
        iamAccountIds: [],
        identityCenterRegion: "us-east-1",
        managementFeeds: "per-source",
      }),
    ).toEqual([]);
  });

  it("combined: one write-events feed per Region of the management account, which also carries its IAM", () => {
    const feeds = sourceFeeds({
      managementAccountId: MGMT,
      iamAccountIds: ["222222222222", MGMT],
      identityCenterRegion: "eu-west-1",
      managementFeeds: "combined",
    });
    expect(feeds.map((f) => f.feedId)).toEqual([
      "111111111111/eu-west-1/write-events",
      "111111111111/us-east-1/write-events",
      "222222222222/us-east-1/iam.amazonaws.com",
    ]);
    // Identity Center in us-east-1: the one Region holds everything.
    expect(
      sourceFeeds({
        managementAccountId: MGMT,
        iamAccountIds: [],
        identityCenterRegion: "us-east-1",
        managementFeeds: "combined",
      }).map((f) => f.feedId),
    ).toEqual(["111111111111/us-east-1/write-events"]);
    const poll = feedPollRequest({ runId: RUN, sourceId: "acme", feed: feeds[0]!, since, end });
    expect(poll.params.LookupAttributes).toEqual([{ AttributeKey: "ReadOnly", AttributeValue: "false" }]);
  });

  it("a poll request names the window, the Region, the feed and the account", () => {
    expect(request).toMatchObject({
      service: "cloudtrail",
      operation: "LookupEvents",
      accountId: MGMT,
      scope: null,
      params: {
        LookupAttributes: [{ AttributeKey: "EventSource", AttributeValue: feed.eventSource }],
        StartTime: since.toISOString(),
        EndTime: end.toISOString(),
        Region: "eu-west-1",
        FeedId: feed.feedId,
      },
    });
  });
});

describe("cloudtrail.PollFeeds mapper", () => {
  it("maps each feed as its own LookupEvents page: records, the next page as a single-feed chain, failures skipped", () => {
    const feeds = sourceFeeds({
      managementAccountId: MGMT,
      iamAccountIds: ["222222222222", "333333333333"],
      identityCenterRegion: "us-east-1",
      managementFeeds: "combined",
    });
    const singles = feeds.map((f) => feedPollRequest({ runId: RUN, sourceId: "acme", feed: f, since, end }));
    const group = feedPollsRequest(singles);
    expect(expandFeedPolls(group)).toEqual(singles);
    const batch = mapPage(
      pageResult(group, {
        Feeds: [
          { FeedId: feeds[0]!.feedId, Page: { Events: [item("e1", record())], NextToken: "t1" } },
          { FeedId: feeds[1]!.feedId, Page: { Events: [] } },
          { FeedId: feeds[2]!.feedId, Failed: "aws-sim unavailable" },
        ],
      }),
    );
    expect(ResultBatch.parse(batch)).toBeTruthy();
    expect(batch.taskId).toBe(group.taskId);
    expect(batch.feed).toBeUndefined();
    expect(batch.feeds!.map((f) => [f.feedId, f.records.length, f.windowComplete])).toEqual([
      [feeds[0]!.feedId, 1, false],
      [feeds[1]!.feedId, 0, true],
    ]);
    // The continuation is exactly the page the first feed's own chain would have had next.
    expect(batch.children).toEqual(
      mapPage(pageResult(singles[0]!, { Events: [item("e1", record())], NextToken: "t1" })).children,
    );
    expect(batch.warnings).toContain(`feed ${feeds[2]!.feedId}: aws-sim unavailable; read again later`);
    expect(() => mapPage(pageResult(group, { Feeds: [] }))).toThrow(/0 outcomes for 3 polls/);
  });
});

describe("cloudtrail.LookupEvents mapper", () => {
  it("parses CloudTrailEvent into a ChangeRecord (2025 format: onBehalfOf, ids only)", () => {
    const r = parseChangeRecord(item("e1", record()));
    expect(r).toMatchObject({
      eventId: "e1",
      eventTime: "2026-12-01T11:50:00.000Z",
      readOnly: false,
      errorCode: null,
      accountId: MGMT,
      region: "eu-west-1",
      userIdentity: { onBehalfOf: { userId: "u-1" } },
    });
    expect(parseChangeRecord(item("e2", "{not json"))).toBeNull();
  });

  it("classifies every record; failed calls and read-only events carry no refresh; next page keeps the window", () => {
    const batch = mapPage(
      pageResult(request, {
        Events: [
          item("e1", record()),
          item("e2", record({ eventID: "e2", errorCode: "AccessDenied" })),
          item("e3", record({ eventID: "e3", readOnly: true }), "true"),
          item("e4", "{not json"),
        ],
        NextToken: "t1",
      }),
    );
    expect(ResultBatch.parse(batch)).toBeTruthy();
    const outcomes = Object.fromEntries(batch.feed!.records.map((r) => [r.eventId, r.outcome]));
    expect(outcomes.e2).toBe("failed-call");
    expect(outcomes.e3).toBe("read-only");
    expect(outcomes.e4).toBe("unknown");
    for (const r of batch.feed!.records.filter((x) => x.outcome !== "translated"))
      expect(r.intents).toEqual([]);
    expect(batch.feed!.windowComplete).toBe(false);
    expect(batch.scopeComplete).toBe(false);
    expect(batch.children).toHaveLength(1);
    expect(batch.children[0]!.params).toEqual(request.params);
    expect(batch.children[0]!.pageToken).toBe("t1");
    expect(batch.children[0]!.pageIndex).toBe(1);

    const last = mapPage(pageResult(batch.children[0]!, { Events: [] }));
    expect(last.feed).toEqual({
      feedId: feed.feedId,
      records: [],
      windowComplete: true,
      windowEnd: end.toISOString(),
    });
    expect(last.children).toEqual([]);
  });
});
