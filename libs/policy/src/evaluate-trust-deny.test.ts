// The Deny side of trust evaluation (aws-access-semantics §1): explicit Deny wins, NotPrincipal denies everyone
// unlisted, a Deny with a Condition only makes the grant conditional; and trustDenies for concrete principals.
import { describe, expect, it } from "vitest";
import { evaluateTrust, trustDenies } from "./evaluate-trust.ts";
import { ACCT, OTHER, allow, arn, deny, doc, who } from "./trust-policy.fixture.ts";

const SAML = arn("saml-provider/okta");
const MFA_ABSENT = { Condition: { BoolIfExists: { "aws:MultiFactorAuthPresent": "false" } } };

describe("evaluateTrust: Deny", () => {
  it("a Deny naming the same principal removes it; the others stay", () => {
    const d = doc(allow({ AWS: [arn("role/a"), arn("user/bob")] }), deny({ AWS: arn("role/a") }));
    expect(who(d)).toEqual([["iam_user", arn("user/bob"), ["sts:AssumeRole"]]]);
  });

  it("a Deny naming the principal's account (id or root ARN) removes it", () => {
    const grants = allow({ AWS: [arn("role/a", OTHER), arn("user/bob"), OTHER] });
    expect(who(doc(grants, deny({ AWS: OTHER })))).toEqual([
      ["iam_user", arn("user/bob"), ["sts:AssumeRole"]],
    ]);
    expect(who(doc(grants, deny({ AWS: arn("root", OTHER) })))).toEqual([
      ["iam_user", arn("user/bob"), ["sts:AssumeRole"]],
    ]);
  });

  it("a Deny to * removes everyone, federated and services included", () => {
    const d = doc(
      allow({ AWS: OTHER, Service: "ec2.amazonaws.com", Federated: SAML }, "sts:*"),
      deny("*", "sts:*"),
    );
    expect(who(d)).toEqual([]);
    expect(who(doc(allow({ Federated: SAML }, "sts:AssumeRoleWithSAML"), deny({ AWS: "*" }, "*")))).toEqual(
      [],
    );
  });

  it("a Deny only removes the actions it covers", () => {
    const d = doc(allow({ Federated: SAML, AWS: OTHER }, "sts:*"), deny("*", "sts:AssumeRoleWithSAML"));
    expect(who(d)).toEqual([["aws_account", OTHER, ["sts:AssumeRole"]]]);
    // Wildcards and case count for Deny as for Allow.
    expect(who(doc(allow({ AWS: OTHER }), deny({ AWS: OTHER }, "STS:Assume*")))).toEqual([]);
  });

  it("a Deny with NotAction denies every action not listed", () => {
    const d = doc(allow({ AWS: OTHER, Federated: SAML }, "sts:*"), {
      Effect: "Deny",
      Principal: "*",
      NotAction: "sts:AssumeRoleWithSAML",
    });
    expect(who(d)).toEqual([["federated", SAML, ["sts:AssumeRoleWithSAML"]]]);
  });

  it("a Deny naming a user leaves the account grant (the account still reaches its other principals)", () => {
    const d = doc(allow({ AWS: OTHER }), deny({ AWS: arn("user/mallory", OTHER) }));
    expect(who(d)).toEqual([["aws_account", OTHER, ["sts:AssumeRole"]]]);
  });

  it("a Deny for another principal or another action changes nothing", () => {
    const d = doc(
      allow({ AWS: arn("role/a") }),
      deny({ AWS: arn("role/b") }),
      deny({ AWS: arn("role/a") }, "sts:TagSession"),
    );
    expect(evaluateTrust(d).trusted).toEqual([
      expect.objectContaining({ principalId: arn("role/a"), conditional: false }),
    ]);
  });

  it("a Deny with a Condition does not remove the principal but makes it conditional", () => {
    const d = doc(allow({ AWS: OTHER }), deny({ AWS: "*" }, "sts:AssumeRole", MFA_ABSENT));
    expect(evaluateTrust(d).trusted).toEqual([
      {
        principalType: "aws_account",
        principalId: OTHER,
        expandable: false,
        actions: ["sts:AssumeRole"],
        conditions: null,
        conditional: true,
        statements: [0],
      },
    ]);
  });

  it("Deny with NotPrincipal: only the listed principals survive", () => {
    const d = doc(allow({ AWS: [arn("role/a"), arn("role/b"), OTHER] }), {
      Effect: "Deny",
      NotPrincipal: { AWS: arn("role/a") },
      Action: "sts:AssumeRole",
    });
    expect(who(d)).toEqual([["iam_role", arn("role/a"), ["sts:AssumeRole"]]]);
  });

  it("Deny with NotPrincipal listing an account spares the principals in it", () => {
    const d = doc(allow({ AWS: [arn("role/a"), arn("role/x", OTHER), OTHER] }), {
      Effect: "Deny",
      NotPrincipal: { AWS: [OTHER] },
      Action: "sts:*",
    });
    expect(who(d)).toEqual([
      ["iam_role", arn("role/x", OTHER), ["sts:AssumeRole"]],
      ["aws_account", OTHER, ["sts:AssumeRole"]],
    ]);
  });

  it("an Allow to * cut by NotPrincipal leaves the listed principals as grants of their own", () => {
    const d = doc(allow("*"), {
      Effect: "Deny",
      NotPrincipal: { AWS: [arn("role/a"), arn("user/bob", OTHER)] },
      Action: "sts:AssumeRole",
    });
    expect(evaluateTrust(d).trusted).toEqual([
      expect.objectContaining({
        principalType: "iam_role",
        principalId: arn("role/a"),
        expandable: true,
        statements: [0],
      }),
      expect.objectContaining({
        principalType: "iam_user",
        principalId: arn("user/bob", OTHER),
        statements: [0],
      }),
    ]);
  });

  it("an account Allow cut by NotPrincipal leaves the listed principals of that account only", () => {
    const d = doc(allow({ AWS: OTHER }), {
      Effect: "Deny",
      NotPrincipal: { AWS: [arn("role/x", OTHER), arn("role/y")] },
      Action: "sts:AssumeRole",
    });
    expect(who(d)).toEqual([["iam_role", arn("role/x", OTHER), ["sts:AssumeRole"]]]);
  });

  it("a conditional NotPrincipal Deny makes the unlisted conditional instead", () => {
    const d = doc(allow({ AWS: [arn("role/a"), arn("role/b")] }), {
      Effect: "Deny",
      NotPrincipal: { AWS: arn("role/a") },
      Action: "sts:AssumeRole",
      ...MFA_ABSENT,
    });
    expect(evaluateTrust(d).trusted.map((t) => [t.principalId, t.conditional])).toEqual([
      [arn("role/a"), false],
      [arn("role/b"), true],
    ]);
  });

  it("a Deny without Principal is reported, not applied", () => {
    const r = evaluateTrust(doc(allow({ AWS: OTHER }), { Effect: "Deny", Action: "sts:AssumeRole" }));
    expect(r.trusted).toHaveLength(1);
    expect(r.problems).toEqual(["statement 1: a trust policy statement needs a Principal"]);
  });
});

describe("trustDenies: a concrete principal against the trust's Denies", () => {
  const bob = { arn: arn("user/bob", OTHER), accountId: OTHER };
  const role = { arn: arn("role/ci", OTHER), accountId: OTHER };

  it("no Deny: not denied", () => {
    expect(trustDenies(doc(allow({ AWS: OTHER })), bob)).toEqual({ denied: false, unconditional: false });
    expect(trustDenies(null, bob)).toEqual({ denied: false, unconditional: false });
  });

  it("denied by name (case-insensitively, as IAM names are unique), by account, or by *", () => {
    expect(trustDenies(doc(deny({ AWS: arn("user/Bob", OTHER) })), bob)).toEqual({
      denied: true,
      unconditional: true,
    });
    expect(trustDenies(doc(deny({ AWS: arn("root", OTHER) })), role)).toEqual({
      denied: true,
      unconditional: true,
    });
    expect(trustDenies(doc(deny({ AWS: OTHER })), role)).toEqual({ denied: true, unconditional: true });
    expect(trustDenies(doc(deny("*")), role)).toEqual({ denied: true, unconditional: true });
    expect(trustDenies(doc(deny({ AWS: arn("user/alice", OTHER) })), bob).denied).toBe(false);
    expect(trustDenies(doc(deny({ AWS: ACCT })), bob).denied).toBe(false);
  });

  it("NotPrincipal: denied unless listed", () => {
    const d = doc({
      Effect: "Deny",
      NotPrincipal: { AWS: [arn("role/ci", OTHER)] },
      Action: "sts:AssumeRole",
    });
    expect(trustDenies(d, bob)).toEqual({ denied: true, unconditional: true });
    expect(trustDenies(d, role)).toEqual({ denied: false, unconditional: false });
  });

  it("a conditional Deny denies, but not unconditionally", () => {
    expect(trustDenies(doc(deny({ AWS: OTHER }, "sts:AssumeRole", MFA_ABSENT)), bob)).toEqual({
      denied: true,
      unconditional: false,
    });
  });

  it("the action: AssumeRole by default, or the one asked about", () => {
    const d = doc(deny({ AWS: OTHER }, "sts:AssumeRoleWithWebIdentity"));
    expect(trustDenies(d, bob).denied).toBe(false);
    expect(trustDenies(d, { ...bob, action: "sts:AssumeRoleWithWebIdentity" }).denied).toBe(true);
  });
});
