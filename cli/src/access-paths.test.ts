import { describe, expect, it } from "vitest";
import type { AccessPath, PathGrant } from "@grantline/db";
import { refText, stepText, structuredPath } from "./access-paths.ts";

const ROLE = "arn:aws:iam::111111111111:role/deploy";
const USER = "arn:aws:iam::222222222222:user/ci";

function pathGrant(over: Partial<PathGrant>): PathGrant {
  return {
    grant_id: "g",
    entitlement_id: `iam_role:${ROLE}:assignment`,
    resource_type: "iam_role",
    resource_id: ROLE,
    resource_name: "deploy",
    slug: "assignment",
    entitlement_name: "Can assume the deploy role",
    entitlement_attrs: {},
    principal_type: "iam_user",
    principal_id: USER,
    principal_name: "ci",
    attrs: {},
    via_entitlement_name: null,
    ...over,
  };
}

function pathOf(grants: PathGrant[]): AccessPath {
  return {
    principal_type: "iam_user",
    principal_id: USER,
    principal_name: "ci",
    resource_type: "iam_role",
    resource_id: ROLE,
    resource_name: "deploy",
    slug: "assignment",
    entitlement_id: `iam_role:${ROLE}:assignment`,
    entitlement_name: "Can assume the deploy role",
    via_type: null,
    via_id: null,
    depth: grants.length - 1,
    path: [],
    conditional: false,
    derived_from: null,
    active: true,
    grants,
  };
}

describe("access paths", () => {
  it("reads an account-trust grant's statements, and keeps the rest when one attr has an unexpected shape", () => {
    const via = { trust: { statements: [2] }, identity: [{ policyId: "p", statement: 0, sid: "S" }] };
    const good = structuredPath(
      pathOf([pathGrant({ attrs: { derivedFrom: "account-trust", trustedAccount: "222222222222", via } })]),
    );
    expect(good.steps).toEqual([
      expect.objectContaining({
        kind: "account-trust",
        trustStatements: [2],
        identityStatements: [{ policyId: "p", statement: 0, sid: "S" }],
      }),
    ]);
    expect(stepText(good.steps[0]!)).toBe(
      "ci (iam_user in 222222222222) may assume deploy (iam_role in 111111111111): its trust policy trusts account 222222222222 (statement 2) and identity policy p statement 0 (S) allows sts:AssumeRole on it",
    );
    const odd = structuredPath(
      pathOf([
        pathGrant({ attrs: { derivedFrom: "account-trust", trustedAccount: "222222222222", via: 7 } }),
      ]),
    );
    expect(odd.steps[0]).toMatchObject({
      kind: "account-trust",
      trustedAccount: "222222222222",
      trustStatements: [],
    });
  });

  it("orders steps from the principal to the target (grants come target first)", () => {
    const chain = structuredPath(
      pathOf([
        pathGrant({
          grant_id: "on-target",
          principal_type: "iam_role",
          principal_id: "arn:aws:iam::1:role/mid",
        }),
        pathGrant({ grant_id: "held", resource_id: "arn:aws:iam::1:role/mid", resource_name: "mid" }),
      ]),
    );
    expect(chain.steps.map((s) => s.grantId)).toEqual(["held", "on-target"]);
  });

  it("names a principal by name and account, an unnamed one by its id", () => {
    expect(refText({ type: "iam_role", id: ROLE, name: "deploy" })).toBe("deploy (iam_role in 111111111111)");
    expect(refText({ type: "sso_user", id: "u-1", name: "ann" })).toBe("ann (sso_user u-1)");
    expect(refText({ type: "aws_account", id: "222222222222", name: null })).toBe("aws_account 222222222222");
  });
});
