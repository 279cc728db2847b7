import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { evaluateTrust } from "./evaluate-trust.ts";
import { fingerprint, fingerprintExternalIds } from "./fingerprint-external-ids.ts";

const trust = (condition: unknown) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { AWS: "arn:aws:iam::222233334444:root" },
        Action: "sts:AssumeRole",
        Condition: condition,
      },
    ],
  });

describe("fingerprintExternalIds", () => {
  it("replaces every sts:ExternalId value (any operator, any case, lists too) with sha256:<16 hex>", () => {
    const masked = fingerprintExternalIds(
      trust({
        StringEquals: { "sts:ExternalId": "vendor-42", "aws:PrincipalOrgID": "o-abc" },
        StringNotEquals: { "STS:EXTERNALID": ["a", "b", "vendor-42"] },
      }),
    );
    const doc = masked.document!;
    const hex = createHash("sha256").update("vendor-42").digest("hex").slice(0, 16);
    expect(fingerprint("vendor-42")).toBe(`sha256:${hex}`);
    expect(doc).not.toMatch(/vendor-42|"a"|"b"/);
    const c = (
      JSON.parse(doc) as { Statement: Array<{ Condition: Record<string, Record<string, unknown>> }> }
    ).Statement[0]!.Condition;
    expect(c.StringEquals).toEqual({ "sts:ExternalId": `sha256:${hex}`, "aws:PrincipalOrgID": "o-abc" });
    expect(c.StringNotEquals).toEqual({
      "STS:EXTERNALID": [fingerprint("a"), fingerprint("b"), `sha256:${hex}`],
    });
    // The values, each once, for the writer's table that the read-only role cannot read.
    expect(masked.externalIds).toEqual([
      { fingerprint: `sha256:${hex}`, value: "vendor-42" },
      { fingerprint: fingerprint("a"), value: "a" },
      { fingerprint: fingerprint("b"), value: "b" },
    ]);
    // The grant's structured conditions then carry the fingerprint.
    expect(evaluateTrust(doc).trusted[0]?.conditions?.externalId).toEqual([`sha256:${hex}`]);
  });

  it("leaves a document without an external id, or not JSON, as it is", () => {
    const plain = trust({ Bool: { "aws:MultiFactorAuthPresent": "true" } });
    expect(fingerprintExternalIds(plain)).toEqual({ document: plain, externalIds: [] });
    expect(fingerprintExternalIds("not json")).toEqual({ document: "not json", externalIds: [] });
    expect(fingerprintExternalIds(null)).toEqual({ document: null, externalIds: [] });
  });
});
