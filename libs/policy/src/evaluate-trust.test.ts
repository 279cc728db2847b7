import { describe, expect, it } from "vitest";
import { evaluateTrust, type TrustedPrincipal } from "./evaluate-trust.ts";
import { ACCT, OTHER, allow, arn, doc, who } from "./trust-policy.fixture.ts";

const SSO_PROVIDER = arn("saml-provider/AWSSSO_0a1b2c3d4e5f6789_DO_NOT_DELETE");
/** The trust AWS writes on every Identity Center AWSReservedSSO_* role (aws-access-semantics §3). */
const identityCenterTrust = doc({
  Effect: "Allow",
  Principal: { Federated: SSO_PROVIDER },
  Action: ["sts:AssumeRoleWithSAML", "sts:TagSession"],
  Condition: { StringEquals: { "SAML:aud": "https://signin.aws.amazon.com/saml" } },
});
const GITHUB = arn("oidc-provider/token.actions.githubusercontent.com");
const githubTrust = doc({
  Effect: "Allow",
  Principal: { Federated: GITHUB },
  Action: "sts:AssumeRoleWithWebIdentity",
  Condition: {
    StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
    StringLike: { "token.actions.githubusercontent.com:sub": "repo:acme/deploy:*" },
  },
});

describe("evaluateTrust: principal forms", () => {
  it.each<[string, unknown, [string, string, boolean]]>([
    ["a bare account id", { AWS: OTHER }, ["aws_account", OTHER, false]],
    ["an account root ARN", { AWS: arn("root", OTHER) }, ["aws_account", OTHER, false]],
    ["a GovCloud root ARN", { AWS: `arn:aws-us-gov:iam::${OTHER}:root` }, ["aws_account", OTHER, false]],
    ["a China root ARN", { AWS: `arn:aws-cn:iam::${OTHER}:root` }, ["aws_account", OTHER, false]],
    ["a user ARN", { AWS: arn("user/ops/alice") }, ["iam_user", arn("user/ops/alice"), false]],
    ["a role ARN (expandable)", { AWS: arn("role/deployer") }, ["iam_role", arn("role/deployer"), true]],
    [
      "a GovCloud role ARN",
      { AWS: `arn:aws-us-gov:iam::${ACCT}:role/x` },
      ["iam_role", `arn:aws-us-gov:iam::${ACCT}:role/x`, true],
    ],
    [
      "an assumed-role session",
      { AWS: `arn:aws:sts::${ACCT}:assumed-role/deployer/ci` },
      ["aws_principal", `arn:aws:sts::${ACCT}:assumed-role/deployer/ci`, false],
    ],
    [
      "a federated-user session",
      { AWS: `arn:aws:sts::${ACCT}:federated-user/bob` },
      ["aws_principal", `arn:aws:sts::${ACCT}:federated-user/bob`, false],
    ],
    // What AWS shows once the named role was deleted: kept as a (dead) grant, recognisable by its form.
    [
      "a unique id of a deleted role",
      { AWS: "AROAJQABLZS4A3QDU576Q" },
      ["aws_principal", "AROAJQABLZS4A3QDU576Q", false],
    ],
    [
      "a unique id of a deleted user",
      { AWS: "AIDAJQABLZS4A3QDU576Q" },
      ["aws_principal", "AIDAJQABLZS4A3QDU576Q", false],
    ],
    ["Principal *", "*", ["wildcard", "*", false]],
    ["AWS *", { AWS: "*" }, ["wildcard", "*", false]],
    ["a service", { Service: "ec2.amazonaws.com" }, ["aws_service", "ec2.amazonaws.com", false]],
  ])("%s", (_, principal, [type, id, expandable]) => {
    const { trusted, problems } = evaluateTrust(doc(allow(principal)));
    expect(problems).toEqual([]);
    expect(trusted).toEqual<TrustedPrincipal[]>([
      {
        principalType: type as TrustedPrincipal["principalType"],
        principalId: id,
        expandable,
        actions: ["sts:AssumeRole"],
        conditions: null,
        conditional: false,
        statements: [0],
      },
    ]);
  });

  it("values in one Principal are ORed, across AWS and Service", () => {
    expect(
      who(
        doc(
          allow({
            AWS: [arn("role/a"), OTHER],
            Service: ["lambda.amazonaws.com", "ecs-tasks.amazonaws.com"],
          }),
        ),
      ),
    ).toEqual([
      ["iam_role", arn("role/a"), ["sts:AssumeRole"]],
      ["aws_account", OTHER, ["sts:AssumeRole"]],
      ["aws_service", "lambda.amazonaws.com", ["sts:AssumeRole"]],
      ["aws_service", "ecs-tasks.amazonaws.com", ["sts:AssumeRole"]],
    ]);
  });

  it("CanonicalUser matches nothing and is reported", () => {
    const r = evaluateTrust(doc(allow({ CanonicalUser: "79a59df900b949e55d96a1e698fbaced" })));
    expect(r.trusted).toEqual([]);
    expect(r.problems).toEqual([
      "statement 0: CanonicalUser 79a59df900b949e55d96a1e698fbaced matches no IAM principal",
    ]);
  });
});

describe("evaluateTrust: assume actions", () => {
  it("the Identity Center reserved-role trust: a federated SAML grant with its SAML:aud", () => {
    expect(evaluateTrust(identityCenterTrust)).toEqual({
      trusted: [
        {
          principalType: "federated",
          principalId: SSO_PROVIDER,
          expandable: false,
          actions: ["sts:AssumeRoleWithSAML"],
          conditions: { samlAud: ["https://signin.aws.amazon.com/saml"] },
          conditional: true,
          statements: [0],
        },
      ],
      problems: [],
    });
  });

  it("a GitHub OIDC trust: WebIdentity for the provider, aud and sub carried", () => {
    const [t] = evaluateTrust(githubTrust).trusted;
    expect(t).toMatchObject({
      principalType: "federated",
      principalId: GITHUB,
      actions: ["sts:AssumeRoleWithWebIdentity"],
      conditional: true,
      conditions: {
        oidc: [
          {
            provider: "token.actions.githubusercontent.com",
            aud: ["sts.amazonaws.com"],
            sub: ["repo:acme/deploy:*"],
          },
        ],
      },
    });
  });

  it.each(["cognito-identity.amazonaws.com", "accounts.google.com", "graph.facebook.com", "www.amazon.com"])(
    "%s is a WebIdentity provider",
    (p) =>
      expect(who(doc(allow({ Federated: p }, "sts:AssumeRoleWithWebIdentity")))).toEqual([
        ["federated", p, ["sts:AssumeRoleWithWebIdentity"]],
      ]),
  );

  it("each kind of principal gets only the assume action it can call", () => {
    const d = doc(
      allow({ AWS: arn("role/a"), Service: "ec2.amazonaws.com", Federated: [SSO_PROVIDER, GITHUB] }, "sts:*"),
    );
    expect(who(d)).toEqual([
      ["iam_role", arn("role/a"), ["sts:AssumeRole"]],
      ["aws_service", "ec2.amazonaws.com", ["sts:AssumeRole"]],
      ["federated", SSO_PROVIDER, ["sts:AssumeRoleWithSAML"]],
      ["federated", GITHUB, ["sts:AssumeRoleWithWebIdentity"]],
    ]);
    // A SAML provider offered only AssumeRole (or an AWS principal only SAML) gains nothing.
    expect(who(doc(allow({ Federated: SSO_PROVIDER }, "sts:AssumeRole")))).toEqual([]);
    expect(who(doc(allow({ AWS: arn("role/a") }, "sts:AssumeRoleWithSAML")))).toEqual([]);
  });

  it.each([
    ["sts:*"],
    ["*"],
    ["sts:Assume*"],
    ["STS:assumerole"],
    ["sts:AssumeRol?"],
    [["sts:TagSession", "sts:AssumeRole"]],
  ])("Action %j covers AssumeRole", (action) =>
    expect(who(doc(allow({ AWS: OTHER }, action)))).toEqual([["aws_account", OTHER, ["sts:AssumeRole"]]]),
  );

  it.each([["sts:TagSession"], ["sts:SetSourceIdentity"], ["iam:*"], ["sts:AssumeRoleWith*"]])(
    "Action %j does not",
    (action) => expect(who(doc(allow({ AWS: OTHER }, action)))).toEqual([]),
  );

  it("NotAction with Allow allows every assume action not listed", () => {
    const d = doc({
      Effect: "Allow",
      Principal: { AWS: OTHER, Federated: SSO_PROVIDER },
      NotAction: "sts:AssumeRoleWithSAML",
    });
    expect(who(d)).toEqual([["aws_account", OTHER, ["sts:AssumeRole"]]]);
    const all = doc({ Effect: "Allow", Principal: { AWS: OTHER }, NotAction: "iam:*" });
    expect(who(all)).toEqual([["aws_account", OTHER, ["sts:AssumeRole"]]]);
  });
});

describe("evaluateTrust: merging duplicates", () => {
  it("one principal in several statements: actions and statements unioned", () => {
    const d = doc(
      allow({ AWS: arn("role/a") }, "sts:TagSession"),
      allow({ Federated: "arn:aws:iam::111122223333:saml-provider/okta" }, "sts:AssumeRoleWithSAML"),
      allow({ Federated: "arn:aws:iam::111122223333:saml-provider/okta" }, "sts:AssumeRole*"),
      allow({ AWS: [arn("role/a"), arn("role/a")] }),
    );
    expect(evaluateTrust(d).trusted.map((t) => [t.principalId, t.actions, t.statements])).toEqual([
      ["arn:aws:iam::111122223333:saml-provider/okta", ["sts:AssumeRoleWithSAML"], [1, 2]],
      [arn("role/a"), ["sts:AssumeRole"], [3]],
    ]);
  });

  it("an unconditional Allow is enough: not conditional, no conditions", () => {
    const d = doc(
      allow({ AWS: OTHER }, "sts:AssumeRole", { Condition: { StringEquals: { "sts:ExternalId": "x1" } } }),
      allow({ AWS: arn("root", OTHER) }),
    );
    expect(evaluateTrust(d).trusted).toEqual([
      expect.objectContaining({
        principalId: OTHER,
        conditional: false,
        conditions: null,
        statements: [0, 1],
      }),
    ]);
  });

  it("every granting statement conditional: their conditions together", () => {
    const d = doc(
      allow({ AWS: OTHER }, "sts:AssumeRole", { Condition: { StringEquals: { "sts:ExternalId": "x1" } } }),
      allow({ AWS: OTHER }, "sts:AssumeRole", {
        Condition: { StringEquals: { "sts:ExternalId": ["x2", "x1"] } },
      }),
    );
    expect(evaluateTrust(d).trusted).toEqual([
      expect.objectContaining({
        conditional: true,
        conditions: { externalId: ["x1", "x2"] },
        statements: [0, 1],
      }),
    ]);
  });
});

describe("evaluateTrust: invalid documents", () => {
  it("null, unparseable JSON and non-policies grant nothing", () => {
    expect(evaluateTrust(null)).toEqual({ trusted: [], problems: [] });
    const bad = evaluateTrust("{not json");
    expect(bad.trusted).toEqual([]);
    expect(bad.problems[0]).toMatch(/^policy is not JSON/);
    expect(evaluateTrust("[1]")).toEqual({ trusted: [], problems: ["policy is not a JSON object"] });
    expect(evaluateTrust({ Version: "2012-10-17" })).toEqual({
      trusted: [],
      problems: ["policy has no Statement"],
    });
  });

  it("a JSON string and a single statement object are accepted", () => {
    const text = JSON.stringify({
      Statement: { Effect: "Allow", Principal: { AWS: OTHER }, Action: "sts:AssumeRole" },
    });
    expect(who(text)).toEqual([["aws_account", OTHER, ["sts:AssumeRole"]]]);
  });

  it("a bad statement is reported and skipped; the others still count", () => {
    const r = evaluateTrust(
      doc(
        { Effect: "Permit", Principal: { AWS: OTHER }, Action: "sts:AssumeRole" },
        { Effect: "Allow", Principal: { AWS: OTHER } },
        { Effect: "Allow", Action: "sts:AssumeRole" },
        { Effect: "Allow", NotPrincipal: { AWS: OTHER }, Action: "sts:AssumeRole" },
        { Effect: "Allow", Principal: { AWS: 42 }, Action: "sts:AssumeRole" },
        allow({ AWS: arn("role/ok") }),
      ),
    );
    expect(r.trusted.map((t) => [t.principalId, t.statements])).toEqual([[arn("role/ok"), [5]]]);
    // Shape errors are found while parsing, before the trust rules run: compared in statement order.
    const problems = [...r.problems].sort();
    expect(problems).toHaveLength(5);
    expect(problems[0]).toMatch(/^statement 0: Effect/);
    expect(problems[1]).toBe("statement 1: no Action or NotAction");
    expect(problems[2]).toBe("statement 2: a trust policy statement needs a Principal");
    expect(problems[3]).toBe(
      "statement 3: NotPrincipal is only allowed with Deny; the statement grants nothing",
    );
    expect(problems[4]).toMatch(/^statement 4: Principal/);
  });
});
