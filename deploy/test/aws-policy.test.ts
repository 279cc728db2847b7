// The AWS policies in deploy/aws against what the fetcher actually calls (libs/aws OPERATIONS).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OPERATIONS } from "@grantline/aws";
import { repoRoot } from "./k8s-render.ts";

interface Policy {
  Version: string;
  Statement: Array<{ Sid: string; Effect: string; Action: string | string[]; Resource: string | string[] }>;
}
const policy = (name: string): Policy =>
  JSON.parse(readFileSync(join(repoRoot, "deploy/aws", name), "utf8")) as Policy;
const actions = (p: Policy): string[] => p.Statement.flatMap((s) => [s.Action].flat());

// IAM prefixes of the executor's service names; the composite DescribePermissionSet makes three more calls.
const PREFIX: Record<string, string> = {
  organizations: "organizations",
  "sso-admin": "sso",
  identitystore: "identitystore",
  iam: "iam",
  cloudtrail: "cloudtrail",
};
const COMPOSITE = [
  "sso:ListManagedPoliciesInPermissionSet",
  "sso:ListCustomerManagedPolicyReferencesInPermissionSet",
  "sso:GetInlinePolicyForPermissionSet",
];

describe("least-privilege AWS policies", () => {
  const sync = policy("grantline-sync-policy.json");

  it("the sync policy allows every AWS operation the fetcher can call, and nothing it does not", () => {
    const needed = new Set(COMPOSITE);
    for (const spec of OPERATIONS.values()) {
      // GetCallerIdentity needs no permission.
      if (spec.service === "sts") continue;
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
    const iamModel = readFileSync(join(repoRoot, "libs/model/src/aws/iam.ts"), "utf8");
    for (const op of [
      "GetAccountAuthorizationDetails",
      "ListAccessKeys",
      "GetAccessKeyLastUsed",
      "ListAccountAliases",
    ]) {
      expect(iamModel).toContain(`"${op}"`);
      expect(member).toContain(`iam:${op}`);
    }
    const provisioning = actions(policy("grantline-provisioning-policy.json"));
    expect(provisioning.some((a) => actions(sync).includes(a))).toBe(false);
    expect(provisioning).toContain("sso:CreateAccountAssignment");
  });
});
