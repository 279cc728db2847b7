import { describe, expect, it } from "vitest";
import { evaluateIdentity } from "./evaluate-identity.ts";

const ACCT = "111122223333";
const role = (name: string, acct = ACCT) => `arn:aws:iam::${acct}:role/${name}`;
const policy = (id: string, ...Statement: unknown[]) => ({
  id,
  document: { Version: "2012-10-17", Statement },
});
const st = (Effect: string, Action: unknown, Resource: unknown, extra: object = {}) => ({
  Effect,
  Action,
  Resource,
  ...extra,
});
const assume = (
  policies: ReturnType<typeof policy>[],
  resource = role("Admin"),
  boundary?: ReturnType<typeof policy>,
) => evaluateIdentity({ policies, boundary: boundary ?? null, action: "sts:AssumeRole", resource });
const MFA = { Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } } };

describe("evaluateIdentity", () => {
  it("nothing allows: implicit deny", () => {
    expect(assume([])).toEqual({ effect: "implicit-deny", conditional: false, matched: [] });
    expect(assume([policy("p", st("Allow", "s3:*", "*"))])).toMatchObject({ effect: "implicit-deny" });
    expect(assume([policy("p", st("Allow", "sts:AssumeRole", role("Other")))])).toMatchObject({
      effect: "implicit-deny",
    });
  });

  it("an Allow on a matching action and resource allows, naming the statement", () => {
    const p = policy("arn:aws:iam::aws:policy/AdministratorAccess", { Sid: "All", ...st("Allow", "*", "*") });
    expect(assume([p])).toEqual({
      effect: "allow",
      conditional: false,
      matched: [
        {
          policyId: "arn:aws:iam::aws:policy/AdministratorAccess",
          statement: 0,
          sid: "All",
          effect: "Allow",
        },
      ],
    });
  });

  it.each([
    ["sts:AssumeRole", role("*")],
    ["STS:Assume*", `arn:aws:iam::${ACCT}:role/*`],
    ["sts:*", "arn:aws:iam::*:role/Admin?"],
    [
      ["iam:PassRole", "sts:AssumeRole"],
      [role("Other"), role("Admin1")],
    ],
  ])("Action %j on Resource %j", (action, resource) =>
    expect(assume([policy("p", st("Allow", action, resource))], role("Admin1")).effect).toBe("allow"),
  );

  it("NotAction and NotResource", () => {
    const notIam = policy("p", { Effect: "Allow", NotAction: "iam:*", Resource: "*" });
    expect(assume([notIam]).effect).toBe("allow");
    const notSts = policy("p", { Effect: "Allow", NotAction: "sts:*", Resource: "*" });
    expect(assume([notSts]).effect).toBe("implicit-deny");
    const butAdmin = policy("p", { Effect: "Allow", Action: "sts:AssumeRole", NotResource: role("Admin") });
    expect(assume([butAdmin], role("Admin")).effect).toBe("implicit-deny");
    expect(assume([butAdmin], role("ReadOnly")).effect).toBe("allow");
  });

  it("an explicit Deny in any policy wins over any Allow", () => {
    const r = assume([
      policy("allow-all", st("Allow", "*", "*")),
      policy("no-admin", st("Allow", "s3:*", "*"), {
        Sid: "NoAdmin",
        ...st("Deny", "sts:AssumeRole", role("Admin")),
      }),
    ]);
    expect(r).toEqual({
      effect: "deny",
      conditional: false,
      matched: [{ policyId: "no-admin", statement: 1, sid: "NoAdmin", effect: "Deny" }],
    });
  });

  it("a Deny with NotResource denies everything else", () => {
    const only = policy("p", st("Allow", "*", "*"), {
      Effect: "Deny",
      Action: "sts:*",
      NotResource: role("Dev*"),
    });
    expect(assume([only], role("Admin")).effect).toBe("deny");
    expect(assume([only], role("Developer")).effect).toBe("allow");
  });

  it("the boundary must allow too", () => {
    const id = [policy("p", st("Allow", "sts:AssumeRole", "*"))];
    expect(assume(id, role("Admin"), policy("b", st("Allow", "s3:*", "*")))).toEqual({
      effect: "implicit-deny",
      conditional: false,
      matched: [],
    });
    expect(assume(id, role("Admin"), policy("b", st("Allow", "sts:*", role("*"))))).toEqual({
      effect: "allow",
      conditional: false,
      matched: [
        { policyId: "p", statement: 0, effect: "Allow" },
        { policyId: "b", statement: 0, effect: "Allow" },
      ],
    });
    // A boundary alone grants nothing.
    expect(assume([], role("Admin"), policy("b", st("Allow", "*", "*"))).effect).toBe("implicit-deny");
  });

  it("a Deny in the boundary wins", () => {
    const b = policy("b", st("Allow", "*", "*"), st("Deny", "sts:AssumeRole", role("Admin")));
    expect(assume([policy("p", st("Allow", "*", "*"))], role("Admin"), b)).toMatchObject({
      effect: "deny",
      matched: [{ policyId: "b", statement: 1, effect: "Deny" }],
    });
  });

  it("an Allow under a Condition allows conditionally; an unconditional one anywhere settles it", () => {
    const cond = policy("c", st("Allow", "sts:AssumeRole", "*", MFA));
    expect(assume([cond])).toEqual({
      effect: "allow",
      conditional: true,
      matched: [{ policyId: "c", statement: 0, effect: "Allow" }],
    });
    expect(assume([cond, policy("u", st("Allow", "sts:AssumeRole", "*"))])).toMatchObject({
      effect: "allow",
      conditional: false,
    });
    // …but a conditional boundary still makes it conditional.
    expect(assume([policy("u", st("Allow", "*", "*"))], role("Admin"), cond)).toMatchObject({
      effect: "allow",
      conditional: true,
    });
  });

  it("a Deny under a Condition does not deny but makes the allow conditional", () => {
    const r = assume([
      policy(
        "p",
        st("Allow", "*", "*"),
        st("Deny", "sts:AssumeRole", "*", { Condition: { Bool: { "aws:SecureTransport": "false" } } }),
      ),
    ]);
    expect(r).toEqual({
      effect: "allow",
      conditional: true,
      matched: [
        { policyId: "p", statement: 0, effect: "Allow" },
        { policyId: "p", statement: 1, effect: "Deny" },
      ],
    });
  });

  it("unreadable policies and statements without Resource count for nothing", () => {
    expect(
      evaluateIdentity({
        policies: [
          { id: "junk", document: "{" },
          { id: "null", document: null },
          policy("nores", { Effect: "Allow", Action: "*" }),
        ],
        action: "sts:AssumeRole",
        resource: role("Admin"),
      }).effect,
    ).toBe("implicit-deny");
    expect(
      evaluateIdentity({
        policies: [
          { id: "text", document: JSON.stringify({ Statement: st("Allow", "sts:AssumeRole", "*") }) },
        ],
        action: "sts:AssumeRole",
        resource: role("Admin"),
      }).effect,
    ).toBe("allow");
  });
});
