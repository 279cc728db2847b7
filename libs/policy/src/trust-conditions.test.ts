import { describe, expect, it } from "vitest";
import { evaluateTrust } from "./evaluate-trust.ts";
import { trustConditions } from "./trust-conditions.ts";

describe("trustConditions: known keys pulled out, the rest verbatim", () => {
  it.each<[string, Record<string, Record<string, string | string[]>>, object]>([
    ["sts:ExternalId", { StringEquals: { "sts:ExternalId": "vendor-42" } }, { externalId: ["vendor-42"] }],
    [
      "aws:PrincipalOrgID",
      { StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } },
      { principalOrgId: ["o-a1b2c3d4e5"] },
    ],
    ["aws:MultiFactorAuthPresent (Bool)", { Bool: { "aws:MultiFactorAuthPresent": "true" } }, { mfa: true }],
    [
      "aws:MultiFactorAuthPresent (BoolIfExists)",
      { BoolIfExists: { "aws:MultiFactorAuthPresent": "false" } },
      { mfa: false },
    ],
    [
      "SAML:aud",
      { StringEquals: { "SAML:aud": "https://signin.aws.amazon.com/saml" } },
      { samlAud: ["https://signin.aws.amazon.com/saml"] },
    ],
    [
      "a GovCloud SAML:aud",
      { StringEquals: { "SAML:aud": "https://signin.amazonaws-us-gov.com/saml" } },
      { samlAud: ["https://signin.amazonaws-us-gov.com/saml"] },
    ],
    [
      "aws:SourceArn",
      { ArnLike: { "aws:SourceArn": "arn:aws:s3:::bucket" } },
      { sourceArn: ["arn:aws:s3:::bucket"] },
    ],
    [
      "aws:SourceAccount",
      { StringEquals: { "aws:SourceAccount": "111122223333" } },
      { sourceAccount: ["111122223333"] },
    ],
    [
      "an OIDC provider's aud and sub",
      {
        StringEquals: { "token.actions.githubusercontent.com:aud": "sts.amazonaws.com" },
        StringLike: {
          "token.actions.githubusercontent.com:sub": ["repo:acme/a:*", "repo:acme/b:ref:refs/heads/main"],
        },
      },
      {
        oidc: [
          {
            provider: "token.actions.githubusercontent.com",
            aud: ["sts.amazonaws.com"],
            sub: ["repo:acme/a:*", "repo:acme/b:ref:refs/heads/main"],
          },
        ],
      },
    ],
    [
      "an EKS OIDC provider",
      { StringEquals: { "oidc.eks.eu-west-1.amazonaws.com/id/ABC123:sub": "system:serviceaccount:ns:sa" } },
      {
        oidc: [
          { provider: "oidc.eks.eu-west-1.amazonaws.com/id/ABC123", sub: ["system:serviceaccount:ns:sa"] },
        ],
      },
    ],
    [
      "any other key",
      { ArnLike: { "aws:PrincipalArn": "arn:aws:iam::111122223333:role/ci-*" } },
      {
        other: [
          { operator: "ArnLike", key: "aws:PrincipalArn", values: ["arn:aws:iam::111122223333:role/ci-*"] },
        ],
      },
    ],
  ])("%s", (_, condition, expected) => expect(trustConditions(condition)).toEqual(expected));

  it("condition keys are case-insensitive", () => {
    expect(
      trustConditions({
        StringEquals: {
          "STS:EXTERNALID": "x",
          "saml:AUD": "a",
          "Token.Actions.GitHubUserContent.com:SUB": "s",
        },
        bool: { "aws:multifactorauthpresent": "true" },
      }),
    ).toEqual({
      externalId: ["x"],
      samlAud: ["a"],
      oidc: [{ provider: "Token.Actions.GitHubUserContent.com", sub: ["s"] }],
      mfa: true,
    });
  });

  it("negated and IfExists string operators say something else: kept verbatim", () => {
    expect(
      trustConditions({
        StringNotEquals: { "sts:ExternalId": "old" },
        StringEqualsIfExists: { "aws:PrincipalOrgID": "o-1" },
        StringNotLike: { "token.actions.githubusercontent.com:sub": "repo:evil/*" },
      }),
    ).toEqual({
      other: [
        { operator: "StringNotEquals", key: "sts:ExternalId", values: ["old"] },
        { operator: "StringEqualsIfExists", key: "aws:PrincipalOrgID", values: ["o-1"] },
        {
          operator: "StringNotLike",
          key: "token.actions.githubusercontent.com:sub",
          values: ["repo:evil/*"],
        },
      ],
    });
  });

  it("non-string values are carried as strings; no Condition is null", () => {
    expect(trustConditions({ NumericLessThan: { "aws:MultiFactorAuthAge": "3600" } })).toEqual({
      other: [{ operator: "NumericLessThan", key: "aws:MultiFactorAuthAge", values: ["3600"] }],
    });
    expect(trustConditions(undefined)).toBeNull();
    expect(trustConditions({})).toBeNull();
  });

  it("evaluateTrust carries them on the grant (booleans and numbers in the JSON too)", () => {
    const [t] = evaluateTrust({
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: "arn:aws:iam::444455556666:root" },
          Action: "sts:AssumeRole",
          Condition: {
            StringEquals: { "sts:ExternalId": "vendor-42", "aws:PrincipalOrgID": "o-a1b2c3d4e5" },
            Bool: { "aws:MultiFactorAuthPresent": true },
            NumericLessThan: { "aws:MultiFactorAuthAge": 3600 },
          },
        },
      ],
    }).trusted;
    expect(t).toMatchObject({
      conditional: true,
      conditions: {
        externalId: ["vendor-42"],
        principalOrgId: ["o-a1b2c3d4e5"],
        mfa: true,
        other: [{ operator: "NumericLessThan", key: "aws:MultiFactorAuthAge", values: ["3600"] }],
      },
    });
  });

  it("a service trust with confused-deputy keys", () => {
    const [t] = evaluateTrust({
      Statement: {
        Effect: "Allow",
        Principal: { Service: "config.amazonaws.com" },
        Action: "sts:AssumeRole",
        Condition: {
          StringEquals: { "aws:SourceAccount": "111122223333" },
          ArnLike: { "aws:SourceArn": "arn:aws:config:us-east-1:111122223333:*" },
        },
      },
    }).trusted;
    expect(t?.conditions).toEqual({
      sourceAccount: ["111122223333"],
      sourceArn: ["arn:aws:config:us-east-1:111122223333:*"],
    });
  });
});
