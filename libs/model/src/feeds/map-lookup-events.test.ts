import { ResultBatch } from "@grantline/contracts";
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
      sourceFeeds({ managementAccountId: null, iamAccountIds: [], identityCenterRegion: "us-east-1" }),
    ).toEqual([]);
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
