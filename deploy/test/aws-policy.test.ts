// The AWS policies in deploy/aws against what the fetcher actually calls (libs/aws OPERATIONS).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { DESCRIBE_PERMISSION_SET_CALLS, IAM_REFRESH_CALLS, OPERATIONS } from "@grantline/aws";
import { OPERATIONS as CATALOG } from "@grantline/contracts";
import { repoRoot } from "./k8s-render.ts";

interface Policy {
  Version: string;
  Statement: Array<{ Sid: string; Effect: string; Action: string | string[]; Resource: string | string[] }>;
}
const policy = (name: string): Policy =>
  JSON.parse(readFileSync(join(repoRoot, "deploy/aws", name), "utf8")) as Policy;
const actions = (p: Policy): string[] => p.Statement.flatMap((s) => [s.Action].flat());

// IAM prefixes of the executor's service names; the composite DescribePermissionSet makes more calls than its own.
const PREFIX: Record<string, string> = {
  organizations: "organizations",
  "sso-admin": "sso",
  identitystore: "identitystore",
  iam: "iam",
  cloudtrail: "cloudtrail",
};
// The composites (DescribePermissionSet, the targeted iam Refresh*) make other calls than their own name.
const COMPOSITE = [
  ...DESCRIBE_PERMISSION_SET_CALLS.map((op) => `sso:${op}`),
  ...IAM_REFRESH_CALLS.map((op) => `iam:${op}`),
];
const isIamRefresh = (operation: string) => operation.startsWith("Refresh");

describe("least-privilege AWS policies", () => {
  const sync = policy("grantline-sync-policy.json");

  it("the sync policy allows every AWS operation the fetcher can call, and nothing it does not", () => {
    const needed = new Set(COMPOSITE);
    for (const spec of OPERATIONS.values()) {
      // GetCallerIdentity needs no permission.
      if (spec.service === "sts") continue;
      if (spec.service === "iam" && isIamRefresh(spec.operation)) continue;
      // PollFeeds is several LookupEvents calls (cloudtrail:LookupEvents, its own entry).
      if (spec.composite === "PollFeeds") continue;
      needed.add(`${PREFIX[spec.service]}:${spec.operation}`);
    }
    const allowed = actions(sync).filter((a) => a !== "sts:AssumeRole");
    expect([...needed].filter((a) => !allowed.includes(a))).toEqual([]);
    expect(allowed.filter((a) => !needed.has(a))).toEqual([]);
  });

  it("is read-only: no wildcard actions, no writes; AssumeRole only on the reader role", () => {
    for (const s of sync.Statement) {
      expect(s.Effect, s.Sid).toBe("Allow");
      for (const a of [s.Action].flat()) {
        expect(a, s.Sid).not.toContain("*");
        if (a === "sts:AssumeRole") expect(s.Resource).toBe("arn:aws:iam::*:role/grantline-reader");
        else expect(a.split(":")[1], a).toMatch(/^(List|Get|Describe|LookupEvents)/);
      }
    }
    expect(sync.Version).toBe("2012-10-17");
  });

  it("the member reader role covers the IAM calls made across accounts; provisioning stays separate", () => {
    const member = actions(policy("grantline-member-reader-policy.json"));
    // Every IAM page of the catalog is read in the account it describes (the request's accountId).
    const iamPages = [
      ...CATALOG.filter((o) => o.startsWith("iam.") && !isIamRefresh(o.slice(4))).map((o) =>
        o.replace(/^iam\./, "iam:"),
      ),
      ...IAM_REFRESH_CALLS.map((op) => `iam:${op}`),
    ];
    expect(iamPages).toContain("iam:GetAccountAuthorizationDetails");
    for (const action of iamPages) expect(member).toContain(action);
    // A member account's IAM feed reads its CloudTrail through the same role (docs/freshness.md).
    expect(member).toContain("cloudtrail:LookupEvents");
    const provisioning = actions(policy("grantline-provisioning-policy.json"));
    expect(provisioning.some((a) => actions(sync).includes(a))).toBe(false);
    // Every AWS call the provisioning executor makes (libs/aws create-assignment-executor, membership-changes).
    for (const a of [
      "sso:CreateAccountAssignment",
      "sso:DeleteAccountAssignment",
      "sso:DescribeAccountAssignmentCreationStatus",
      "sso:DescribeAccountAssignmentDeletionStatus",
      "identitystore:CreateGroupMembership",
      "identitystore:GetGroupMembershipId",
      "identitystore:DeleteGroupMembership",
      "iam:AddUserToGroup",
      "iam:RemoveUserFromGroup",
    ])
      expect(provisioning).toContain(a);
  });
});
