import { feedPollsRequest } from "@grantline/contracts";
import { describe, expect, it } from "vitest";
import { permissionSetsChangedIn } from "./permission-sets-changed-in.ts";
import { feedPollRequest, sourceFeeds } from "./source-feeds.ts";

const RUN = "00000000-0000-4000-8000-000000000001";
const MGMT = "111111111111";
const INSTANCE = "arn:aws:sso:::instance/ssoins-1";
const PS = (n: number) => `arn:aws:sso:::permissionSet/ssoins-1/ps-${n}`;
const feeds = sourceFeeds({
  managementAccountId: MGMT,
  iamAccountIds: [MGMT],
  identityCenterRegion: "eu-west-1",
  managementFeeds: "combined",
});
const window = { since: new Date("2026-12-01T11:45:00Z"), end: new Date("2026-12-01T12:00:00Z") };
const poll = (i: number) => feedPollRequest({ runId: RUN, sourceId: "acme", feed: feeds[i]!, ...window });

let id = 0;
function item(
  eventName: string,
  requestParameters: Record<string, unknown>,
  over: Record<string, unknown> = {},
) {
  const eventSource = (over.eventSource as string | undefined) ?? "sso.amazonaws.com";
  return {
    EventId: `e${++id}`,
    EventName: eventName,
    ReadOnly: "false",
    EventTime: "2026-12-01T11:50:00.000Z",
    EventSource: eventSource,
    CloudTrailEvent: JSON.stringify({
      eventID: `e${id}`,
      eventTime: "2026-12-01T11:50:00Z",
      eventSource,
      eventName,
      readOnly: false,
      awsRegion: "eu-west-1",
      recipientAccountId: MGMT,
      requestParameters,
      responseElements: null,
      ...over,
    }),
  };
}
const ps = (n: number) => ({ instanceArn: INSTANCE, permissionSetArn: PS(n) });

describe("permissionSetsChangedIn", () => {
  it("names each permission set a LookupEvents page's definition events change, once", () => {
    const page = {
      Events: [
        item("PutInlinePolicyToPermissionSet", ps(1)),
        item("AttachManagedPolicyToPermissionSet", ps(1)),
        item("UpdatePermissionSet", ps(2)),
        item("DeletePermissionSet", ps(3)),
        item("ProvisionPermissionSet", { ...ps(4), targetType: "ALL_PROVISIONED_ACCOUNTS" }),
        // An assignment changes who holds the set, not the set: its description stays valid.
        item("CreateAccountAssignment", { ...ps(5), targetId: "222222222222", targetType: "AWS_ACCOUNT" }),
        // A failed call changed nothing.
        item("DetachManagedPolicyFromPermissionSet", ps(6), { errorCode: "AccessDenied" }),
        // Other event sources are not read.
        item("CreateUser", { userName: "x" }, { eventSource: "iam.amazonaws.com" }),
      ],
    };
    expect(permissionSetsChangedIn(poll(0), page).sort()).toEqual([PS(1), PS(2), PS(3), PS(4)]);
  });

  it("reads every feed page of a PollFeeds request, skipping feeds without one", () => {
    const group = feedPollsRequest([poll(0), poll(1)]);
    const page = {
      Feeds: [
        {
          FeedId: feeds[0]!.feedId,
          Page: { Events: [item("PutPermissionsBoundaryToPermissionSet", ps(7))] },
        },
        { FeedId: feeds[1]!.feedId, Failed: "aws-sim unavailable" },
      ],
    };
    expect(permissionSetsChangedIn(group, page)).toEqual([PS(7)]);
  });

  it("is empty for any other request", () => {
    const other = { ...poll(0), service: "sso-admin" as const, operation: "ListPermissionSets" };
    expect(permissionSetsChangedIn(other, { Events: [item("UpdatePermissionSet", ps(1))] })).toEqual([]);
  });
});
