import { describe, expect, it } from "vitest";
import { actionMatches } from "./action-matches.ts";
import { resourceMatches } from "./resource-matches.ts";

describe("actionMatches (IAM: case-insensitive, * and ? anywhere)", () => {
  it.each([
    ["sts:AssumeRole", "sts:AssumeRole"],
    ["STS:assumerole", "sts:AssumeRole"],
    ["sts:*", "sts:AssumeRoleWithSAML"],
    ["sts:Assume*", "sts:AssumeRoleWithWebIdentity"],
    ["*", "sts:AssumeRole"],
    ["sts:AssumeRole*", "sts:AssumeRole"],
    ["sts:Assume?ole", "sts:AssumeRole"],
    ["*:AssumeRole", "sts:AssumeRole"],
    ["iam:Get*Policy", "iam:GetRolePolicy"],
  ])("%s matches %s", (pattern, action) => expect(actionMatches(pattern, action)).toBe(true));

  it.each([
    ["sts:AssumeRole", "sts:AssumeRoleWithSAML"],
    ["sts:TagSession", "sts:AssumeRole"],
    ["sts:Assume?Role", "sts:AssumeRole"],
    ["iam:*", "sts:AssumeRole"],
    ["sts:AssumeRole.", "sts:AssumeRoleX"],
    ["", "sts:AssumeRole"],
  ])("%s does not match %s", (pattern, action) => expect(actionMatches(pattern, action)).toBe(false));
});

describe("resourceMatches (IAM: case-sensitive, wildcards inside ARN segments)", () => {
  const role = (name: string, acct = "111122223333") => `arn:aws:iam::${acct}:role/${name}`;

  it("* matches every resource", () => {
    expect(resourceMatches("*", role("Admin"))).toBe(true);
    expect(resourceMatches("*", "arn:aws:s3:::bucket/key")).toBe(true);
  });

  it("a trailing * in the resource part spans /", () => {
    const p = "arn:aws:iam::111122223333:role/*";
    expect(resourceMatches(p, role("Admin"))).toBe(true);
    expect(
      resourceMatches(p, role("aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0a1b")),
    ).toBe(true);
    expect(resourceMatches(p, role("Admin", "444455556666"))).toBe(false);
    expect(resourceMatches(p, "arn:aws:iam::111122223333:user/Admin")).toBe(false);
  });

  it("* in the account segment and ? for one character", () => {
    const p = "arn:aws:iam::*:role/Admin?";
    expect(resourceMatches(p, role("Admin1"))).toBe(true);
    expect(resourceMatches(p, role("AdminX", "444455556666"))).toBe(true);
    expect(resourceMatches(p, role("Admin"))).toBe(false);
    expect(resourceMatches(p, role("Admin12"))).toBe(false);
  });

  it("is case-sensitive (names in ARNs are)", () => {
    expect(resourceMatches(role("Admin"), role("admin"))).toBe(false);
    expect(resourceMatches("arn:aws:iam::111122223333:role/Dev*", role("dev-ops"))).toBe(false);
    expect(resourceMatches(role("Admin"), role("Admin"))).toBe(true);
  });

  it("a * inside one segment does not run into the next; a trailing one may pass ':'", () => {
    expect(resourceMatches("arn:aws:iam::1111*:role/A", role("A"))).toBe(true);
    expect(resourceMatches("arn:aws:iam::*:role/A", "arn:aws:iam::111122223333:user/A")).toBe(false);
    expect(resourceMatches("arn:aws:iam::*", role("Anything"))).toBe(true);
    expect(resourceMatches("arn:aws:iam::*:role/Admin", role("Admin"))).toBe(true);
    // A segment-ending * may stand for several segments: region and account here.
    expect(resourceMatches("arn:aws:sqs:*:queue1", "arn:aws:sqs:us-east-1:111122223333:queue1")).toBe(true);
    expect(
      resourceMatches("arn:aws:sqs:us-*-1:111122223333:queue1", "arn:aws:sqs:us-east-1:111122223333:queue1"),
    ).toBe(true);
    expect(
      resourceMatches("arn:aws:sqs:us-*1:111122223333:queue1", "arn:aws:sqs:us-east-1:111122223333:queue1"),
    ).toBe(true);
    // …but a * inside a segment does not cross a colon.
    expect(resourceMatches("arn:aws:sqs:us*east-1:queue1", "arn:aws:sqs:us-east-1:111122223333:queue1")).toBe(
      false,
    );
    expect(resourceMatches("arn:aws:iam::111122223333?role/A", role("A"))).toBe(false);
    expect(resourceMatches("arn:aws:iam::111122223333", role("A"))).toBe(false);
  });

  it("the service segment takes no wildcards", () => {
    expect(
      resourceMatches(
        "arn:aws:*:us-east-1:111122223333:thing/x",
        "arn:aws:sqs:us-east-1:111122223333:thing/x",
      ),
    ).toBe(false);
    expect(resourceMatches("arn:aws:i?m::111122223333:role/A", role("A"))).toBe(false);
    expect(resourceMatches("arn:aws:*", role("A"))).toBe(false);
  });

  it("partitions are segments like the others", () => {
    const gov = "arn:aws-us-gov:iam::111122223333:role/A";
    expect(resourceMatches(gov, gov)).toBe(true);
    expect(resourceMatches(role("A"), gov)).toBe(false);
    expect(resourceMatches("arn:*:iam::111122223333:role/A", gov)).toBe(true);
  });

  it("colons inside the resource part are part of it", () => {
    const logs = "arn:aws:logs:us-east-1:111122223333:log-group:app:log-stream:s1";
    expect(resourceMatches("arn:aws:logs:us-east-1:111122223333:log-group:app:*", logs)).toBe(true);
    expect(resourceMatches("arn:aws:logs:us-east-1:111122223333:log-group:other:*", logs)).toBe(false);
  });
});
