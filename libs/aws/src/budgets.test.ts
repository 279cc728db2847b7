import { describe, expect, it } from "vitest";
import { budgetScope } from "./budgets.ts";
import { buildInput, findOperation } from "./operations.ts";

describe("the CloudTrail budget", () => {
  it("is per account and Region, as AWS meters LookupEvents; the Region param never reaches AWS", () => {
    const req = (accountId: string | null, Region: string) => ({
      sourceId: "acme",
      accountId,
      params: { Region },
    });
    expect(budgetScope(req("222222222222", "us-east-1"), "cloudtrail", "LookupEvents")).toBe(
      "acme:cloudtrail:222222222222:us-east-1",
    );
    expect(budgetScope(req(null, "eu-west-1"), "cloudtrail", "LookupEvents")).toBe(
      "acme:cloudtrail:self:eu-west-1",
    );
    const spec = findOperation("cloudtrail", "LookupEvents")!;
    const input = buildInput(
      spec,
      { Region: "eu-west-1", StartTime: "2026-12-01T00:00:00.000Z", FeedId: "x" },
      null,
    );
    expect(input).not.toHaveProperty("Region");
    expect(input.StartTime).toBeInstanceOf(Date);
    expect(input.MaxResults).toBe(50);
  });
});
